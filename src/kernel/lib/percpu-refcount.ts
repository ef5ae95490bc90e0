// lib/percpu-refcount.c: percpu_ref_init, percpu_ref_exit, the switching machinery
// (__percpu_ref_switch_mode, __percpu_ref_switch_to_atomic, percpu_ref_switch_to_atomic_rcu,
// percpu_ref_call_confirm_rcu, __percpu_ref_switch_to_percpu), percpu_ref_switch_to_atomic(_sync),
// percpu_ref_switch_to_percpu, percpu_ref_kill_and_confirm, percpu_ref_is_zero (v5.10+),
// percpu_ref_reinit, percpu_ref_resurrect.
//
// The file as of v4.20–v5.2 (read at torvalds/linux 49e41801b335: no allow_reinit, no early
// free of the per-CPU memory, plain call_rcu, "%pf", which prints the same symbol as %ps), and
// each later change a patch of its own (src/history/patches.ts), read at torvalds/linux
// 2b0d3d3e4fcf (v5.10, with 7ea6bf2e6c40 on top) and in the newest file:
// - percpu-ref-allow-reinit (09ed79d6d75f, v5.3): PERCPU_REF_ALLOW_REINIT, forced for
//   INIT_ATOMIC/INIT_DEAD; WARN_ON_ONCE(!allow_reinit) in __percpu_ref_switch_to_percpu;
// - percpu-ref-release-early (7d9ab9b6adff, v5.3): __percpu_ref_exit() in
//   percpu_ref_call_confirm_rcu for a ref that may not be reinitialised;
// - percpu-ref-data (2b0d3d3e4fcf, v5.10): struct percpu_ref_data, kzalloc'ed by
//   percpu_ref_init and freed by percpu_ref_exit, the count stashed in the word;
//   percpu_ref_is_zero out of line; percpu-ref-data-null-check (7ea6bf2e6c40, v5.10);
// - percpu-ref-underflow-dump (3375efeddf69, v5.12): the underflow pr_err (at most 3 times);
// - percpu-ref-is-dying (9e9da02a68d4, v5.13): percpu_ref_is_dying() in the checks;
// - percpu-ref-init-cleanup (a91714312eb1, v5.18): ref->percpu_count_ptr = 0 when the data
//   allocation fails;
// - percpu-ref-call-rcu-hurry (343a72e5e37d, v6.2).
//
// Global state (per machine): percpu_ref_switch_lock (a spinlock taken irqsave) and
// percpu_ref_switch_waitq, whose waiters the model expresses as engine blocks on the condition
// !confirm_switch (wake_up_all has nothing to do: a block re-evaluates its condition).
//
// Plain read-modify-writes of ref->percpu_count_ptr (`|=`, `&=`) are a load step and a store
// step: the RCU callback of v5.3+ stores to the word without the lock (__percpu_ref_exit).

import { block, Failure, fault, frame, type Gen, read, type Site, step, where as current_site, write } from '../../engine/ops.js';
import { BUG_ON, WARN_ON_ONCE, WARN_ONCE } from '../include/asm-generic/bug.js';
import { ENOMEM } from '../include/uapi/errno.js';
import type { gfp_t } from '../include/linux/gfp.js';
import {
  __PERCPU_REF_ATOMIC,
  __PERCPU_REF_ATOMIC_DEAD,
  __PERCPU_REF_DEAD,
  __PERCPU_REF_FLAG_BITS,
  __ref_is_percpu,
  area_of,
  atomic_long_add_access,
  deref,
  new_percpu_area_addr,
  percpu_area,
  percpu_areas_of,
  percpu_count_slot,
  PERCPU_COUNT_BIAS,
  PERCPU_REF_ALLOW_REINIT,
  PERCPU_REF_INIT_ATOMIC,
  PERCPU_REF_INIT_DEAD,
  type percpu_ref,
  percpu_count_ptr_store,
  percpu_ref_data,
  type percpu_ref_func_t,
  percpu_ref_record,
  percpu_ref_get,
  percpu_ref_history,
  percpu_ref_is_zero,
  percpu_ref_put,
  ps,
  s64,
  u64,
} from '../include/linux/percpu-refcount.js';
import { DEFINE_SPINLOCK, lockdep_assert_held, spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore, type spinlock_t } from '../include/linux/spinlock.js';
import { machine, patched } from '../machine.js';
import { isPoisoned, poison, track } from '../mm/kasan.js';
import { kfree, kzalloc } from '../mm/slab.js';
import { call_rcu, call_rcu_hurry, might_sleep, type rcu_head } from '../kernel/rcu/tree.js';
import { pr_err } from '../kernel/printk.js';

