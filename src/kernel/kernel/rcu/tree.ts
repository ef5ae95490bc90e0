// RCU: kernel/rcu/tree.c (synchronize_rcu, call_rcu, call_rcu_hurry) together with the
// read-side inlines of include/linux/rcupdate.h (rcu_read_lock/unlock, rcu_read_lock_sched,
// rcu_dereference, rcu_assign_pointer) and, because they share the per-task state kept here,
// the preemption count of include/linux/preempt.h and __might_sleep() of kernel/sched/core.c.
// Trees: v5.1 .. newest. Since v5.0 (RCU flavour consolidation) a region with preemption, bottom
// halves or interrupts disabled is an RCU read-side critical section for synchronize_rcu() and
// call_rcu(); all modelled trees have that, so the model makes no per-tree difference here.
//
// The model. Every thread has a task record (its rcu_read_lock nesting and its preemption
// count), private to that thread. A thread is "in a read-side critical section" while either
// count is non-zero; each outermost section is an object of its own (rcu_read_section), which
// its first step creates and its last step writes. Grace periods are numbered (rcu_state.gp_seq,
// as in the kernel): a section's first step reads the number, a grace period's start writes it,
// so a section either began before the grace period (and is waited for) or after it (and is
// not). The end of a grace period reads exactly the sections it waits for. Nested entries and
// exits touch only the thread's own record and conflict with nothing: to a grace period a
// reader is only where its outermost section begins and ends. A grace period's start and a
// section's end commute (the grace period cannot end before either), so they do not conflict.
//
// Callbacks: call_rcu() queues the callback on the calling CPU's list (rdp->cblist), and that
// CPU invokes its callbacks in the order they were queued (rcu_core() -> rcu_do_batch(), in
// softirq context on the CPU): one thread per CPU with callbacks queued, bound to that CPU,
// invokes each once its grace period has ended, then the next. Callbacks of different CPUs
// run in any order. Approximations: each callback is a read-side section of its own (the
// kernel's batch runs with bottom halves disabled throughout); rcu_barrier() is not modelled.

import { type Access, awaitObserving, block, frame, type Gen, read, report, self, spawn, step, write, writeStoring } from '../../../engine/ops.js';
import { machine, smp_processor_id } from '../../machine.js';
import { printk } from '../printk.js';

/**
 * The per-task state that RCU and the scheduler's atomicity checks look at: the fields
 * rcu_read_lock_nesting of struct task_struct and the thread's preempt_count() (preemption,
 * bottom-half and interrupt disabling all count in it). Private to its own thread: it is not a
 * shared object; its outermost sections are (rcu_read_section).
 */
export class rcu_task {
  /** rcu_read_lock() nesting (current->rcu_read_lock_nesting). */
  rcu_read_lock_nesting = 0;
  /** preempt_count(): spin_lock, rcu_read_lock_sched, local_irq_save, RCU callback context. */
  preempt_count = 0;
  /** The outermost read-side section the task is in, if any. */
  section: rcu_read_section | null = null;
  /** The section the next outermost entry opens, made when that step is announced. */
  next_section: rcu_read_section | null = null;
  constructor(
    readonly tid: number,
    readonly comm: string,
  ) {}
}

/**
 * One outermost read-side critical section of a task, from its first rcu_read_lock() /
 * preempt_disable() to its last unlock: the shared object that grace periods wait on.
 */
export class rcu_read_section {
  open = false;
  constructor(readonly task: rcu_task) {}
}

/** The grace-period machinery's view (kernel/rcu/tree.c's struct rcu_state). */
export class rcu_state {
  /** rcu_state.gp_seq: how many grace periods have started. */
  gp_seq = 0;
  /** The shared word of gp_seq. */
  readonly gp_seq_word = { word: 'rcu_state.gp_seq' };
  /** Every task that has used RCU or preemption state, by thread id. */
  readonly tasks = new Map<number, rcu_task>();
  /** The sections in progress (what the grace-period machinery would find in its scan). */
  readonly open = new Set<rcu_read_section>();
}

function rcu_state_of(): rcu_state {
  return machine().global('rcu_state', () => new rcu_state());
}

/** A reader is in a read-side critical section. */
function in_reader(t: rcu_task): boolean {
  return t.rcu_read_lock_nesting > 0 || t.preempt_count > 0;
}

/** The running thread's task record. */
export function* current_task(): Gen<rcu_task> {
  const me = yield* self();
  const st = rcu_state_of();
  let t = st.tasks.get(me.tid);
  if (!t) st.tasks.set(me.tid, (t = new rcu_task(me.tid, me.name)));
  return t;
}

/** How a step changes the running task's read-side state. */
export type reader_change = 'rcu_read_lock' | 'rcu_read_unlock' | 'preempt_disable' | 'preempt_enable';

