// kernel/rcu/tree.c (synchronize_rcu, call_rcu) and include/linux/rcupdate.h (read side)
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../../src/engine/explore.js';
import type { ThreadSpec } from '../../src/engine/execution.js';
import { type Gen, read, step, write } from '../../src/engine/ops.js';
import { Cell, store, waitFor } from '../../src/examples/toy.js';
import { bootTree } from '../../src/history/trees.js';
import { GFP_KERNEL } from '../../src/kernel/include/linux/gfp.js';
import { spin_lock, spin_unlock, spinlock_t } from '../../src/kernel/include/linux/spinlock.js';
import { mutex, mutex_lock, mutex_unlock } from '../../src/kernel/kernel/locking/mutex.js';
import {
  call_rcu,
  current_task,
  might_sleep,
  rcu_assign_pointer,
  rcu_dereference,
  rcu_head,
  rcu_read_lock,
  rcu_read_lock_in_step,
  rcu_read_unlock,
  synchronize_rcu,
} from '../../src/kernel/kernel/rcu/tree.js';
import { kfree, kmalloc } from '../../src/kernel/mm/slab.js';

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'];

function run(tree: string, build: () => { threads: ThreadSpec[]; outcome?: () => string }, o: ExploreOptions = {}) {
  return explore({ setup: () => { bootTree(tree); return build(); } }, { strategy: 'dpor', collectOutcomes: true, maxFaults: 0, ...o });
}

class obj {
  x = 42;
  readonly head = new rcu_head();
}
class holder {
  p: obj | null = null;
}

/** A reader dereferencing gp->p under rcu_read_lock and reading p->x; an updater unpublishing and freeing it. */
function publishAndFree(mode: 'synchronize_rcu' | 'call_rcu' | 'none') {
  return () => {
    const gp = new holder();
    let seen = 'none';
    function* reader(): Gen<void> {
      yield* rcu_read_lock();
      const p = yield* rcu_dereference(gp, 'p');
      if (p) {
        yield* step('READ_ONCE(p->x)', read(p));
        seen = String(p.x);
      }
      yield* rcu_read_unlock();
    }
    function* updater(): Gen<void> {
      const p = yield* kmalloc('struct obj', 'updater', () => new obj(), GFP_KERNEL);
      if (!p) return;
      yield* rcu_assign_pointer(gp, 'p', p);
      yield* rcu_assign_pointer(gp, 'p', null);
      if (mode === 'synchronize_rcu') {
        yield* synchronize_rcu();
        yield* step('kfree(p)', write(p));
        yield* kfree(p);
      } else if (mode === 'call_rcu') {
        yield* call_rcu(p.head, function* free_obj(_h: rcu_head): Gen<void> {
          yield* step('kfree(p)', write(p));
          yield* kfree(p);
        });
      } else {
        yield* step('kfree(p)', write(p));
        yield* kfree(p);
      }
    }
    return { threads: [{ name: 'reader', body: reader }, { name: 'updater', body: updater }], outcome: () => seen };
  };
}

