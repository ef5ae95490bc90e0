// include/linux/spinlock.h (spin_lock_init, spin_lock, spin_unlock and the _irq/_irqsave/_bh
// variants) as on a CONFIG_DEBUG_SPINLOCK kernel (kernel/locking/spinlock_debug.c), plus the
// debug_locks switch of lib/debug_locks.c that the lock-debugging checks share (kept here because
// this file is where lock debugging first needs it; kernel/locking/mutex.ts uses it too).
// Trees: v5.1 .. newest, no differences the model sees.
//
// A spinlock disables preemption (and, for the _irq variants, interrupts) while held: the
// holder is in an RCU read-side critical section (v5.0+ consolidated RCU) and must not sleep,
// both kept in the thread's task record (kernel/rcu/tree.ts). Acquisition is an engine block
// until the lock is free; taking a lock one already holds is CONFIG_DEBUG_SPINLOCK's
// "BUG: spinlock recursion" followed by spinning forever (a hang).
//
// Not modelled: the "cpu recursion" and "wrong CPU" checks. The model pins several threads to
// one CPU (smp_processor_id() is tid mod nr_cpu_ids) without a CPU being an exclusive resource,
// so those checks would fire on legal executions.

import { static_inline } from './compiler.js';
import { block, type Gen, read, report, step, write } from '../../../engine/ops.js';
import { machine, smp_processor_id } from '../../machine.js';
import { current_task, preempt_disable_in_step, preempt_enable_in_step, task_access } from '../../kernel/rcu/tree.js';
import { printk } from '../../kernel/printk.js';

/** spinlock_t with CONFIG_DEBUG_SPINLOCK's fields (raw_lock, owner, owner_cpu). */
export class spinlock_t {
  /** raw_lock: held or not. */
  locked = false;
  /** The holder's thread id; null is SPINLOCK_OWNER_INIT / released. */
  owner: number | null = null;
  owner_cpu = -1;
  /** The lock's name for messages (what lockdep would print). */
  constructor(readonly name = 'spinlock') {}
}

/** DEFINE_SPINLOCK(name): a statically initialised lock. */
export function DEFINE_SPINLOCK(name: string): spinlock_t {
  return new spinlock_t(name);
}

/** The flags word local_irq_save() returns; the model keeps interrupt state in the task record. */
export type irqflags_t = number;

// ---- lib/debug_locks.c ----

class debug_locks_state {
  /** debug_locks: lock debugging is on until the first problem is reported. */
  debug_locks = 1;
}

export function debug_locks_object(): object {
  return machine().global('debug_locks', () => new debug_locks_state());
}

/**
 * debug_locks_off() (lib/debug_locks.c): turns lock debugging off; returns 1 only for the first
 * caller, so that only the first locking problem of a boot is printed.
 */
export function* debug_locks_off(): Gen<number> {
  const d = debug_locks_object() as debug_locks_state;
  yield* step('debug_locks_off()', write(d));
  if (d.debug_locks) {
    d.debug_locks = 0;
    return 1;
  }
  return 0;
}

/**
 * DEBUG_LOCKS_WARN_ON(c) (include/linux/debug_locks.h): when c holds and debug_locks_off()
 * succeeds, WARN(1, "DEBUG_LOCKS_WARN_ON(<c>)"). Returns c.
 */
export function* DEBUG_LOCKS_WARN_ON(c: boolean, where: string, text: string): Gen<boolean> {
  if (!c) return false;
  if (yield* debug_locks_off()) yield* report('warn', `WARNING: at ${where}: DEBUG_LOCKS_WARN_ON(${text})`);
  return true;
}

// ---- kernel/locking/spinlock_debug.c ----

/** spin_bug() → spin_dump(): "BUG: spinlock <msg> on CPU#<cpu>, <comm>/<pid>", once per boot. */
function* spin_bug(lock: spinlock_t, msg: string, cpu: number, comm: string, pid: number): Gen<void> {
  if (!(yield* debug_locks_off())) return;
  const title = `BUG: spinlock ${msg} on CPU#${cpu}, ${comm}/${pid}`;
  yield* printk('<0>', title);
  yield* printk('<0>', ` lock: ${lock.name}, .owner: ${lock.owner === null ? '<none>/-1' : `tid ${lock.owner}`}, .owner_cpu: ${lock.owner_cpu}`);
  yield* report('bug', title);
}

/** spin_lock_init(lock) (include/linux/spinlock.h → __raw_spin_lock_init): unlocked, no owner. */
export const spin_lock_init = static_inline('spin_lock_init', function* (lock: spinlock_t): Gen<void> {
  yield* step(`spin_lock_init(&${lock.name})`, write(lock));
  lock.locked = false;
  lock.owner = null;
  lock.owner_cpu = -1;
});