/**
 * The accesses a step must list when it makes `change` to the running task: nothing for a
 * nested entry or exit; for an outermost entry, a read of rcu_state.gp_seq and the new section;
 * for the exit that ends the outermost section, a write of that section. A step that leaves
 * the section only on one of its paths (percpu_ref_put_many() leaves it after the release when
 * the count reaches zero) says by `leaves`, asked when the step is taken, whether it does.
 */
export function task_access(t: rcu_task, change: reader_change, leaves: () => boolean = () => true): Access[] {
  if (change === 'rcu_read_lock' || change === 'preempt_disable') {
    if (in_reader(t)) return [];
    const sec = (t.next_section ??= new rcu_read_section(t));
    return [read(rcu_state_of().gp_seq_word), writeStoring(sec, () => sec.open, () => true)];
  }
  const sec = t.section;
  return sec && ends_section(t, change === 'rcu_read_unlock' ? 'rcu_read_lock_nesting' : 'preempt_count') ? [writeStoring(sec, () => sec.open, () => !leaves())] : [];
}

/**
 * A grace period's wait for a section it waits on: it cannot end while the section is open
 * (the section's end is what lets it go on).
 */
function waits_for(sec: rcu_read_section): Access {
  return awaitObserving(sec, () => sec.open, (open) => open, (open) => !open);
}

/** Whether leaving `field` ends the task's outermost section. */
function ends_section(t: rcu_task, field: 'rcu_read_lock_nesting' | 'preempt_count'): boolean {
  return t[field] === 1 && t.rcu_read_lock_nesting + t.preempt_count === 1;
}

function enter(t: rcu_task, field: 'rcu_read_lock_nesting' | 'preempt_count'): void {
  if (!in_reader(t)) {
    const sec = t.next_section;
    // The step that opens a section must have listed task_access(): its read of gp_seq is what
    // orders it against grace periods.
    if (!sec) throw new Error(`${t.comm} entered an RCU read-side section in a step that did not list task_access()`);
    const st = rcu_state_of();
    t.next_section = null;
    sec.open = true;
    st.open.add(sec);
    t.section = sec;
  }
  t[field]++;
}

function leave(t: rcu_task, field: 'rcu_read_lock_nesting' | 'preempt_count'): void {
  // An unbalanced unlock: the kernel's count would go negative (rcu_read_unlock) or be refused
  // with a DEBUG_PREEMPT warning; a misuse that the lock code has already reported.
  if (t[field] === 0) return;
  const ends = ends_section(t, field);
  t[field]--;
  if (ends) {
    const sec = t.section!;
    sec.open = false;
    rcu_state_of().open.delete(sec);
    t.section = null;
  }
}

// Helpers for model code that fuses entering or leaving a section into the step of its first or
// last shared access (only ever moving the local nesting change next to that access; see
// lib/percpu-refcount.ts). Call them inside a step whose access list includes task_access(t, ...)
// for the same change.

/** preempt_disable() (include/linux/preempt.h), inside a step listing task_access(t). */
export function preempt_disable_in_step(t: rcu_task): void {
  enter(t, 'preempt_count');
}
/** preempt_enable() (include/linux/preempt.h), inside a step listing task_access(t). */
export function preempt_enable_in_step(t: rcu_task): void {
  leave(t, 'preempt_count');
}
/** __rcu_read_lock() (kernel/rcu/tree_plugin.h), inside a step listing task_access(t). */
export function rcu_read_lock_in_step(t: rcu_task): void {
  enter(t, 'rcu_read_lock_nesting');
}
/** __rcu_read_unlock() (kernel/rcu/tree_plugin.h), inside a step listing task_access(t). */
export function rcu_read_unlock_in_step(t: rcu_task): void {
  leave(t, 'rcu_read_lock_nesting');
}

/** rcu_read_lock_held() (with lockdep): the running task is in any read-side section. */
export function* rcu_read_lock_held(): Gen<boolean> {
  return in_reader(yield* current_task());
}

/** preempt_count() != 0 || irqs_disabled(): in_atomic() as the model sees it. */
export function* in_atomic(): Gen<boolean> {
  return (yield* current_task()).preempt_count > 0;
}

/**
 * might_sleep() → __might_sleep() (kernel/sched/core.c, CONFIG_DEBUG_ATOMIC_SLEEP): sleeping in
 * atomic context or inside an RCU read-side section (preempt_count() + rcu_preempt_depth() != 0)
 * prints "BUG: sleeping function called from invalid context at <file>" with a backtrace and
 * carries on. `file` stands in for the kernel's file:line.
 */
export function* might_sleep(file: string): Gen<void> {
  const t = yield* current_task();
  if (!in_reader(t)) return;
  const title = `BUG: sleeping function called from invalid context at ${file}`;
  yield* printk('<3>', title);
  yield* printk('<3>', `in_atomic(): ${t.preempt_count > 0 ? 1 : 0}, irqs_disabled(): 0, non_block: 0, pid: ${t.tid}, name: ${t.comm}`);
  yield* report('bug', title);
}

