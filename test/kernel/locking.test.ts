// include/linux/spinlock.h + kernel/locking/spinlock_debug.c, kernel/locking/mutex.c
// (CONFIG_DEBUG_SPINLOCK, CONFIG_DEBUG_MUTEXES, CONFIG_DEBUG_ATOMIC_SLEEP).
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../../src/engine/explore.js';
import type { ThreadSpec } from '../../src/engine/execution.js';
import { type Gen } from '../../src/engine/ops.js';
import { Cell, load, store, waitFor } from '../../src/examples/toy.js';
import { bootTree } from '../../src/history/trees.js';
import { spin_lock, spin_lock_irqsave, spin_trylock, spin_unlock, spin_unlock_irqrestore, spinlock_t } from '../../src/kernel/include/linux/spinlock.js';
import { mutex, mutex_is_locked, mutex_lock, mutex_trylock, mutex_unlock } from '../../src/kernel/kernel/locking/mutex.js';

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'];

function run(tree: string, build: () => { threads: ThreadSpec[]; outcome?: () => string }, o: ExploreOptions = {}) {
  return explore({ setup: () => { bootTree(tree); return build(); } }, { strategy: 'dpor', collectOutcomes: true, maxFaults: 0, ...o });
}

/** Two threads each doing x = x + 1 as a load and a store, inside `lock`/`unlock` if given. */
function increments(lockKind: 'spin' | 'mutex' | 'none') {
  return () => {
    const x = new Cell('x');
    const s = new spinlock_t('s');
    const m = new mutex('m');
    function* body(): Gen<void> {
      if (lockKind === 'spin') yield* spin_lock(s);
      if (lockKind === 'mutex') yield* mutex_lock(m);
      const v = yield* load(x);
      yield* store(x, v + 1);
      if (lockKind === 'spin') yield* spin_unlock(s);
      if (lockKind === 'mutex') yield* mutex_unlock(m);
    }
    return { threads: [{ name: 'A', body }, { name: 'B', body }], outcome: () => `x=${x.value}` };
  };
}

describe('mutual exclusion', () => {
  it('kernel/locking/mutex.c: mutex_lock excludes; a lost update is impossible under the mutex', () => {
    for (const tree of TREES) {
      const r = run(tree, increments('mutex'));
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['x=2']);
    }
  });

  it('the same increments without a lock lose an update', () => {
    const r = run('v6.15', increments('none'));
    expect(r.outcomes).toEqual(['x=1', 'x=2']);
  });

  it('include/linux/spinlock.h: spin_lock excludes; a lost update is impossible under the spinlock', () => {
    for (const tree of TREES) {
      const r = run(tree, increments('spin'));
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['x=2']);
    }
  });

  it('DPOR and DFS reach the same outcomes for the locked and unlocked increments', () => {
    for (const k of ['spin', 'mutex', 'none'] as const) {
      const d = run('v5.1', increments(k));
      const f = run('v5.1', increments(k), { strategy: 'dfs' });
      expect(d.outcomes).toEqual(f.outcomes);
      expect(d.complete && f.complete).toBe(true);
    }
  });

  it('spin_trylock fails while the lock is held; spin_lock_irqsave/irqrestore lock like spin_lock', () => {
    const r = run('v5.2', () => {
      const s = new spinlock_t('s');
      const got: number[] = [];
      return {
        threads: [
          { name: 'A', *body() { const f = yield* spin_lock_irqsave(s); got.push(yield* spin_trylock(s)); yield* spin_unlock_irqrestore(s, f); } },
        ],
        outcome: () => got.join(','),
      };
    });
    // A trylock of one's own lock simply fails (no recursion check on trylock).
    expect(r.outcomes).toEqual(['0']);
    expect(r.findings).toEqual([]);
  });
});

