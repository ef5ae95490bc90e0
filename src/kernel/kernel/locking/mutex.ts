// kernel/locking/mutex.c (struct mutex, mutex_init, mutex_lock, mutex_trylock, mutex_unlock) and
// the mutex_is_locked() inline of include/linux/mutex.h, as on a CONFIG_DEBUG_MUTEXES kernel.
// Trees: v5.1 .. newest. The unlock check is DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)
// in __mutex_unlock_slowpath() in every modelled tree (spelt MUTEX_WARN_ON() since v5.16, which
// expands to the same DEBUG_LOCKS_WARN_ON under CONFIG_DEBUG_MUTEXES); it only warns, and the
// unlock goes ahead, releasing a mutex some other task holds. Unlocking an unlocked mutex warns
// the same way (the owner is no task) and leaves it unlocked.
//
// The owner word is modelled as the owning thread's id; waiters block in the engine until the
// mutex is free (the kernel's wait list, handoff and optimistic spinning change which waiter
// wins, which the engine explores anyway). mutex_lock() may sleep: might_sleep() complains when
// it is called in atomic context or an RCU read-side section. Taking a mutex one holds
// deadlocks: a hang.

import { block, frame, type Gen, read, self, step, write } from '../../../engine/ops.js';
import { DEBUG_LOCKS_WARN_ON } from '../../include/linux/spinlock.js';
import { might_sleep } from '../rcu/tree.js';

/** struct mutex: owner (0 when unlocked) as the owning thread's id, or null. */
export class mutex {
  owner: number | null = null;
  constructor(readonly name = 'mutex') {}
}

/** DEFINE_MUTEX(name): a statically initialised mutex. */
export function DEFINE_MUTEX(name: string): mutex {
  return new mutex(name);
}

/** mutex_init(lock) (kernel/locking/mutex.c __mutex_init): unlocked. */
export const mutex_init = frame('mutex_init', function* (lock: mutex): Gen<void> {
  yield* step(`mutex_init(&${lock.name})`, write(lock));
  lock.owner = null;
});

/** mutex_lock(lock) (kernel/locking/mutex.c): might_sleep(), then wait until free and take it. */
export const mutex_lock = frame('mutex_lock', function* (lock: mutex): Gen<void> {
  yield* might_sleep('kernel/locking/mutex.c');
  const me = yield* self();
  yield* block(`mutex_lock(&${lock.name})`, `mutex ${lock.name}`, () => lock.owner === null, write(lock));
  lock.owner = me.tid;
});

/** mutex_trylock(lock) (kernel/locking/mutex.c): 1 if taken, 0 if it is held. */
export const mutex_trylock = frame('mutex_trylock', function* (lock: mutex): Gen<number> {
  const me = yield* self();
  yield* step(`mutex_trylock(&${lock.name})`, write(lock));
  if (lock.owner !== null) return 0;
  lock.owner = me.tid;
  return 1;
});

/** mutex_unlock(lock) (kernel/locking/mutex.c → __mutex_unlock_slowpath for a non-owner). */
export const mutex_unlock = frame('mutex_unlock', function* (lock: mutex): Gen<void> {
  const me = yield* self();
  yield* step(`mutex_unlock(&${lock.name})`, write(lock));
  const owner = lock.owner;
  // The owner field loses its task (the flags would stay): the mutex is released.
  lock.owner = null;
  yield* DEBUG_LOCKS_WARN_ON(owner !== me.tid, 'kernel/locking/mutex.c __mutex_unlock_slowpath', '__owner_task(owner) != current');
});

/** mutex_is_locked(lock) (include/linux/mutex.h): the owner word is non-zero. */
export const mutex_is_locked = frame('mutex_is_locked', function* (lock: mutex): Gen<boolean> {
  yield* step(`mutex_is_locked(&${lock.name})`, read(lock));
  return lock.owner !== null;
});

/** lockdep_assert_held(&mutex) with lockdep: the running task holds it (own state, no step). */
export function* mutex_held_by_current(lock: mutex): Gen<boolean> {
  const me = yield* self();
  return lock.owner === me.tid;
}