describe('grace periods', () => {
  it('kernel/rcu/tree.c: synchronize_rcu() waits for a reader that began before it: no use-after-free', () => {
    for (const tree of TREES) {
      const r = run(tree, publishAndFree('synchronize_rcu'));
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['42', 'none']);
    }
  });

  it('kernel/rcu/tree.c: call_rcu() runs the callback only after pre-existing readers: no use-after-free', () => {
    for (const tree of TREES) {
      const r = run(tree, publishAndFree('call_rcu'));
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['42', 'none']);
    }
  });

  it('without a grace period the reader can touch freed memory (KASAN use-after-free)', () => {
    const r = run('v6.15', publishAndFree('none'));
    expect(r.findings.map((f) => f.kind)).toEqual(['kasan']);
    expect(r.findings[0]!.title).toContain('use-after-free');
  });

  it('kernel/rcu/tree.c: synchronize_rcu() does not wait for readers that begin after it (both orders explored)', () => {
    // The reader holds its section until the updater's synchronize_rcu() has returned. If the
    // reader entered first, that is a deadlock (a hang); if after, the grace period ignores it.
    const r = run('v5.2', () => {
      const done = new Cell('synchronized');
      return {
        threads: [
          { name: 'reader', *body() { yield* rcu_read_lock(); yield* waitFor(done, 1); yield* rcu_read_unlock(); } },
          { name: 'updater', *body() { yield* synchronize_rcu(); yield* store(done, 1); } },
        ],
        outcome: () => 'returned',
      };
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
    expect(r.findings[0]!.title).toContain('an RCU grace period (readers: reader)');
    expect(r.outcomes).toEqual(['returned']);
  });

  it('v5.0+ consolidated RCU: a spinlock-held (preemption-disabled) region is a read-side section for synchronize_rcu()', () => {
    const r = run('v6.14', () => {
      const s = new spinlock_t('s');
      const done = new Cell('synchronized');
      return {
        threads: [
          { name: 'holder', *body() { yield* spin_lock(s); yield* waitFor(done, 1); yield* spin_unlock(s); } },
          { name: 'updater', *body() { yield* synchronize_rcu(); yield* store(done, 1); } },
        ],
        outcome: () => 'returned',
      };
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
    expect(r.outcomes).toEqual(['returned']);
  });

  it('nested rcu_read_lock(): the section ends at the outermost rcu_read_unlock()', () => {
    const r = run('newest', () => {
      const inner = new Cell('inner released');
      const order: string[] = [];
      return {
        threads: [
          {
            name: 'reader',
            *body() {
              yield* rcu_read_lock();
              yield* rcu_read_lock();
              yield* rcu_read_unlock();
              yield* store(inner, 1);
              order.push('outer unlock');
              yield* rcu_read_unlock();
            },
          },
          { name: 'updater', *body() { yield* waitFor(inner, 1); yield* synchronize_rcu(); order.push('gp'); } },
        ],
        outcome: () => order.join(','),
      };
    });
    expect(r.outcomes).toEqual(['outer unlock,gp']);
  });

  it('kernel/rcu/tree.c: synchronize_rcu() inside a read-side section waits for itself (hang) and might_sleep complains', () => {
    const r = run('v5.1', () => ({ threads: [{ name: 'A', *body() { yield* rcu_read_lock(); yield* synchronize_rcu(); } }] }));
    expect(r.findings.map((f) => f.kind)).toEqual(['bug', 'hang']);
    expect(r.findings[0]!.title).toBe('BUG: sleeping function called from invalid context at kernel/rcu/tree.c');
  });

  it('RCU callbacks run in softirq context: sleeping in one is a BUG', () => {
    const r = run('v6.15', () => {
      const m = new mutex('m');
      return {
        threads: [
          { name: 'A', *body() { yield* call_rcu(new rcu_head(), function* cb(): Gen<void> { yield* mutex_lock(m); yield* mutex_unlock(m); }); } },
        ],
      };
    });
    expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['bug', 'BUG: sleeping function called from invalid context at kernel/locking/mutex.c']]);
    expect(r.findings[0]!.thread).toBe('rcu callbacks on CPU 0');
  });

  it('include/linux/rcupdate.h (CONFIG_PROVE_RCU): rcu_dereference() outside a read-side section is "suspicious RCU usage"', () => {
    const r = run('v6.14', () => {
      const gp = new holder();
      return { threads: [{ name: 'A', *body() { yield* rcu_dereference(gp, 'p', 'test_reader'); yield* rcu_read_lock(); yield* rcu_dereference(gp, 'p', 'test_reader2'); yield* rcu_read_unlock(); } }] };
    });
    expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['warn', 'WARNING: suspicious RCU usage: test_reader: suspicious rcu_dereference_check() usage!']]);
  });

  it('might_sleep() outside any atomic section is silent', () => {
    const r = run('v5.1', () => ({ threads: [{ name: 'A', *body() { yield* might_sleep('x.c'); } }] }));
    expect(r.findings).toEqual([]);
  });

  it('DPOR and DFS reach the same outcomes (reader vs synchronize_rcu + free, and vs call_rcu)', () => {
    for (const mode of ['synchronize_rcu', 'call_rcu'] as const) {
      const d = run('v5.1', publishAndFree(mode));
      const f = run('v5.1', publishAndFree(mode), { strategy: 'dfs' });
      expect(d.outcomes).toEqual(f.outcomes);
      expect(f.findings).toEqual([]);
      expect(f.complete).toBe(true);
    }
  });

  it('DPOR and DFS reach the same outcomes with nested sections and spinlock sections', () => {
    // Grace periods order only against the outermost entry of each section (gp_seq) and wait on
    // that section's end; nested entries and exits conflict with nothing. The reader has a
    // nested section and then a spinlock-held one; the updater retires an object through
    // synchronize_rcu() or call_rcu().
    for (const how of ['synchronize_rcu', 'call_rcu'] as const) {
      const build = () => {
        const gp = new holder();
        const lock = new spinlock_t('lock');
        const seen: string[] = [];
        function* deref(where: string): Gen<void> {
          const p = yield* rcu_dereference(gp, 'p');
          if (p) {
            yield* step('READ_ONCE(p->x)', read(p));
            seen.push(where);
          }
        }
        function* reader(): Gen<void> {
          yield* rcu_read_lock();
          yield* rcu_read_lock();
          yield* deref('nested');
          yield* rcu_read_unlock();
          yield* rcu_read_unlock();
          yield* spin_lock(lock);
          yield* deref('spinlock');
          yield* spin_unlock(lock);
        }
        function* updater(): Gen<void> {
          const p = yield* kmalloc('struct obj', 'updater', () => new obj(), GFP_KERNEL);
          if (!p) return;
          yield* rcu_assign_pointer(gp, 'p', p);
          yield* rcu_assign_pointer(gp, 'p', null);
          const free = function* free_obj(): Gen<void> {
            yield* step('kfree(p)', write(p));
            yield* kfree(p);
          };
          if (how === 'synchronize_rcu') {
            yield* synchronize_rcu();
            yield* free();
          } else {
            yield* call_rcu(p.head, free);
          }
        }
        return { threads: [{ name: 'reader', body: reader }, { name: 'updater', body: updater }], outcome: () => seen.join(' ') };
      };
      const d = run('v6.14', build);
      const f = run('v6.14', build, { strategy: 'dfs' });
      expect(f.complete).toBe(true);
      expect(f.findings).toEqual([]);
      expect(d.findings).toEqual([]);
      expect(d.outcomes).toEqual(f.outcomes);
      expect(d.outcomes).toEqual(['', 'nested', 'nested spinlock', 'spinlock']);
      expect(d.explored).toBeLessThan(f.explored);
    }
  });

  it('a step that opens a read-side section without listing task_access() is a fault of the model', () => {
    const bad = () => ({
      threads: [
        {
          name: 'A',
          *body(): Gen<void> {
            const t = yield* current_task();
            yield* step('rcu_read_lock() without its accesses');
            rcu_read_lock_in_step(t);
          },
        },
      ],
    });
    expect(() => run('v6.14', bad)).toThrow(/did not list task_access/);
  });
});