describe('debug checks', () => {
  it('kernel/locking/mutex.c: mutex_unlock by a non-owner is DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current) and releases the mutex', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const m = new mutex('m');
        let locked = true;
        return {
          threads: [{ name: 'A', *body() { yield* mutex_lock(m); } }, { name: 'B', *body() { yield* mutex_unlock(m); locked = yield* mutex_is_locked(m); } }],
          outcome: () => `locked=${locked}`,
        };
      });
      expect(r.findings.map((f) => f.title)).toEqual(['WARNING: at kernel/locking/mutex.c __mutex_unlock_slowpath: DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)']);
      expect(r.findings[0]!.kind).toBe('warn');
    }
  });

  it('kernel/locking/mutex.c: unlocking an unlocked mutex warns the same way; debug_locks_off() makes it print once per boot', () => {
    const r = run('v6.14', () => {
      const m = new mutex('m');
      return { threads: [{ name: 'A', *body() { yield* mutex_unlock(m); yield* mutex_unlock(m); } }] };
    });
    expect(r.findings.length).toBe(1);
    expect(r.findings[0]!.title).toContain('DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)');
  });

  it('kernel/locking/mutex.c: mutex_trylock fails on a held mutex; a second mutex_lock by the owner deadlocks (hang)', () => {
    const r = run('v5.1', () => {
      const m = new mutex('m');
      let t = -1;
      return { threads: [{ name: 'A', *body() { yield* mutex_lock(m); t = yield* mutex_trylock(m); yield* mutex_lock(m); } }], outcome: () => String(t) };
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
    expect(r.findings[0]!.title).toContain('mutex m');
  });

  it('kernel/locking/spinlock_debug.c: spin_unlock of an unlocked lock is "BUG: spinlock already unlocked"', () => {
    const r = run('v6.15', () => {
      const s = new spinlock_t('s');
      return { threads: [{ name: 'A', *body() { yield* spin_unlock(s); } }] };
    });
    expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['bug', 'BUG: spinlock already unlocked on CPU#0, A/0']]);
  });

  it('kernel/locking/spinlock_debug.c: spin_unlock by another task is "BUG: spinlock wrong owner"', () => {
    const r = run('v5.2', () => {
      const s = new spinlock_t('s');
      const flag = new Cell('held');
      return {
        threads: [
          { name: 'A', *body() { yield* spin_lock(s); yield* store(flag, 1); } },
          { name: 'B', *body() { yield* waitFor(flag, 1); yield* spin_unlock(s); } },
        ],
      };
    });
    expect(r.findings.map((f) => f.title)).toEqual(['BUG: spinlock wrong owner on CPU#1, B/1']);
  });

  it('kernel/locking/spinlock_debug.c: taking a spinlock one holds is "BUG: spinlock recursion", then spins for ever (hang)', () => {
    const r = run('newest', () => {
      const s = new spinlock_t('s');
      return { threads: [{ name: 'A', *body() { yield* spin_lock(s); yield* spin_lock(s); } }] };
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['bug', 'hang']);
    expect(r.findings[0]!.title).toBe('BUG: spinlock recursion on CPU#0, A/0');
  });

  it('kernel/sched/core.c __might_sleep: mutex_lock under a spinlock is "BUG: sleeping function called from invalid context"', () => {
    const r = run('v6.14', () => {
      const s = new spinlock_t('s');
      const m = new mutex('m');
      return { threads: [{ name: 'A', *body() { yield* spin_lock(s); yield* mutex_lock(m); yield* mutex_unlock(m); yield* spin_unlock(s); } }] };
    });
    expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['bug', 'BUG: sleeping function called from invalid context at kernel/locking/mutex.c']]);
  });

  it('mutex_lock after spin_unlock is fine (the preemption count is balanced)', () => {
    const r = run('v6.14', () => {
      const s = new spinlock_t('s');
      const m = new mutex('m');
      return { threads: [{ name: 'A', *body() { yield* spin_lock(s); yield* spin_unlock(s); yield* mutex_lock(m); yield* mutex_unlock(m); } }] };
    });
    expect(r.findings).toEqual([]);
  });
});