/** preempt_disable(); debug_spin_lock_before(); arch_spin_lock(); debug_spin_lock_after(). */
function* __spin_lock(how: string, lock: spinlock_t): Gen<void> {
  const t = yield* current_task();
  const cpu = yield* smp_processor_id();
  yield* block(`${how}(&${lock.name})`, `spinlock ${lock.name}`, () => !lock.locked || lock.owner === t.tid, write(lock), ...task_access(t, 'preempt_disable'));
  preempt_disable_in_step(t);
  if (!lock.locked) {
    lock.locked = true;
    lock.owner = t.tid;
    lock.owner_cpu = cpu;
    return;
  }
  // debug_spin_lock_before(): SPIN_BUG_ON(lock->owner == current, lock, "recursion"), then the
  // arch lock spins for ever.
  yield* spin_bug(lock, 'recursion', cpu, t.comm, t.tid);
  yield* block(`${how}(&${lock.name}) spins`, `spinlock ${lock.name} (held by this task)`, () => !lock.locked, write(lock));
  lock.locked = true;
  lock.owner = t.tid;
  lock.owner_cpu = cpu;
}

/** debug_spin_unlock(); arch_spin_unlock(); preempt_enable(). */
function* __spin_unlock(how: string, lock: spinlock_t): Gen<void> {
  const t = yield* current_task();
  const cpu = yield* smp_processor_id();
  yield* step(`${how}(&${lock.name})`, write(lock), ...task_access(t, 'preempt_enable'));
  // debug_spin_unlock(): SPIN_BUG_ON(!raw_spin_is_locked(lock), lock, "already unlocked");
  // SPIN_BUG_ON(lock->owner != current, lock, "wrong owner"). spin_bug() prints only the first.
  const bad = !lock.locked ? 'already unlocked' : lock.owner !== t.tid ? 'wrong owner' : undefined;
  const owner = lock.owner;
  const owner_cpu = lock.owner_cpu;
  lock.owner = null;
  lock.owner_cpu = -1;
  lock.locked = false;
  preempt_enable_in_step(t);
  if (bad !== undefined) {
    const shown = new spinlock_t(lock.name);
    shown.owner = owner;
    shown.owner_cpu = owner_cpu;
    yield* spin_bug(shown, bad, cpu, t.comm, t.tid);
  }
}

/** spin_lock(lock) (include/linux/spinlock.h). */
export const spin_lock = static_inline('spin_lock', function* (lock: spinlock_t): Gen<void> {
  yield* __spin_lock('spin_lock', lock);
});

/** spin_unlock(lock) (include/linux/spinlock.h). */
export const spin_unlock = static_inline('spin_unlock', function* (lock: spinlock_t): Gen<void> {
  yield* __spin_unlock('spin_unlock', lock);
});

/** spin_lock_irq(lock): local_irq_disable() + spin_lock; the model counts both as atomic context. */
export const spin_lock_irq = static_inline('spin_lock_irq', function* (lock: spinlock_t): Gen<void> {
  yield* __spin_lock('spin_lock_irq', lock);
});

export const spin_unlock_irq = static_inline('spin_unlock_irq', function* (lock: spinlock_t): Gen<void> {
  yield* __spin_unlock('spin_unlock_irq', lock);
});

/** spin_lock_irqsave(lock, flags): as spin_lock; returns the saved flags. */
export const spin_lock_irqsave = static_inline('spin_lock_irqsave', function* (lock: spinlock_t): Gen<irqflags_t> {
  yield* __spin_lock('spin_lock_irqsave', lock);
  return 0;
});

/** spin_unlock_irqrestore(lock, flags): as spin_unlock. */
export const spin_unlock_irqrestore = static_inline('spin_unlock_irqrestore', function* (lock: spinlock_t, _flags: irqflags_t): Gen<void> {
  yield* __spin_unlock('spin_unlock_irqrestore', lock);
});

/** spin_lock_bh(lock): local_bh_disable() + spin_lock. */
export const spin_lock_bh = static_inline('spin_lock_bh', function* (lock: spinlock_t): Gen<void> {
  yield* __spin_lock('spin_lock_bh', lock);
});

export const spin_unlock_bh = static_inline('spin_unlock_bh', function* (lock: spinlock_t): Gen<void> {
  yield* __spin_unlock('spin_unlock_bh', lock);
});

/** spin_trylock(lock): takes the lock if it is free; returns 1 on success. */
export const spin_trylock = static_inline('spin_trylock', function* (lock: spinlock_t): Gen<number> {
  const t = yield* current_task();
  const cpu = yield* smp_processor_id();
  yield* step(`spin_trylock(&${lock.name})`, write(lock), ...task_access(t, 'preempt_disable'));
  if (lock.locked) return 0;
  preempt_disable_in_step(t);
  lock.locked = true;
  lock.owner = t.tid;
  lock.owner_cpu = cpu;
  return 1;
});

/** spin_is_locked(lock). */
export const spin_is_locked = static_inline('spin_is_locked', function* (lock: spinlock_t): Gen<boolean> {
  yield* step(`spin_is_locked(&${lock.name})`, read(lock));
  return lock.locked;
});

/** lockdep_assert_held(lock): with lockdep, WARN_ON(debug_locks && !lockdep_is_held(lock)). */
export function* lockdep_assert_held(lock: spinlock_t, where: string): Gen<void> {
  const t = yield* current_task();
  // Only the holder can make lock.owner equal its own tid, so this needs no step.
  if (lock.owner !== t.tid) {
    const d = debug_locks_object() as debug_locks_state;
    yield* step('lockdep_assert_held()', write(d));
    if (d.debug_locks) yield* report('warn', `WARNING: at ${where}: lockdep_assert_held(${lock.name})`);
  }
}
