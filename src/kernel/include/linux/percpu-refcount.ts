// include/linux/percpu-refcount.h: struct percpu_ref, the init flags and the inline fast paths
// (__ref_is_percpu, percpu_ref_get(_many), percpu_ref_put(_many), percpu_ref_tryget(_many),
// percpu_ref_tryget_live(_rcu), percpu_ref_is_dying, percpu_ref_kill and, before v5.10,
// percpu_ref_is_zero). The out-of-line part is src/kernel/lib/percpu-refcount.ts.
//
// Trees. v5.1 and v5.2 have the header as of v4.20–v5.2: the cold fields in struct percpu_ref
// itself, no PERCPU_REF_ALLOW_REINIT, readers under rcu_read_lock_sched(), no
// percpu_ref_tryget_many() or percpu_ref_tryget_live_rcu(). Each later change is a patch of its
// own (src/history/patches.ts): percpu-ref-allow-reinit (v5.3), percpu-ref-normal-rcu (readers
// under rcu_read_lock(), v5.5), percpu-ref-tryget-many (v5.6), percpu-ref-data (struct
// percpu_ref_data, v5.10), percpu-ref-tryget-live-rcu (v5.16); lib/percpu-refcount.ts lists the
// out-of-line ones.
//
// Representation. The kernel's v5.1 struct percpu_ref holds count, release, confirm_switch,
// force_atomic and rcu inline; from v5.10 they are in a kzalloc'ed struct percpu_ref_data. The
// model always keeps them in a percpu_ref_data object: before patched('percpu-ref-data') it is
// created by percpu_ref_init without an allocation (no fault point, never freed), standing for
// the inline fields; with it, the kzalloc'ed object (a fault point, freed by percpu_ref_exit).
//
// Shared objects (footprints): the percpu_ref (its percpu_count_ptr word and data pointer);
// its percpu_ref_data (the cold fields); the atomic count (an atomic_long_t of its own); one
// object per CPU for the per-CPU counters. percpu_count_ptr is the kernel's word: the per-CPU
// area's address with __PERCPU_REF_ATOMIC and __PERCPU_REF_DEAD in its low bits (BigInt, 64 bits).
//
// Value views. The fast paths' READ_ONCE(ref->percpu_count_ptr) uses the whole word only in
// percpu mode (the per-CPU area's address); otherwise only that the word has a flag set, and
// ref->data (percpu_ref_tryget_live also tests __PERCPU_REF_DEAD). Their footprint says so
// (percpu_count_ptr_read), and the stores of the word say what they store
// (percpu_count_ptr_store), so that a store leaving what a reader uses as it was — exit's
// `percpu_count_ptr = __PERCPU_REF_ATOMIC_DEAD` of a ref already atomic and dead — commutes
// with it (src/engine/value-views.ts).
//
// Readers. get/put/tryget enter an RCU read-side section, read the mode, then touch one
// counter. The model fuses rcu_read_lock() into the step that reads percpu_count_ptr and
// rcu_read_unlock() into the step that touches the counter (only moving the thread-local
// nesting change next to the section's first/last shared access), so each is two steps.

import { static_inline } from './compiler.js';
import { type Access, addAndTest, addTo, type Gen, read, readObserving, type Site, step, update, where, write, writeStoring } from '../../../engine/ops.js';
import { panic, WARN_ON_ONCE } from '../asm-generic/bug.js';
import { machine, patched, smp_processor_id } from '../../machine.js';
import {
  current_task,
  preempt_disable_in_step,
  preempt_enable_in_step,
  rcu_head,
  rcu_read_lock_held,
  rcu_read_lock_in_step,
  rcu_read_unlock_in_step,
  type rcu_task,
  task_access,
} from '../../kernel/rcu/tree.js';
import { percpu_ref_kill_and_confirm, percpu_ref_is_zero_since_percpu_ref_data } from '../../lib/percpu-refcount.js';

// ---- constants ----