const FILE = 'lib/percpu-refcount.c';

/** static DEFINE_SPINLOCK(percpu_ref_switch_lock). */
export function percpu_ref_switch_lock(): spinlock_t {
  return machine().global('percpu_ref_switch_lock', () => DEFINE_SPINLOCK('percpu_ref_switch_lock'));
}

/** static atomic_t underflows of percpu_ref_switch_to_atomic_rcu (v5.13+). */
class underflows_t {
  counter = 0;
}
function underflows(): underflows_t {
  return machine().global('percpu_ref underflows', () => new underflows_t());
}

// ---- mm/percpu.c, as much as percpu_ref uses ----

/**
 * __alloc_percpu_gfp(sizeof(unsigned long), align, gfp): one zeroed unsigned long per possible
 * CPU, each a shared object of its own. Tracked for use after free and leaks (kmemleak tracks
 * per-CPU allocations too). The fault point is the caller's.
 */
function alloc_percpu_counters(ref: percpu_ref, at: Site): bigint {
  const addr = new_percpu_area_addr();
  const what = `per-CPU counters of ${ref.name}`;
  const slots: percpu_count_slot[] = [];
  for (let cpu = 0; cpu < machine().nr_cpu_ids; cpu++) slots.push(track(new percpu_count_slot(cpu), `${what} (cpu ${cpu})`, 'percpu_ref_init', false));
  const area = track(new percpu_area(addr, slots), what, 'percpu_ref_init', true, at);
  machine().slab.add(area);
  percpu_areas_of().set(addr, area);
  return addr;
}

/** free_percpu(ptr): one step writing every CPU's counter. */
function* free_percpu(word: bigint, where: string): Gen<void> {
  const p = word & ~__PERCPU_REF_ATOMIC_DEAD;
  if (p === 0n) return;
  const area = percpu_areas_of().get(p);
  if (!area) throw new Failure('panic', `BUG: unable to handle page fault: free_percpu() of a bad per-CPU pointer 0x${p.toString(16)} in ${where}`);
  yield* step('free_percpu(percpu_count)', write(area), ...area.slots.map((s) => write(s)));
  if (isPoisoned(area)) throw new Failure('kasan', `BUG: KASAN: double-free of ${describe(area)} in ${where}`);
  const at = yield* current_site();
  for (const s of area.slots) poison(s, 'freed', at);
  poison(area, 'freed', at);
  machine().slab.remove(area);
}

function describe(area: percpu_area): string {
  return `per-CPU area 0x${area.addr.toString(16)}`;
}

// ---- init / exit ----

/**
 * percpu_ref_init(ref, release, flags, gfp) (lib/percpu-refcount.c): 0, or -ENOMEM when the
 * per-CPU allocation (a fault point) or, v5.10+, the kzalloc of ref->data fails. Flags 0 →
 * count = PERCPU_COUNT_BIAS + 1 in percpu mode; INIT_ATOMIC → 1, atomic; INIT_DEAD → 0,
 * atomic and dead. v5.3+: allow_reinit = ALLOW_REINIT, forced for INIT_ATOMIC/INIT_DEAD.
 */
