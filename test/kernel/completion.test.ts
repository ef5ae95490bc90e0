// kernel/sched/completion.c, include/linux/completion.h
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../../src/engine/explore.js';
import type { ThreadSpec } from '../../src/engine/execution.js';
import { Cell, store, waitFor } from '../../src/examples/toy.js';
import { bootTree } from '../../src/history/trees.js';
import { spin_lock, spin_unlock, spinlock_t } from '../../src/kernel/include/linux/spinlock.js';
import {
  complete,
  complete_all,
  completion,
  completion_done,
  init_completion,
  reinit_completion,
  try_wait_for_completion,
  UINT_MAX,
  wait_for_completion,
  wait_for_completion_timeout,
} from '../../src/kernel/kernel/sched/completion.js';

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'];

function run(tree: string, build: () => { threads: ThreadSpec[]; outcome?: () => string }, o: ExploreOptions = {}) {
  return explore({ setup: () => { bootTree(tree); return build(); } }, { strategy: 'dpor', collectOutcomes: true, maxFaults: 0, ...o });
}

describe('complete / wait_for_completion', () => {
  it('kernel/sched/completion.c: complete() before wait_for_completion(): the wait returns at once and consumes the unit', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const x = new completion('x');
        const started = new Cell('completed');
        let woken = false;
        return {
          threads: [
            { name: 'waiter', *body() { yield* waitFor(started, 1); yield* wait_for_completion(x); woken = true; } },
            { name: 'completer', *body() { yield* complete(x); yield* store(started, 1); } },
          ],
          outcome: () => `woken=${woken} done=${x.done}`,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['woken=true done=0']);
    }
  });

  it('kernel/sched/completion.c: complete() after the waiter went to sleep wakes it', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const x = new completion('x');
        const sleeping = new Cell('sleeping');
        let woken = false;
        return {
          threads: [
            { name: 'waiter', *body() { yield* store(sleeping, 1); yield* wait_for_completion(x); woken = true; } },
            { name: 'completer', *body() { yield* waitFor(sleeping, 1); yield* complete(x); } },
          ],
          outcome: () => `woken=${woken} done=${x.done}`,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['woken=true done=0']);
    }
  });

  it('kernel/sched/completion.c: wait_for_completion() never completed is a hang finding naming the completion', () => {
    const r = run('v5.2', () => {
      const x = new completion('pgmap->done');
      return { threads: [{ name: 'unbind', *body() { yield* wait_for_completion(x); } }] };
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
    expect(r.findings[0]!.title).toBe('task hung: unbind in wait_for_completion waits for completion pgmap->done');
  });

  it('kernel/sched/completion.c: one complete() lets exactly one of two waiters through (the other hangs)', () => {
    const r = run('v6.14', () => {
      const x = new completion('x');
      return {
        threads: [
          { name: 'W1', *body() { yield* wait_for_completion(x); } },
          { name: 'W2', *body() { yield* wait_for_completion(x); } },
          { name: 'C', *body() { yield* complete(x); } },
        ],
      };
    });
    // Every execution hangs (W1 or W2 left waiting: one finding site, reached both ways).
    expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
    expect(r.outcomes).toEqual([]);
    expect(r.explored).toBe(2);
  });

  it('kernel/sched/completion.c: complete_all() sets done = UINT_MAX, releases every waiter and stays done', () => {
    const r = run('v6.15', () => {
      const x = new completion('x');
      let tried = false;
      return {
        threads: [
          { name: 'W1', *body() { yield* wait_for_completion(x); } },
          { name: 'W2', *body() { yield* wait_for_completion(x); tried = yield* try_wait_for_completion(x); } },
          { name: 'C', *body() { yield* complete_all(x); } },
        ],
        outcome: () => `done=${x.done} tried=${tried}`,
      };
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual([`done=${UINT_MAX} tried=true`]);
  });

  it('kernel/sched/completion.c: complete() counts; each wait consumes one unit', () => {
    const r = run('v5.1', () => {
      const x = new completion('x');
      const got: boolean[] = [];
      return {
        threads: [
          {
            name: 'A',
            *body() {
              yield* complete(x);
              yield* complete(x);
              yield* wait_for_completion(x);
              got.push(yield* completion_done(x));
              got.push(yield* try_wait_for_completion(x));
              got.push(yield* try_wait_for_completion(x));
              got.push(yield* completion_done(x));
            },
          },
        ],
        outcome: () => `${got.join(',')} done=${x.done}`,
      };
    });
    expect(r.outcomes).toEqual(['true,true,false,false done=0']);
  });

  it('include/linux/completion.h: reinit_completion() after complete_all() makes the next wait block again', () => {
    const r = run('newest', () => {
      const x = new completion('x');
      return { threads: [{ name: 'A', *body() { yield* init_completion(x); yield* complete_all(x); yield* wait_for_completion(x); yield* reinit_completion(x); yield* wait_for_completion(x); } }] };
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
  });

  it('kernel/sched/completion.c: wait_for_completion_timeout() returns 0 on timeout or >= 1 when completed', () => {
    const r = run('v6.14', () => {
      const x = new completion('x');
      let ret = -1;
      return {
        threads: [
          { name: 'W', *body() { ret = yield* wait_for_completion_timeout(x, 100); } },
          { name: 'C', *body() { yield* complete(x); } },
        ],
        outcome: () => `ret=${ret} done=${x.done}`,
      };
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['ret=0 done=1', 'ret=100 done=0']);
  });

  it('kernel/sched/core.c __might_sleep: wait_for_completion() under a spinlock is a sleeping-in-atomic BUG', () => {
    const r = run('v5.1', () => {
      const x = new completion('x');
      const s = new spinlock_t('s');
      return {
        threads: [
          { name: 'A', *body() { yield* spin_lock(s); yield* wait_for_completion(x); yield* spin_unlock(s); } },
          { name: 'C', *body() { yield* complete(x); } },
        ],
      };
    });
    expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['bug', 'BUG: sleeping function called from invalid context at kernel/sched/completion.c']]);
  });

  it('DPOR and DFS reach the same outcomes (two completers, two waiters)', () => {
    const build = () => {
      const x = new completion('x');
      const log: string[] = [];
      return {
        threads: [
          { name: 'W1', *body() { yield* wait_for_completion(x); log.push('W1'); } },
          { name: 'W2', *body() { log.push(String(yield* try_wait_for_completion(x))); } },
          { name: 'C1', *body() { yield* complete(x); } },
          { name: 'C2', *body() { yield* complete(x); } },
        ],
        outcome: () => `${log.join(',')} done=${x.done}`,
      };
    };
    const d = run('v6.15', build);
    const f = run('v6.15', build, { strategy: 'dfs' });
    expect(d.outcomes).toEqual(f.outcomes);
    expect(d.outcomes!.length).toBeGreaterThan(1);
  });
});