/** __PERCPU_REF_ATOMIC: operating in atomic mode. */
export const __PERCPU_REF_ATOMIC = 1n << 0n;
/** __PERCPU_REF_DEAD: (being) killed. */
export const __PERCPU_REF_DEAD = 1n << 1n;
export const __PERCPU_REF_ATOMIC_DEAD = __PERCPU_REF_ATOMIC | __PERCPU_REF_DEAD;
export const __PERCPU_REF_FLAG_BITS = 2n;

/** PERCPU_REF_INIT_ATOMIC: start in atomic mode with ref == 1 (sticky until switch_to_percpu). */
export const PERCPU_REF_INIT_ATOMIC = 1 << 0;
/** PERCPU_REF_INIT_DEAD: start dead (ref == 0, atomic); needs percpu_ref_reinit(). */
export const PERCPU_REF_INIT_DEAD = 1 << 1;
/** PERCPU_REF_ALLOW_REINIT (v5.3+): allow switching from atomic mode back to percpu mode. */
export const PERCPU_REF_ALLOW_REINIT = 1 << 2;

/** PERCPU_COUNT_BIAS = 1LU << (BITS_PER_LONG - 1), BITS_PER_LONG = 64. */
export const PERCPU_COUNT_BIAS = 1n << 63n;

// ---- types ----

/** percpu_ref_func_t: release and confirm callbacks. Their function name is printed by %ps. */
export type percpu_ref_func_t = (ref: percpu_ref) => Gen<void>;