export const percpu_ref_init = frame('percpu_ref_init', function* (ref: percpu_ref, release: percpu_ref_func_t, flags: number, gfp: gfp_t): Gen<number> {
  if (yield* fault(`__alloc_percpu_gfp() in percpu_ref_init(${ref.name})`)) {
    yield* step(`${ref.name}->percpu_count_ptr = __alloc_percpu_gfp() = NULL`, write(ref));
    ref.percpu_count_ptr = 0n;
    return -ENOMEM;
  }
  const addr = alloc_percpu_counters(ref, yield* current_site());
  machine().global('percpu_refs', (): percpu_ref[] => []).push(ref);
  let data: percpu_ref_data;
  if (patched('percpu-ref-data')) {
    const d = yield* kzalloc('struct percpu_ref_data', 'percpu_ref_init', () => new percpu_ref_data(), gfp);
    if (!d) {
      // free_percpu((void __percpu *)ref->percpu_count_ptr); and, since
      // patched('percpu-ref-init-cleanup'), ref->percpu_count_ptr = 0 (before it the word is
      // left pointing at the freed counters).
      yield* step(`${ref.name}->percpu_count_ptr = __alloc_percpu_gfp()`, write(ref));
      ref.percpu_count_ptr = addr;
      yield* free_percpu(addr, 'percpu_ref_init');
      if (patched('percpu-ref-init-cleanup')) {
        yield* step(`${ref.name}->percpu_count_ptr = 0`, write(ref));
        ref.percpu_count_ptr = 0n;
      }
      return -ENOMEM;
    }
    data = d;
  } else {
    data = new percpu_ref_data();
  }
  // The rest of the function: stores by the initialising thread only.
  yield* step(`percpu_ref_init(${ref.name}): set up percpu_count_ptr, count, release`, write(ref), write(data), write(data.count));
  let word = addr;
  let start_count = 0n;
  data.force_atomic = (flags & PERCPU_REF_INIT_ATOMIC) !== 0;
  if (patched('percpu-ref-allow-reinit')) data.allow_reinit = (flags & PERCPU_REF_ALLOW_REINIT) !== 0;
  if (flags & (PERCPU_REF_INIT_ATOMIC | PERCPU_REF_INIT_DEAD)) {
    word |= __PERCPU_REF_ATOMIC;
    if (patched('percpu-ref-allow-reinit')) data.allow_reinit = true;
  } else {
    start_count += PERCPU_COUNT_BIAS;
  }
  if (flags & PERCPU_REF_INIT_DEAD) word |= __PERCPU_REF_DEAD;
  else start_count++;
  ref.percpu_count_ptr = word;
  data.count.counter = s64(start_count);
  data.release = release;
  data.confirm_switch = null;
  data.ref = ref;
  data.rcu.container = data;
  ref.data = data;
  // The initial reference, which percpu_ref_kill() drops.
  if (!(flags & PERCPU_REF_INIT_DEAD)) yield* percpu_ref_record(ref, 1, 'percpu_ref_init');
  return 0;
});

/**
 * v5.1/v5.2 percpu_ref_exit, v5.10+ __percpu_ref_exit: free the per-CPU counters (warning if
 * a switch is still in progress) and leave the word __PERCPU_REF_ATOMIC_DEAD.
 */
const __percpu_ref_exit = frame('__percpu_ref_exit', function* (ref: percpu_ref): Gen<void> {
  const data = ref.data;
  yield* step(`percpu_count_ptr(${ref.name})`, read(ref), ...(data ? [read(data)] : []));
  const word = ref.percpu_count_ptr;
  if ((word & ~__PERCPU_REF_ATOMIC_DEAD) === 0n) return;
  // non-NULL confirm_switch indicates switching in progress
  if (patched('percpu-ref-data-null-check')) {
    const d = ref.data;
    yield* WARN_ON_ONCE(d !== null && d.confirm_switch !== null, `${FILE} __percpu_ref_exit`, 'WARN_ON_ONCE(ref->data && ref->data->confirm_switch)');
  } else if (patched('percpu-ref-data')) {
    yield* WARN_ON_ONCE(deref(ref.data, 'ref->data', '__percpu_ref_exit').confirm_switch !== null, `${FILE} __percpu_ref_exit`, 'WARN_ON_ONCE(ref->data->confirm_switch)');
  } else {
    yield* WARN_ON_ONCE(deref(ref.data, 'ref', 'percpu_ref_exit').confirm_switch !== null, `${FILE} percpu_ref_exit`, 'WARN_ON_ONCE(ref->confirm_switch)');
  }
  yield* free_percpu(word, patched('percpu-ref-release-early') ? '__percpu_ref_exit' : 'percpu_ref_exit');
  yield* step(`${ref.name}->percpu_count_ptr = __PERCPU_REF_ATOMIC_DEAD`, percpu_count_ptr_store(ref, __PERCPU_REF_ATOMIC_DEAD));
  ref.percpu_count_ptr = __PERCPU_REF_ATOMIC_DEAD;
});

/**
 * percpu_ref_exit(ref) (lib/percpu-refcount.c). v5.1/v5.2: free the per-CPU counters, no lock.
 * v5.10+: also, under percpu_ref_switch_lock, stash the count in the word
 * (ptr |= count << __PERCPU_REF_FLAG_BITS), clear ref->data, then kfree the data.
 */
