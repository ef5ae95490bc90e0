// kernel/sched/completion.c and include/linux/completion.h: struct completion, init_completion,
// reinit_completion, complete, complete_all, wait_for_completion(_timeout),
// try_wait_for_completion, completion_done. Trees: v5.1 .. newest. The wait queue changed from a
// waitqueue with a spinlock to a simple wait queue with a raw spinlock (~v5.7); the semantics of
// `done` did not: it counts complete() calls not yet consumed by a wait, and UINT_MAX (set by
// complete_all()) is sticky until init/reinit.
//
// Everything the kernel does under x->wait.lock is one step on the completion object. A waiter
// blocks in the engine until done != 0 and consumes one unit in the same step, so one complete()
// lets exactly one waiter through. The kernel wakes the first queued exclusive waiter; the engine
// lets any blocked waiter take the unit (a superset of the kernel's orders, since a newly arriving
// waiter can take it before a woken one too). A wait that is never completed is a hang.

import { block, choose, frame, type Gen, read, step, write } from '../../../engine/ops.js';
import { might_sleep } from '../rcu/tree.js';

export const UINT_MAX = 0xffffffff;

/** struct completion (include/linux/completion.h). */
export class completion {
  done = 0;
  /** A name for messages: what a hung waiter waits for. */
  constructor(readonly name = 'completion') {}
}

/** DECLARE_COMPLETION(work) / COMPLETION_INITIALIZER: done = 0. */
export function DECLARE_COMPLETION(name: string): completion {
  return new completion(name);
}

/** init_completion(x) (include/linux/completion.h): done = 0, an empty wait queue. */
export const init_completion = frame('init_completion', function* (x: completion): Gen<void> {
  yield* step(`init_completion(&${x.name})`, write(x));
  x.done = 0;
});

/** reinit_completion(x) (include/linux/completion.h): done = 0 only, no lock. */
export const reinit_completion = frame('reinit_completion', function* (x: completion): Gen<void> {
  yield* step(`reinit_completion(&${x.name})`, write(x));
  x.done = 0;
});

/** complete(x) (kernel/sched/completion.c): under the lock, done++ unless UINT_MAX; wake one. */
export const complete = frame('complete', function* (x: completion): Gen<void> {
  yield* step(`complete(&${x.name})`, write(x));
  if (x.done !== UINT_MAX) x.done++;
});

/** complete_all(x) (kernel/sched/completion.c): under the lock, done = UINT_MAX; wake all. */
export const complete_all = frame('complete_all', function* (x: completion): Gen<void> {
  yield* step(`complete_all(&${x.name})`, write(x));
  x.done = UINT_MAX;
});

/**
 * wait_for_completion(x) (kernel/sched/completion.c → __wait_for_common → do_wait_for_common):
 * might_sleep(); sleep (TASK_UNINTERRUPTIBLE) until done != 0, then consume one unit unless
 * done is UINT_MAX.
 */
export const wait_for_completion = frame('wait_for_completion', function* (x: completion): Gen<void> {
  yield* might_sleep('kernel/sched/completion.c');
  yield* block(`wait_for_completion(&${x.name})`, `completion ${x.name}`, () => x.done !== 0, write(x));
  if (x.done !== UINT_MAX) x.done--;
});

/**
 * wait_for_completion_timeout(x, timeout) (kernel/sched/completion.c): as wait_for_completion,
 * but the timeout may expire first; returns 0 on timeout, else the remaining time (>= 1). When
 * the timeout expires is a choice of the engine: the wait either sleeps until completed, or
 * gives up at a point where the completion is not done.
 */
export const wait_for_completion_timeout = frame('wait_for_completion_timeout', function* (x: completion, timeout: number): Gen<number> {
  yield* might_sleep('kernel/sched/completion.c');
  const expires = (yield* choose(`wait_for_completion_timeout(&${x.name}): the timeout expires`, 2)) === 1;
  if (expires) {
    yield* step(`wait_for_completion_timeout(&${x.name}): timeout`, write(x));
    if (x.done === 0) return 0;
  } else {
    yield* block(`wait_for_completion_timeout(&${x.name})`, `completion ${x.name}`, () => x.done !== 0, write(x));
  }
  if (x.done !== UINT_MAX) x.done--;
  return Math.max(1, timeout);
});

/**
 * try_wait_for_completion(x) (kernel/sched/completion.c): consume a unit without sleeping;
 * false if done == 0. (The lockless READ_ONCE fast path and the locked re-check are one step:
 * a unit consumed between them gives the same result as the fast path seeing 0.)
 */
export const try_wait_for_completion = frame('try_wait_for_completion', function* (x: completion): Gen<boolean> {
  yield* step(`try_wait_for_completion(&${x.name})`, write(x));
  if (x.done === 0) return false;
  if (x.done !== UINT_MAX) x.done--;
  return true;
});

/**
 * completion_done(x) (kernel/sched/completion.c): true when a wait would not block (done != 0).
 * The kernel then takes and drops x->wait.lock to wait out a complete() in flight; complete()
 * is one step here, so nothing is in flight.
 */
export const completion_done = frame('completion_done', function* (x: completion): Gen<boolean> {
  yield* step(`completion_done(&${x.name})`, read(x));
  return x.done !== 0;
});