/** Gives a callback the symbol name that %ps prints for it. */
export function percpu_ref_func(name: string, fn: (ref: percpu_ref) => Gen<void>): percpu_ref_func_t {
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

/** %ps / %pf of a function pointer: its symbol, or 0x0 for NULL. */
export function ps(fn: percpu_ref_func_t | null | undefined): string {
  return fn ? fn.name || '(anonymous)' : '0x0';
}

/** atomic_long_t: a signed 64-bit counter, an object of its own. */
export class atomic_long_t {
  counter = 0n;
}

/** BITS_PER_LONG = 64: atomic_long_t arithmetic wraps modulo 2^64. */
const LONG_MODULUS = 1n << 64n;

/** The footprint of atomic_long_add(i, &v): an add whose result is unused. */
export function atomic_long_add_access(v: atomic_long_t, i: bigint): Access {
  return addTo(v, i, () => v.counter, LONG_MODULUS);
}

/** The footprint of atomic_long_sub_and_test(i, &v): an add of -i whose result is only tested against zero. */
export function atomic_long_sub_and_test_access(v: atomic_long_t, i: bigint): Access {
  return addAndTest(v, -i, () => v.counter, LONG_MODULUS);
}

/** One CPU's unsigned long of a percpu_ref's per-CPU area. */
export class percpu_count_slot {
  value = 0n;
  constructor(readonly cpu: number) {}
}

/** The per-CPU area __alloc_percpu_gfp() returned for one percpu_ref. */
export class percpu_area {
  constructor(
    readonly addr: bigint,
    readonly slots: readonly percpu_count_slot[],
  ) {}
}

/** struct percpu_ref_data (v5.10+); on v5.1/v5.2 it stands for the inline fields of percpu_ref. */
export class percpu_ref_data {
  readonly count = new atomic_long_t();
  release: percpu_ref_func_t | null = null;
  confirm_switch: percpu_ref_func_t | null = null;
  force_atomic = false;
  /** v5.3+ only. */
  allow_reinit = false;
  readonly rcu = new rcu_head();
  ref: percpu_ref | null = null;
}

/** struct percpu_ref. */
export class percpu_ref {
  /** The per-CPU area's address | __PERCPU_REF_ATOMIC | __PERCPU_REF_DEAD (an unsigned long). */
  percpu_count_ptr = 0n;
  /** See the file comment: v5.10+ ref->data; on v5.1/v5.2 the inline fields. */
  data: percpu_ref_data | null = null;
  /** A name for messages (e.g. "pgmap->ref"). */
  constructor(readonly name = 'percpu_ref') {}
}

// ---- the model's record of each reference taken and dropped ----

/** One get (delta > 0) or put of a percpu_ref: which operation, and who, where, in which step. */
export interface percpu_ref_event {
  readonly delta: number;
  readonly op: string;
  readonly at: Site;
}

const histories = new WeakMap<percpu_ref, percpu_ref_event[]>();

/**
 * Records a get or a put that has happened, for a hung task's report: who holds the references
 * its wait is for. The kernel keeps no such record for a percpu_ref (lib/ref_tracker.c is its
 * idea for other refcounts, with a tracker per reference); this one is anonymous, so a report
 * lists the gets and puts, and never guesses which put dropped which get.
 */
export function* percpu_ref_record(ref: percpu_ref, delta: number, op: string): Gen<void> {
  const at = yield* where();
  let h = histories.get(ref);
  if (!h) histories.set(ref, (h = []));
  h.push({ delta, op, at });
}

/** The gets and puts of `ref` so far, in the order they happened. */
export function percpu_ref_history(ref: percpu_ref): readonly percpu_ref_event[] {
  return histories.get(ref) ?? [];
}

// ---- the footprints of the word ----

/** struct percpu_ref's two words, percpu_count_ptr and data, as its footprint's value. */
export function percpu_ref_words(ref: percpu_ref): readonly [bigint, percpu_ref_data | null] {
  return [ref.percpu_count_ptr, ref.data];
}

/**
 * What a read of ref->percpu_count_ptr takes from the word (and ref->data, read with it):
 * - 'percpu': __ref_is_percpu() and the path it picks: in percpu mode the whole word (the area
 *   is added to), otherwise only that it is not percpu, and ref->data (its count is used);
 * - 'percpu+dead': the same, and in atomic mode __PERCPU_REF_DEAD too (percpu_ref_tryget_live);
 * - 'is-percpu': __ref_is_percpu()'s answer alone;
 * - 'dead': __PERCPU_REF_DEAD alone (percpu_ref_is_dying).
 */
export type percpu_count_ptr_use = 'percpu' | 'percpu+dead' | 'is-percpu' | 'dead';

function observed(use: percpu_count_ptr_use, [word, data]: readonly [bigint, percpu_ref_data | null]): unknown {
  const percpu = (word & __PERCPU_REF_ATOMIC_DEAD) === 0n;
  switch (use) {
    case 'percpu':
      return percpu ? word : data;
    case 'percpu+dead':
      return percpu ? word : [word & __PERCPU_REF_DEAD, data];
    case 'is-percpu':
      return percpu;
    case 'dead':
      return (word & __PERCPU_REF_DEAD) !== 0n;
  }
}

/** The footprint of a read of ref->percpu_count_ptr that uses only `use` of it. */
export function percpu_count_ptr_read(ref: percpu_ref, use: percpu_count_ptr_use): Access {
  return readObserving(ref, () => percpu_ref_words(ref), (v) => observed(use, v));
}

/** The footprint of a store of `word` to ref->percpu_count_ptr (`data`: of ref->data too, default unchanged). */
export function percpu_count_ptr_store(ref: percpu_ref, word: bigint, data: () => percpu_ref_data | null = () => ref.data): Access {
  return writeStoring(ref, () => percpu_ref_words(ref), () => [word, data()] as const);
}

// ---- the per-CPU areas of a machine (mm/percpu.c as far as percpu_ref needs it) ----

class percpu_areas {
  next = 0x1000n;
  readonly byAddr = new Map<bigint, percpu_area>();
}

export function percpu_areas_of(): Map<bigint, percpu_area> {
  return machine().global('percpu areas', () => new percpu_areas()).byAddr;
}

export function new_percpu_area_addr(): bigint {
  const a = machine().global('percpu areas', () => new percpu_areas());
  const addr = a.next;
  a.next += 0x1000n;
  return addr;
}

/** The area a percpu_count_ptr word points at (the flag bits stripped), or undefined. */
export function area_of(word: bigint): percpu_area | undefined {
  const p = word & ~__PERCPU_REF_ATOMIC_DEAD;
  return p === 0n ? undefined : percpu_areas_of().get(p);
}

/** Dereferencing a NULL pointer: the kernel's oops. */
export function deref<T>(p: T | null | undefined, what: string, where: string): T {
  if (p === null || p === undefined) panic(`BUG: kernel NULL pointer dereference: ${what} in ${where}`);
  return p;
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
export { s64, u64 };

// ---- the read side ----

/** The RCU flavour of the fast paths: rcu_read_lock_sched() before v5.5, rcu_read_lock() after. */
function rcu_enter(t: rcu_task): void {
  if (patched('percpu-ref-normal-rcu')) rcu_read_lock_in_step(t);
  else preempt_disable_in_step(t);
}
function rcu_exit(t: rcu_task): void {
  if (patched('percpu-ref-normal-rcu')) rcu_read_unlock_in_step(t);
  else preempt_enable_in_step(t);
}
/** The accesses of a step that enters (or leaves) the fast paths' read-side section. */
const enter_access = (t: rcu_task): Access[] => task_access(t, patched('percpu-ref-normal-rcu') ? 'rcu_read_lock' : 'preempt_disable');
const exit_access = (t: rcu_task, leaves?: () => boolean): Access[] => task_access(t, patched('percpu-ref-normal-rcu') ? 'rcu_read_unlock' : 'preempt_enable', leaves);
const lockName = (): string => (patched('percpu-ref-normal-rcu') ? 'rcu_read_lock' : 'rcu_read_lock_sched');
const unlockName = (): string => (patched('percpu-ref-normal-rcu') ? 'rcu_read_unlock' : 'rcu_read_unlock_sched');

interface Mode {
  /** __ref_is_percpu() */
  readonly percpu: boolean;
  /** The word read by READ_ONCE(ref->percpu_count_ptr). */
  readonly word: bigint;
  /** ref->data as read in the same step. */
  readonly data: percpu_ref_data | null;
}

/**
 * rcu_read_lock[_sched](); __ref_is_percpu(ref, &percpu_count): one step reading the word
 * (and ref->data). `enter` false: the caller is already in its read-side section.
 */
function* ref_mode(ref: percpu_ref, t: rcu_task, enter: boolean, use: 'percpu' | 'percpu+dead' = 'percpu'): Gen<Mode> {
  yield* step(`${enter ? `${lockName()}(); ` : ''}READ_ONCE(${ref.name}->percpu_count_ptr)`, percpu_count_ptr_read(ref, use), ...(enter ? enter_access(t) : []));
  if (enter) rcu_enter(t);
  const word = ref.percpu_count_ptr;
  return { percpu: (word & __PERCPU_REF_ATOMIC_DEAD) === 0n, word, data: ref.data };
}

/** this_cpu_add(*percpu_count, nr) (negative nr: this_cpu_sub), then optionally rcu_read_unlock. */
function* this_cpu_add(ref: percpu_ref, t: rcu_task, m: Mode, nr: bigint, op: string, exit: boolean): Gen<void> {
  const cpu = yield* smp_processor_id();
  const area = area_of(m.word);
  if (!area) panic(`BUG: unable to handle page fault: ${op} on a bad per-CPU pointer of ${ref.name}`);
  const slot = area.slots[cpu];
  // this_cpu_add()/this_cpu_sub()/this_cpu_inc() return nothing: threads sharing a CPU update
  // its counter in commuting steps; the atomic switch's sum reads it.
  yield* step(`${op}(*percpu_count)${exit ? `; ${unlockName()}()` : ''}`, update(slot), ...(exit ? exit_access(t) : []));
  slot.value = u64(slot.value + nr);
  if (exit) rcu_exit(t);
}

function count_of(m: Mode, where: string): atomic_long_t {
  return deref(m.data, 'ref->data', where).count;
}

/** __ref_is_percpu(ref, &percpu_count) as its own step (used by resurrect and is_zero). */
export function* __ref_is_percpu(ref: percpu_ref): Gen<boolean> {
  yield* step(`__ref_is_percpu(${ref.name})`, percpu_count_ptr_read(ref, 'is-percpu'));
  return (ref.percpu_count_ptr & __PERCPU_REF_ATOMIC_DEAD) === 0n;
}

/** percpu_ref_get_many(ref, nr) (include/linux/percpu-refcount.h): no zero check, no warning. */
export const percpu_ref_get_many = static_inline('percpu_ref_get_many', function* (ref: percpu_ref, nr: number): Gen<void> {
  const t = yield* current_task();
  const m = yield* ref_mode(ref, t, true);
  if (m.percpu) {
    yield* this_cpu_add(ref, t, m, BigInt(nr), 'this_cpu_add', true);
    return yield* percpu_ref_record(ref, nr, 'percpu_ref_get_many');
  }
  const count = count_of(m, 'percpu_ref_get_many');
  // atomic_long_add() returns nothing: a commuting update of ref->count.
  yield* step(`atomic_long_add(${nr}, &count); ${unlockName()}()`, atomic_long_add_access(count, BigInt(nr)), ...exit_access(t));
  count.counter = s64(count.counter + BigInt(nr));
  rcu_exit(t);
  yield* percpu_ref_record(ref, nr, 'percpu_ref_get_many');
});

/** percpu_ref_get(ref) = percpu_ref_get_many(ref, 1). */
export const percpu_ref_get = static_inline('percpu_ref_get', function* (ref: percpu_ref): Gen<void> {
  yield* percpu_ref_get_many(ref, 1);
});

/**
 * percpu_ref_put_many(ref, nr) (include/linux/percpu-refcount.h): in atomic mode, release(ref)
 * runs in the putting thread when atomic_long_sub_and_test() reaches exactly 0 — still inside
 * the read-side section. There is no underflow check here in any tree.
 */
export const percpu_ref_put_many = static_inline('percpu_ref_put_many', function* (ref: percpu_ref, nr: number): Gen<void> {
  const t = yield* current_task();
  const m = yield* ref_mode(ref, t, true);
  if (m.percpu) {
    yield* this_cpu_add(ref, t, m, -BigInt(nr), 'this_cpu_sub', true);
    return yield* percpu_ref_record(ref, -nr, 'percpu_ref_put_many');
  }
  const data = deref(m.data, 'ref->data', 'percpu_ref_put_many');
  const count = data.count;
  // atomic_long_sub_and_test() uses its result only to tell whether it is zero.
  // The section ends in this step unless the put reaches zero: then after the release.
  yield* step(`atomic_long_sub_and_test(${nr}, &count)`, atomic_long_sub_and_test_access(count, BigInt(nr)), ...exit_access(t, () => s64(count.counter - BigInt(nr)) !== 0n));
  count.counter = s64(count.counter - BigInt(nr));
  yield* percpu_ref_record(ref, -nr, 'percpu_ref_put_many');
  if (count.counter !== 0n) {
    rcu_exit(t);
    return;
  }
  // ref->release(ref) (v5.10+: ref->data->release(ref)): a plain load of the cold field.
  yield* step(`${ref.name}->release(${ref.name})`, read(data));
  const release = deref(data.release, 'ref->release', 'percpu_ref_put_many');
  yield* release(ref);
  yield* step(`${unlockName()}()`, ...exit_access(t));
  rcu_exit(t);
});

/** percpu_ref_put(ref) = percpu_ref_put_many(ref, 1). */
export const percpu_ref_put = static_inline('percpu_ref_put', function* (ref: percpu_ref): Gen<void> {
  yield* percpu_ref_put_many(ref, 1);
});

/**
 * percpu_ref_tryget_many(ref, nr) (v5.6+; the v6.x trees): in percpu mode always succeeds (even
 * while dying: DEAD forces the atomic path only once seen); otherwise
 * atomic_long_add_unless(&count, nr, 0).
 */
export const percpu_ref_tryget_many = static_inline('percpu_ref_tryget_many', function* (ref: percpu_ref, nr: number): Gen<boolean> {
  if (!patched('percpu-ref-tryget-many')) throw new Error(`percpu_ref_tryget_many() does not exist in ${machine().tree.name}`);
  return yield* __tryget(ref, nr, 'atomic_long_add_unless');
});

/**
 * percpu_ref_tryget(ref): v5.6+ = percpu_ref_tryget_many(ref, 1); v5.1/v5.2 its own body with
 * this_cpu_inc / atomic_long_inc_not_zero (the same semantics).
 */
export const percpu_ref_tryget = static_inline('percpu_ref_tryget', function* (ref: percpu_ref): Gen<boolean> {
  if (patched('percpu-ref-tryget-many')) return yield* percpu_ref_tryget_many(ref, 1);
  return yield* __tryget(ref, 1, 'atomic_long_inc_not_zero');
});

function* __tryget(ref: percpu_ref, nr: number, op: string): Gen<boolean> {
  const t = yield* current_task();
  const m = yield* ref_mode(ref, t, true);
  if (m.percpu) {
    yield* this_cpu_add(ref, t, m, BigInt(nr), nr === 1 ? 'this_cpu_inc' : 'this_cpu_add', true);
    yield* percpu_ref_record(ref, nr, nr === 1 ? 'percpu_ref_tryget' : 'percpu_ref_tryget_many');
    return true;
  }
  const count = count_of(m, 'percpu_ref_tryget');
  yield* step(`${op}(&count); ${unlockName()}()`, write(count), ...exit_access(t));
  const ok = count.counter !== 0n;
  if (ok) count.counter = s64(count.counter + BigInt(nr));
  rcu_exit(t);
  if (ok) yield* percpu_ref_record(ref, nr, nr === 1 ? 'percpu_ref_tryget' : 'percpu_ref_tryget_many');
  return ok;
}

/**
 * The body of percpu_ref_tryget_live: percpu mode → this_cpu_inc, true; else, unless
 * percpu_count_ptr has __PERCPU_REF_DEAD, atomic_long_inc_not_zero(&count). The kernel loads
 * percpu_count_ptr a second time for the DEAD test; the model takes both loads in one step
 * (every store to the word is a step of its own, so no behaviour is lost).
 */
function* __tryget_live(ref: percpu_ref, t: rcu_task, enter: boolean, exit: boolean): Gen<boolean> {
  const m = yield* ref_mode(ref, t, enter, 'percpu+dead');
  const op = enter ? 'percpu_ref_tryget_live' : 'percpu_ref_tryget_live_rcu';
  if (m.percpu) {
    yield* this_cpu_add(ref, t, m, 1n, 'this_cpu_inc', exit);
    yield* percpu_ref_record(ref, 1, op);
    return true;
  }
  if ((m.word & __PERCPU_REF_DEAD) !== 0n) {
    if (exit) {
      yield* step(`${unlockName()}()`, ...exit_access(t));
      rcu_exit(t);
    }
    return false;
  }
  const count = count_of(m, 'percpu_ref_tryget_live');
  yield* step(`atomic_long_inc_not_zero(&count)${exit ? `; ${unlockName()}()` : ''}`, write(count), ...(exit ? exit_access(t) : []));
  const ok = count.counter !== 0n;
  if (ok) count.counter = s64(count.counter + 1n);
  if (exit) rcu_exit(t);
  if (ok) yield* percpu_ref_record(ref, 1, op);
  return ok;
}

/**
 * percpu_ref_tryget_live_rcu(ref) (v5.16+; the v6.x trees): the caller holds rcu_read_lock();
 * WARN_ON_ONCE(!rcu_read_lock_held()).
 */
export const percpu_ref_tryget_live_rcu = static_inline('percpu_ref_tryget_live_rcu', function* (ref: percpu_ref): Gen<boolean> {
  if (!patched('percpu-ref-tryget-live-rcu')) throw new Error(`percpu_ref_tryget_live_rcu() does not exist in ${machine().tree.name}`);
  const t = yield* current_task();
  yield* WARN_ON_ONCE(!(yield* rcu_read_lock_held()), 'include/linux/percpu-refcount.h percpu_ref_tryget_live_rcu', 'WARN_ON_ONCE(!rcu_read_lock_held())');
  return yield* __tryget_live(ref, t, false, false);
});

/**
 * percpu_ref_tryget_live(ref): fails once the ref is seen dead. v5.16+ it is rcu_read_lock();
 * percpu_ref_tryget_live_rcu(); rcu_read_unlock(); before, the same body inline under
 * rcu_read_lock_sched(). Completion of percpu_ref_kill() alone does not guarantee failure; after
 * the confirm_kill callback has run, it fails.
 */
export const percpu_ref_tryget_live = static_inline('percpu_ref_tryget_live', function* (ref: percpu_ref): Gen<boolean> {
  const t = yield* current_task();
  return yield* __tryget_live(ref, t, true, true);
});

/** percpu_ref_is_dying(ref): ref->percpu_count_ptr & __PERCPU_REF_DEAD, a plain read. */
export const percpu_ref_is_dying = static_inline('percpu_ref_is_dying', function* (ref: percpu_ref): Gen<boolean> {
  yield* step(`${ref.name}->percpu_count_ptr & __PERCPU_REF_DEAD`, percpu_count_ptr_read(ref, 'dead'));
  return (ref.percpu_count_ptr & __PERCPU_REF_DEAD) !== 0n;
});

/** percpu_ref_kill(ref) = percpu_ref_kill_and_confirm(ref, NULL). */
export const percpu_ref_kill = static_inline('percpu_ref_kill', function* (ref: percpu_ref): Gen<void> {
  yield* percpu_ref_kill_and_confirm(ref, null);
});

/**
 * percpu_ref_is_zero(ref): before v5.10 an inline — not percpu and !atomic_long_read(&count),
 * no lock; v5.10+ out of line in lib/percpu-refcount.c under percpu_ref_switch_lock.
 */
export const percpu_ref_is_zero = static_inline('percpu_ref_is_zero', function* (ref: percpu_ref): Gen<boolean> {
  if (patched('percpu-ref-data')) return yield* percpu_ref_is_zero_since_percpu_ref_data(ref);
  if (yield* __ref_is_percpu(ref)) return false;
  const data = deref(ref.data, 'ref->count', 'percpu_ref_is_zero');
  yield* step('atomic_long_read(&count)', read(data.count));
  return data.count.counter === 0n;
});

/** Test/oracle helper (not kernel code): the count a ref would have after folding. */
export function percpu_ref_value(ref: percpu_ref): bigint {
  const data = ref.data;
  if (!data) return BigInt.asIntN(64, ref.percpu_count_ptr >> __PERCPU_REF_FLAG_BITS);
  return percpu_ref_folded(data.count.counter, area_of(ref.percpu_count_ptr));
}

/**
 * Not kernel code: the count of a ref whose atomic count is `count` and per-CPU area `area`.
 * Until percpu_ref_switch_to_atomic_rcu() has folded the per-CPU counters into the atomic count
 * (and taken PERCPU_COUNT_BIAS out: in percpu mode, and in atomic mode before the callback), the
 * count is the sum of both, less the bias.
 */
export function percpu_ref_folded(count: bigint, area: percpu_area | undefined): bigint {
  let c = u64(count);
  if (c >= PERCPU_COUNT_BIAS && c < PERCPU_COUNT_BIAS + (1n << 62n)) {
    c -= PERCPU_COUNT_BIAS;
    if (area) for (const s of area.slots) c += s.value;
  }
  return s64(c);
}