export const percpu_ref_exit = frame('percpu_ref_exit', function* (ref: percpu_ref): Gen<void> {
  if (!patched('percpu-ref-data')) return yield* __percpu_ref_exit(ref);
  yield* step(`data = ${ref.name}->data`, read(ref));
  const data = ref.data;
  yield* __percpu_ref_exit(ref);
  if (!data) return;
  const lock = percpu_ref_switch_lock();
  const flags = yield* spin_lock_irqsave(lock);
  yield* step(`${ref.name}->percpu_count_ptr |= atomic_long_read(&ref->data->count) << __PERCPU_REF_FLAG_BITS (load)`, read(ref), read(data.count));
  const stash = u64(ref.percpu_count_ptr | (u64(deref(ref.data, 'ref->data', 'percpu_ref_exit').count.counter) << __PERCPU_REF_FLAG_BITS));
  yield* step(`${ref.name}->percpu_count_ptr = ...; ${ref.name}->data = NULL`, percpu_count_ptr_store(ref, stash, () => null));
  ref.percpu_count_ptr = stash;
  ref.data = null;
  yield* spin_unlock_irqrestore(lock, flags);
  yield* step('kfree(data)', write(data), write(data.count));
  yield* kfree(data);
});

// ---- switching to atomic: the RCU callbacks ----

function ref_of_rcu(rcu: rcu_head): { data: percpu_ref_data; ref: percpu_ref } {
  // container_of(rcu, struct percpu_ref_data, rcu) (v5.1: container_of(rcu, struct percpu_ref, rcu))
  const data = rcu.container as percpu_ref_data;
  return { data, ref: deref(data.ref, 'data->ref', 'percpu_ref_switch_to_atomic_rcu') };
}

/** percpu_ref_call_confirm_rcu(rcu) (static): confirm, clear confirm_switch, wake, drop the switch's ref. */
const percpu_ref_call_confirm_rcu = frame('percpu_ref_call_confirm_rcu', function* (rcu: rcu_head): Gen<void> {
  const { data, ref } = ref_of_rcu(rcu);
  yield* step(`${ref.name}->confirm_switch(${ref.name})`, read(data));
  const confirm = deref(data.confirm_switch, 'ref->confirm_switch', 'percpu_ref_call_confirm_rcu');
  yield* confirm(ref);
  yield* step(`${ref.name}->confirm_switch = NULL; wake_up_all(&percpu_ref_switch_waitq)`, write(data));
  data.confirm_switch = null;
  const allow_reinit = data.allow_reinit;
  // v5.3+: release the per-CPU memory early unless the ref may be switched back.
  if (patched('percpu-ref-release-early') && !allow_reinit) yield* __percpu_ref_exit(ref);
  // drop ref from percpu_ref_switch_to_atomic()
  yield* percpu_ref_put(ref);
});

/**
 * percpu_ref_switch_to_atomic_rcu(rcu) (static, RCU callback): sum the per-CPU counters, add
 * the sum and remove the bias in one atomic_long_add, WARN_ONCE if the count is <= 0, confirm.
 */
const percpu_ref_switch_to_atomic_rcu = frame('percpu_ref_switch_to_atomic_rcu', function* (rcu: rcu_head): Gen<void> {
  const { data, ref } = ref_of_rcu(rcu);
  const area = area_of(ref.percpu_count_ptr);
  // percpu_count_ptr(ref), then for_each_possible_cpu(cpu) count += *per_cpu_ptr(percpu_count, cpu)
  yield* step('for_each_possible_cpu(cpu) count += *per_cpu_ptr(percpu_count, cpu)', read(ref), ...(area ? area.slots.map((s) => read(s)) : []));
  const now = area_of(ref.percpu_count_ptr);
  if (!now) throw new Failure('panic', `BUG: unable to handle page fault: per_cpu_ptr() of a bad per-CPU pointer of ${ref.name} in percpu_ref_switch_to_atomic_rcu`);
  let count = 0n;
  for (const s of now.slots) count = u64(count + s.value);
  // atomic_long_add() returns nothing: it commutes with the atomic-mode gets (atomic_long_add)
  // that may already have reached ref->count; the read below is what conflicts.
  yield* step('atomic_long_add((long)count - PERCPU_COUNT_BIAS, &ref->count)', atomic_long_add_access(data.count, s64(count - PERCPU_COUNT_BIAS)));
  data.count.counter = s64(data.count.counter + s64(count - PERCPU_COUNT_BIAS));
  yield* step('atomic_long_read(&ref->count) <= 0', read(data.count), read(data));
  const value = data.count.counter;
  const warned = yield* WARN_ONCE(value <= 0n, `${FILE} percpu_ref_switch_to_atomic_rcu`, `percpu ref (${ps(data.release)}) <= 0 (${value}) after switching to atomic`);
  if (warned && patched('percpu-ref-underflow-dump')) {
    const u = underflows();
    yield* step('atomic_inc_return(&underflows)', write(u));
    u.counter++;
    if (u.counter < 4) yield* pr_err('percpu_ref_switch_to_atomic_rcu: percpu_ref_switch_to_atomic_rcu(): percpu_ref underflow');
  }
  // @ref is viewed as dead on all CPUs, send out switch confirmation
  yield* percpu_ref_call_confirm_rcu(rcu);
});