// ---- include/linux/rcupdate.h: the read side ----

/** rcu_read_lock() (include/linux/rcupdate.h). */
export const rcu_read_lock = frame('rcu_read_lock', function* (): Gen<void> {
  const t = yield* current_task();
  yield* step('rcu_read_lock()', ...task_access(t, 'rcu_read_lock'));
  rcu_read_lock_in_step(t);
});

/** rcu_read_unlock() (include/linux/rcupdate.h). */
export const rcu_read_unlock = frame('rcu_read_unlock', function* (): Gen<void> {
  const t = yield* current_task();
  yield* step('rcu_read_unlock()', ...task_access(t, 'rcu_read_unlock'));
  rcu_read_unlock_in_step(t);
});

/** rcu_read_lock_sched() (include/linux/rcupdate.h): preempt_disable(). */
export const rcu_read_lock_sched = frame('rcu_read_lock_sched', function* (): Gen<void> {
  const t = yield* current_task();
  yield* step('rcu_read_lock_sched()', ...task_access(t, 'preempt_disable'));
  preempt_disable_in_step(t);
});

/** rcu_read_unlock_sched() (include/linux/rcupdate.h): preempt_enable(). */
export const rcu_read_unlock_sched = frame('rcu_read_unlock_sched', function* (): Gen<void> {
  const t = yield* current_task();
  yield* step('rcu_read_unlock_sched()', ...task_access(t, 'preempt_enable'));
  preempt_enable_in_step(t);
});

/**
 * rcu_dereference(holder->field) (include/linux/rcupdate.h): one read of the pointer's holder.
 * With CONFIG_PROVE_RCU, a dereference outside any read-side section is lockdep's
 * "suspicious rcu_dereference_check() usage" splat (once per call site; `where` names it).
 */
export function* rcu_dereference<T extends object, K extends keyof T & string>(holder: T, field: K, where = 'rcu_dereference'): Gen<T[K]> {
  const t = yield* current_task();
  yield* step(`rcu_dereference(${field})`, read(holder));
  const v = holder[field];
  if (!in_reader(t)) yield* lockdep_rcu_suspicious(where, 'suspicious rcu_dereference_check() usage');
  return v;
}

/** rcu_dereference_protected(holder->field, c): the update side's read, under its lock. */
export function* rcu_dereference_protected<T extends object, K extends keyof T & string>(holder: T, field: K): Gen<T[K]> {
  yield* step(`rcu_dereference_protected(${field})`, read(holder));
  return holder[field];
}

/** rcu_access_pointer(holder->field): reads the pointer's value without dereferencing it. */
export function* rcu_access_pointer<T extends object, K extends keyof T & string>(holder: T, field: K): Gen<T[K]> {
  yield* step(`rcu_access_pointer(${field})`, read(holder));
  return holder[field];
}

/** rcu_assign_pointer(holder->field, v) (include/linux/rcupdate.h): one release-store. */
export function* rcu_assign_pointer<T extends object, K extends keyof T & string>(holder: T, field: K, v: T[K]): Gen<void> {
  yield* step(`rcu_assign_pointer(${field})`, write(holder));
  holder[field] = v;
}

/** RCU_INIT_POINTER(holder->field, v): as rcu_assign_pointer without the barrier. */
export function* RCU_INIT_POINTER<T extends object, K extends keyof T & string>(holder: T, field: K, v: T[K]): Gen<void> {
  yield* step(`RCU_INIT_POINTER(${field})`, write(holder));
  holder[field] = v;
}

/** kernel/locking/lockdep.c lockdep_rcu_suspicious(): "WARNING: suspicious RCU usage", once per site. */
function* lockdep_rcu_suspicious(where: string, s: string): Gen<void> {
  const m = machine();
  const key = `lockdep_rcu_suspicious|${where}`;
  if (m.warnedOnce.has(key)) return;
  m.warnedOnce.add(key);
  yield* report('warn', `WARNING: suspicious RCU usage: ${where}: ${s}!`);
}

// ---- kernel/rcu/tree.c: grace periods ----

/**
 * The start of a grace period: one step writing rcu_state.gp_seq. It waits for the sections in
 * progress at this moment, all of which began under a smaller gp_seq.
 */
function* gp_start(label: string, extra: readonly Access[]): Gen<rcu_read_section[]> {
  const st = rcu_state_of();
  yield* step(label, write(st.gp_seq_word), ...extra);
  st.gp_seq++;
  return [...st.open];
}

function gp_done(waited: readonly rcu_read_section[]): boolean {
  return waited.every((sec) => !sec.open);
}