/** percpu_ref_noop_confirm_switch(ref) (static). */
const percpu_ref_noop_confirm_switch: percpu_ref_func_t = function* percpu_ref_noop_confirm_switch(_ref: percpu_ref): Gen<void> {};

/**
 * __percpu_ref_switch_to_atomic(ref, confirm_switch) (static, under the lock): if already
 * atomic, call confirm_switch synchronously; else set ATOMIC, mark the switch in progress,
 * take a reference that the confirmation drops, and queue the RCU callback.
 */
const __percpu_ref_switch_to_atomic = frame('__percpu_ref_switch_to_atomic', function* (ref: percpu_ref, confirm_switch: percpu_ref_func_t | null): Gen<void> {
  yield* step(`${ref.name}->percpu_count_ptr & __PERCPU_REF_ATOMIC`, read(ref));
  const word = ref.percpu_count_ptr;
  if (word & __PERCPU_REF_ATOMIC) {
    if (confirm_switch) yield* confirm_switch(ref);
    return;
  }
  // switching from percpu to atomic
  yield* step(`${ref.name}->percpu_count_ptr |= __PERCPU_REF_ATOMIC`, percpu_count_ptr_store(ref, word | __PERCPU_REF_ATOMIC));
  ref.percpu_count_ptr = word | __PERCPU_REF_ATOMIC;
  const data = deref(ref.data, 'ref->data', '__percpu_ref_switch_to_atomic');
  // Non-NULL ->confirm_switch is used to indicate that switching is in progress.
  yield* step(`${ref.name}->confirm_switch = confirm_switch ?: percpu_ref_noop_confirm_switch`, write(data));
  data.confirm_switch = confirm_switch ?? percpu_ref_noop_confirm_switch;
  yield* percpu_ref_get(ref); // put after confirmation
  if (patched('percpu-ref-call-rcu-hurry')) yield* call_rcu_hurry(data.rcu, percpu_ref_switch_to_atomic_rcu);
  else yield* call_rcu(data.rcu, percpu_ref_switch_to_atomic_rcu);
});

/**
 * __percpu_ref_switch_to_percpu(ref) (static, under the lock): BUG_ON(!percpu_count); if atomic
 * (and, v5.3+, unless WARN_ON_ONCE(!allow_reinit)), re-add the bias, zero the per-CPU counters
 * and clear ATOMIC with a release store.
 */
const __percpu_ref_switch_to_percpu = frame('__percpu_ref_switch_to_percpu', function* (ref: percpu_ref): Gen<void> {
  const data = deref(ref.data, 'ref->data', '__percpu_ref_switch_to_percpu');
  yield* step(`percpu_count_ptr(${ref.name}); ${ref.name}->percpu_count_ptr & __PERCPU_REF_ATOMIC`, read(ref), read(data));
  const word = ref.percpu_count_ptr;
  const area = area_of(word);
  BUG_ON((word & ~__PERCPU_REF_ATOMIC_DEAD) === 0n, `${FILE}:__percpu_ref_switch_to_percpu`, 'BUG_ON(!percpu_count)');
  if (!(word & __PERCPU_REF_ATOMIC)) return;
  if (patched('percpu-ref-allow-reinit') && (yield* WARN_ON_ONCE(!data.allow_reinit, `${FILE} __percpu_ref_switch_to_percpu`, 'WARN_ON_ONCE(!ref->data->allow_reinit)'))) return;
  // atomic_long_add() returns nothing: a commuting update of ref->count.
  yield* step('atomic_long_add(PERCPU_COUNT_BIAS, &ref->count)', atomic_long_add_access(data.count, PERCPU_COUNT_BIAS));
  data.count.counter = s64(data.count.counter + PERCPU_COUNT_BIAS);
  if (!area) throw new Failure('panic', `BUG: unable to handle page fault: per_cpu_ptr() of a bad per-CPU pointer of ${ref.name} in __percpu_ref_switch_to_percpu`);
  yield* step('for_each_possible_cpu(cpu) *per_cpu_ptr(percpu_count, cpu) = 0', ...area.slots.map((s) => write(s)));
  for (const s of area.slots) s.value = 0n;
  yield* step(
    `smp_store_release(&${ref.name}->percpu_count_ptr, ${ref.name}->percpu_count_ptr & ~__PERCPU_REF_ATOMIC)`,
    percpu_count_ptr_store(ref, ref.percpu_count_ptr & ~__PERCPU_REF_ATOMIC),
  );
  ref.percpu_count_ptr = ref.percpu_count_ptr & ~__PERCPU_REF_ATOMIC;
});

/**
 * __percpu_ref_switch_mode(ref, confirm_switch) (static, under the lock): wait (dropping the
 * lock) until no atomic switch is in progress — wait_event_lock_irq(percpu_ref_switch_waitq,
 * !confirm_switch, percpu_ref_switch_lock) — then switch to atomic if force_atomic or dying,
 * else to percpu.
 */
const __percpu_ref_switch_mode = frame('__percpu_ref_switch_mode', function* (ref: percpu_ref, confirm_switch: percpu_ref_func_t | null): Gen<void> {
  const lock = percpu_ref_switch_lock();
  yield* lockdep_assert_held(lock, `${FILE} __percpu_ref_switch_mode`);
  const data = deref(ref.data, 'ref->data', '__percpu_ref_switch_mode');
  let to_atomic: boolean;
  for (;;) {
    // wait_event_lock_irq: test the condition; the next statement's loads are taken with it.
    yield* step(`!${ref.name}->confirm_switch; ${ref.name}->force_atomic || dying`, read(data), read(ref));
    if (data.confirm_switch === null) {
      to_atomic = data.force_atomic || (ref.percpu_count_ptr & __PERCPU_REF_DEAD) !== 0n;
      break;
    }
    yield* spin_unlock_irq(lock);
    yield* block('wait_event_lock_irq(percpu_ref_switch_waitq, !ref->confirm_switch)', `the atomic switch of ${ref.name} to be confirmed`, () => data.confirm_switch === null, read(data));
    yield* spin_lock_irq(lock);
  }
  if (to_atomic) yield* __percpu_ref_switch_to_atomic(ref, confirm_switch);
  else yield* __percpu_ref_switch_to_percpu(ref);
});

/**
 * percpu_ref_switch_to_atomic(ref, confirm_switch) (lib/percpu-refcount.c): sticky atomic mode
 * (force_atomic) until percpu_ref_switch_to_percpu().
 */
export const percpu_ref_switch_to_atomic = frame('percpu_ref_switch_to_atomic', function* (ref: percpu_ref, confirm_switch: percpu_ref_func_t | null): Gen<void> {
  const lock = percpu_ref_switch_lock();
  const flags = yield* spin_lock_irqsave(lock);
  const data = deref(ref.data, 'ref->data', 'percpu_ref_switch_to_atomic');
  yield* step(`${ref.name}->force_atomic = true`, write(data));
  data.force_atomic = true;
  yield* __percpu_ref_switch_mode(ref, confirm_switch);
  yield* spin_unlock_irqrestore(lock, flags);
});

/**
 * percpu_ref_switch_to_atomic_sync(ref) (lib/percpu-refcount.c): switch, then
 * wait_event(percpu_ref_switch_waitq, !ref->confirm_switch).
 */
export const percpu_ref_switch_to_atomic_sync = frame('percpu_ref_switch_to_atomic_sync', function* (ref: percpu_ref): Gen<void> {
  yield* percpu_ref_switch_to_atomic(ref, null);
  yield* might_sleep(FILE);
  // ref->data only changes in init and exit, neither of which may race with this.
  const data = deref(ref.data, 'ref->data', 'percpu_ref_switch_to_atomic_sync');
  yield* block('wait_event(percpu_ref_switch_waitq, !ref->confirm_switch)', `the atomic switch of ${ref.name} to be confirmed`, () => data.confirm_switch === null, read(data));
});