function readers(waited: readonly rcu_read_section[]): string {
  return waited.map((sec) => sec.task.comm).join(', ');
}

/**
 * synchronize_rcu() (kernel/rcu/tree.c): returns after every read-side critical section that
 * was in progress when it was called has ended. Called inside a read-side section it waits
 * for itself: a hang (the kernel also says "Illegal synchronize_rcu() in RCU read-side critical
 * section" with lockdep, and might_sleep complains).
 */
export const synchronize_rcu = frame('synchronize_rcu', function* (): Gen<void> {
  yield* might_sleep('kernel/rcu/tree.c');
  const waited = yield* gp_start('synchronize_rcu(): start a grace period', []);
  if (waited.length === 0) return;
  yield* block('synchronize_rcu(): grace period ends', `an RCU grace period (readers: ${readers(waited)})`, () => gp_done(waited), ...waited.map(waits_for));
});

/** struct callback_head / rcu_head: what call_rcu() queues. */
export type rcu_callback_t = (head: rcu_head) => Gen<void>;

export class rcu_head {
  func: rcu_callback_t | null = null;
  /**
   * The structure this head is embedded in: stands for container_of(head, type, member), which
   * TypeScript cannot compute. Set by whoever embeds the head.
   */
  container: object | null = null;
}

/**
 * call_rcu(head, func) (kernel/rcu/tree.c): func(head) runs in RCU callback context (softirq,
 * bottom halves disabled, so itself a read-side section) after a full grace period. The head
 * is written (head->func) in the caller's step. call_rcu_hurry() (v6.2+) differs only in
 * not being lazy, which the model does not distinguish.
 */
export const call_rcu = frame('call_rcu', function* (head: rcu_head, func: rcu_callback_t): Gen<void> {
  yield* __call_rcu('call_rcu', head, func);
});

/** call_rcu_hurry() (kernel/rcu/tree.c, v6.2+): as call_rcu(). */
export const call_rcu_hurry = frame('call_rcu_hurry', function* (head: rcu_head, func: rcu_callback_t): Gen<void> {
  yield* __call_rcu('call_rcu_hurry', head, func);
});

/** One queued callback: the head, its function, and the readers its grace period waits for. */
interface queued_callback {
  readonly head: rcu_head;
  readonly func: rcu_callback_t;
  readonly waited: readonly rcu_read_section[];
}

/**
 * struct rcu_data (kernel/rcu/tree.h), one per CPU: the callbacks queued on it (rdp->cblist),
 * oldest first, and whether the CPU is invoking them.
 */
export class rcu_data {
  readonly cblist: queued_callback[] = [];
  invoking = false;
  constructor(readonly cpu: number) {}
}

function rcu_data_of(cpu: number): rcu_data {
  return machine().global(`rcu_data/${cpu}`, () => new rcu_data(cpu));
}

function* __call_rcu(name: string, head: rcu_head, func: rcu_callback_t): Gen<void> {
  const rdp = rcu_data_of(yield* smp_processor_id());
  const waited = yield* gp_start(`${name}(${func.name || 'func'})`, [write(head), write(rdp)]);
  head.func = func;
  rdp.cblist.push({ head, func, waited });
  if (rdp.invoking) return;
  // The CPU's softirq work: raise_softirq(RCU_SOFTIRQ) on this CPU.
  rdp.invoking = true;
  const tid = yield* spawn(`rcu callbacks on CPU ${rdp.cpu}`, () => rcu_core(rdp));
  machine().boundTo.set(tid, rdp.cpu);
}

/**
 * kernel/rcu/tree.c rcu_core() -> rcu_do_batch() on one CPU: invokes the CPU's callbacks in
 * order, each once its grace period has ended, in softirq context (local_bh_disable()).
 */
function* rcu_core(rdp: rcu_data): Gen<void> {
  const t = yield* current_task();
  for (;;) {
    const cb = rdp.cblist[0]!;
    yield* block(
      `rcu_do_batch(): grace period ended, invoke ${cb.func.name || 'func'}`,
      `an RCU grace period (readers: ${readers(cb.waited)})`,
      () => gp_done(cb.waited),
      ...cb.waited.map(waits_for),
      write(cb.head),
      ...task_access(t, 'preempt_disable'),
    );
    // Taking the oldest callback off the list commutes with call_rcu() adding one at its end.
    rdp.cblist.shift();
    cb.head.func = null;
    preempt_disable_in_step(t);
    yield* cb.func(cb.head);
    // Whether more callbacks are queued is what call_rcu() on this CPU looks at too.
    yield* step('rcu_do_batch(): callback done, local_bh_enable()', ...task_access(t, 'preempt_enable'), write(rdp));
    preempt_enable_in_step(t);
    if (rdp.cblist.length === 0) {
      rdp.invoking = false;
      return;
    }
  }
}