/** percpu_ref_switch_to_percpu(ref) (lib/percpu-refcount.c): clear force_atomic, switch mode. */
export const percpu_ref_switch_to_percpu = frame('percpu_ref_switch_to_percpu', function* (ref: percpu_ref): Gen<void> {
  const lock = percpu_ref_switch_lock();
  const flags = yield* spin_lock_irqsave(lock);
  const data = deref(ref.data, 'ref->data', 'percpu_ref_switch_to_percpu');
  yield* step(`${ref.name}->force_atomic = false`, write(data));
  data.force_atomic = false;
  yield* __percpu_ref_switch_mode(ref, null);
  yield* spin_unlock_irqrestore(lock, flags);
});

/**
 * percpu_ref_kill_and_confirm(ref, confirm_kill) (lib/percpu-refcount.c): under the lock, warn
 * on a second kill, set DEAD, switch to atomic (confirm_kill runs once every CPU sees the ref
 * dead), and drop the initial reference — which runs release() right here, with the lock held,
 * when the ref was already atomic with a count of 1.
 */
export const percpu_ref_kill_and_confirm = frame('percpu_ref_kill_and_confirm', function* (ref: percpu_ref, confirm_kill: percpu_ref_func_t | null): Gen<void> {
  const lock = percpu_ref_switch_lock();
  const flags = yield* spin_lock_irqsave(lock);
  const data = deref(ref.data, 'ref->data', 'percpu_ref_kill_and_confirm');
  // The test (v6.x: percpu_ref_is_dying(ref)) and the load of `|=` below.
  yield* step(`WARN_ONCE(${ref.name}->percpu_count_ptr & __PERCPU_REF_DEAD, ...)`, read(ref), read(data));
  const word = ref.percpu_count_ptr;
  yield* WARN_ONCE((word & __PERCPU_REF_DEAD) !== 0n, `${FILE} percpu_ref_kill_and_confirm`, `percpu_ref_kill_and_confirm called more than once on ${ps(data.release)}!`);
  yield* step(`${ref.name}->percpu_count_ptr |= __PERCPU_REF_DEAD`, percpu_count_ptr_store(ref, word | __PERCPU_REF_DEAD));
  ref.percpu_count_ptr = word | __PERCPU_REF_DEAD;
  yield* __percpu_ref_switch_mode(ref, confirm_kill);
  yield* percpu_ref_put(ref);
  yield* spin_unlock_irqrestore(lock, flags);
});

/**
 * percpu_ref_is_zero(ref), v5.10+ (lib/percpu-refcount.c): false in percpu mode; otherwise,
 * under the lock, the count from ref->data, or from the word once exited.
 */
export const percpu_ref_is_zero_since_percpu_ref_data = frame('percpu_ref_is_zero', function* (ref: percpu_ref): Gen<boolean> {
  if (yield* __ref_is_percpu(ref)) return false;
  // protect us from being destroyed
  const lock = percpu_ref_switch_lock();
  const flags = yield* spin_lock_irqsave(lock);
  const data0 = ref.data;
  yield* step('count = ref->data ? atomic_long_read(&ref->data->count) : ref->percpu_count_ptr >> __PERCPU_REF_FLAG_BITS', read(ref), ...(data0 ? [read(data0.count)] : []));
  const data = ref.data;
  const count = data ? u64(data.count.counter) : ref.percpu_count_ptr >> __PERCPU_REF_FLAG_BITS;
  yield* spin_unlock_irqrestore(lock, flags);
  return count === 0n;
});

/**
 * percpu_ref_reinit(ref) (lib/percpu-refcount.c): WARN_ON_ONCE(!percpu_ref_is_zero(ref)), then
 * percpu_ref_resurrect(ref).
 */
export const percpu_ref_reinit = frame('percpu_ref_reinit', function* (ref: percpu_ref): Gen<void> {
  yield* WARN_ON_ONCE(!(yield* percpu_ref_is_zero(ref)), `${FILE} percpu_ref_reinit`, 'WARN_ON_ONCE(!percpu_ref_is_zero(ref))');
  yield* percpu_ref_resurrect(ref);
});

/**
 * percpu_ref_resurrect(ref) (lib/percpu-refcount.c): under the lock, warn unless dead and not
 * percpu, clear DEAD, take the initial reference again, and switch mode (back to percpu unless
 * force_atomic; v5.3+ only with allow_reinit).
 */
export const percpu_ref_resurrect = frame('percpu_ref_resurrect', function* (ref: percpu_ref): Gen<void> {
  const lock = percpu_ref_switch_lock();
  const flags = yield* spin_lock_irqsave(lock);
  // The DEAD test, __ref_is_percpu()'s READ_ONCE and the load of `&=` below.
  yield* step(`WARN_ON_ONCE(!(${ref.name}->percpu_count_ptr & __PERCPU_REF_DEAD)); WARN_ON_ONCE(__ref_is_percpu())`, read(ref));
  const word = ref.percpu_count_ptr;
  yield* WARN_ON_ONCE(
    (word & __PERCPU_REF_DEAD) === 0n,
    `${FILE} percpu_ref_resurrect`,
    patched('percpu-ref-is-dying') ? 'WARN_ON_ONCE(!percpu_ref_is_dying(ref))' : 'WARN_ON_ONCE(!(ref->percpu_count_ptr & __PERCPU_REF_DEAD))',
  );
  yield* WARN_ON_ONCE((word & __PERCPU_REF_ATOMIC_DEAD) === 0n, `${FILE} percpu_ref_resurrect`, 'WARN_ON_ONCE(__ref_is_percpu(ref, &percpu_count))');
  yield* step(`${ref.name}->percpu_count_ptr &= ~__PERCPU_REF_DEAD`, percpu_count_ptr_store(ref, word & ~__PERCPU_REF_DEAD));
  ref.percpu_count_ptr = word & ~__PERCPU_REF_DEAD;
  yield* percpu_ref_get(ref);
  yield* __percpu_ref_switch_mode(ref, null);
  yield* spin_unlock_irqrestore(lock, flags);
});


/**
 * For a hung task's report: the percpu_refs not released — never killed, or killed with
 * references nobody has put — so that their release() (which completes what an unbind
 * waits for) has not run, each with its gets and puts: who took and dropped a reference, in
 * which step and where. The kernel's hung-task report prints only the blocked task; this is what a
 * developer reads from the refs next (in a crash dump, `percpu_ref` with `data->count`), and
 * what ref_tracker (lib/ref_tracker.c) would print for a refcount it tracks.
 */
export function percpu_ref_hung_task_lines(): string[] {
  const refs = machine().global('percpu_refs', (): percpu_ref[] => []);
  const out: string[] = [];
  for (const ref of refs) {
    // A ref inside freed memory is not read (KASAN would report the read).
    if (isPoisoned(ref)) continue;
    const data = ref.data;
    if (!data || isPoisoned(data)) continue;
    const dead = (ref.percpu_count_ptr & __PERCPU_REF_DEAD) !== 0n;
    if (!dead) {
      out.push(`${ref.name} has not been killed: its release() cannot run before percpu_ref_kill() and the last put`, ...history_lines(ref));
      continue;
    }
    const atomic = (ref.percpu_count_ptr & __PERCPU_REF_ATOMIC) !== 0n;
    if (!atomic) {
      out.push(`${ref.name} is killed but still in per-CPU mode: the switch to atomic mode has not completed`, ...history_lines(ref));
      continue;
    }
    const n = data.count.counter;
    if (n > 0n) out.push(`${ref.name} is killed; ${n} reference${n === 1n ? '' : 's'} still held, so its release() has not run`, ...history_lines(ref));
  }
  return out;
}

/** A ref's gets and puts, one line each: the step, the task, the count's change, the operation and its callers (innermost first). */
function history_lines(ref: percpu_ref): string[] {
  const h = percpu_ref_history(ref);
  if (h.length === 0) return [];
  const taken = h.reduce((n, e) => n + (e.delta > 0 ? e.delta : 0), 0);
  const dropped = h.reduce((n, e) => n + (e.delta < 0 ? -e.delta : 0), 0);
  const width = Math.max(...h.map((e) => String(e.at.step).length));
  return [
    `  its references: ${taken} taken, ${dropped} dropped:`,
    ...h.map((e) => {
      const callers = e.at.stack.filter((f) => f !== e.op).reverse().slice(0, 3);
      return `    step ${String(e.at.step).padStart(width)}  ${e.at.thread}  ${e.delta > 0 ? '+' : ''}${e.delta} ${e.op}${callers.length ? ` < ${callers.join(' < ')}` : ''}`;
    }),
  ];
}
