// drivers/base/devres.c and the devres inlines of include/linux/device.h: the contracts the model
// must keep, per tree.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/engine/explore.js';
import { frame, type Gen, step, write } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import { device, device_initialize } from '../../src/kernel/drivers/base/core.js';
import {
  type devm_action_t,
  devm_add_action,
  devm_add_action_or_reset,
  devm_kfree,
  devm_kmalloc,
  devm_kzalloc,
  devm_release_action,
  devm_remove_action,
  devres_add,
  devres_alloc,
  devres_destroy,
  devres_free,
  devres_release,
  devres_release_all,
} from '../../src/kernel/drivers/base/devres.js';
import { devm_gen_pool_create, gen_pool, gen_pool_add, gen_pool_alloc, gen_pool_free, gen_pool_get } from '../../src/kernel/include/linux/genalloc.js';
import { IS_ERR, PTR_ERR } from '../../src/kernel/include/linux/err.js';
import { machine } from '../../src/kernel/machine.js';

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'];
const RELEASE_ACTION_TREES = ['v5.2', 'v6.14', 'v6.15', 'newest'];

/** A test's world: a device, a log the actions write, a phase marker. */
class World {
  readonly dev = new device('dev0');
  readonly log: string[] = [];
  phase = 'probe';
  constructor() {
    device_initialize(this.dev);
  }
  /** A framed action named `name` that logs `name@phase` (and its data when not null). */
  action(name: string): devm_action_t<string | null> {
    return frame(name, function* (this: void, data: string | null): Gen<void> {
      yield* step(`${name}(${data})`, write(w.log));
      w.log.push(`${name}${data ? `(${data})` : ''}@${w.phase}`);
    }) as devm_action_t<string | null>;
  }
}
let w: World;

class thing {
  value = 1;
}

/** One thread on a fresh World; the outcome is what the body returns; leaks are findings. */
function seq(tree: string, body: (w: World) => Gen<string>, options: ExploreOptions = {}): ExploreResult {
  return explore(
    {
      setup: () => {
        bootTree(tree);
        w = new World();
        const world = w;
        let out = '';
        return {
          threads: [
            {
              name: 'T',
              *body() {
                out = yield* body(world);
              },
            },
          ],
          outcome: () => out,
          finalChecks: () => machine().slab.leaks().map((l) => ({ kind: 'leak', title: `unreferenced object ${l.what} (${l.allocatedBy})` })),
        };
      },
    },
    { strategy: 'dpor', maxFaults: 0, collectOutcomes: true, ...options },
  );
}

const kinds = (r: ExploreResult): string[][] => r.findings.map((f) => [f.kind, f.title]);

describe('drivers/base/devres.c: release is LIFO', () => {
  for (const tree of TREES) {
    it(`${tree}: devres_release_all runs actions newest first, with devm allocations interleaved freed in the same order`, () => {
      const r = seq(tree, function* (w) {
        const A = w.action('A');
        const B = w.action('B');
        const C = w.action('C');
        expect(yield* devm_add_action(w.dev, A, null)).toBe(0);
        const x = (yield* devm_kzalloc(w.dev, 'struct thing x', () => new thing()))!;
        // B reads x when it runs: x was allocated before B, so it is still there.
        const readsX = frame('B_reads_x', function* (_d: null): Gen<void> {
          yield* step('x->value', write(w.log));
          w.log.push(`B sees x=${x.value}@${w.phase}`);
        });
        expect(yield* devm_add_action(w.dev, readsX, null)).toBe(0);
        expect(yield* devm_add_action(w.dev, B, 'b')).toBe(0);
        yield* devm_kmalloc(w.dev, 'struct thing y', () => new thing());
        expect(yield* devm_add_action(w.dev, C, null)).toBe(0);
        w.phase = 'release';
        const n = yield* devres_release_all(w.dev);
        const again = yield* devres_release_all(w.dev);
        return `${w.log.join(', ')} | released ${n}, then ${again}`;
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['C@release, B(b)@release, B sees x=1@release, A@release | released 6, then 0']);
    });
  }

  it('an action registered before an allocation runs after that allocation is freed: touching it is a use-after-free', () => {
    const r = seq('v5.2', function* (w) {
      let x: thing | null = null;
      const usesX = frame('uses_x', function* (_d: null): Gen<void> {
        yield* step('x->value', write(w.log));
        w.log.push(String(x!.value));
      });
      yield* devm_add_action(w.dev, usesX, null);
      x = yield* devm_kzalloc(w.dev, 'struct thing', () => new thing());
      yield* devres_release_all(w.dev);
      return 'survived';
    });
    expect(kinds(r)).toEqual([['kasan', 'BUG: KASAN: use-after-free: read of struct thing.value (allocated by devm_kmalloc)']]);
  });

  it('devres_release_all on a device never initialised: WARN_ON(dev->devres_head.next == NULL), -ENODEV', () => {
    const r = seq('v5.1', function* () {
      const raw = new device('raw');
      return String(yield* devres_release_all(raw));
    });
    expect(kinds(r)).toEqual([['warn', 'WARNING: at drivers/base/devres.c devres_release_all: WARN_ON(dev->devres_head.next == NULL)']]);
    expect(r.outcomes).toEqual(['-19']);
  });

  it('resources never released are kmemleak leaks', () => {
    const r = seq('v6.15', function* (w) {
      yield* devm_kzalloc(w.dev, 'struct thing', () => new thing());
      yield* devm_add_action(w.dev, w.action('A'), null);
      return '';
    });
    expect(r.findings.map((f) => f.title).sort()).toEqual([
      'unreferenced object struct devres (action_devres A) (devm_add_action)',
      'unreferenced object struct devres (struct thing) (devm_kmalloc)',
    ]);
  });
});

describe('include/linux/device.h devm_add_action_or_reset: runs the action when the registration fails', () => {
  for (const tree of TREES) {
    it(`${tree}: with an injected kmalloc failure the action runs at once and -ENOMEM is returned; otherwise it runs at release`, () => {
      const r = seq(
        tree,
        function* (w) {
          const ret = yield* devm_add_action_or_reset(w.dev, w.action('A'), 'a');
          w.phase = 'release';
          yield* devres_release_all(w.dev);
          return `${ret}: ${w.log.join(', ')}`;
        },
        { maxFaults: 1 },
      );
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['-12: A(a)@probe', '0: A(a)@release']);
    });
  }

  it('devm_add_action itself does not run the action on failure', () => {
    const r = seq(
      'v5.1',
      function* (w) {
        const ret = yield* devm_add_action(w.dev, w.action('A'), null);
        w.phase = 'release';
        yield* devres_release_all(w.dev);
        return `${ret}: ${w.log.join(', ')}`;
      },
      { maxFaults: 1 },
    );
    expect(r.outcomes).toEqual(['-12: ', '0: A@release']);
  });
});

describe('drivers/base/devres.c devm_remove_action: unregisters without calling', () => {
  for (const tree of TREES) {
    it(`${tree}: the removed action never runs; the others do; a second removal WARNs`, () => {
      const r = seq(tree, function* (w) {
        const A = w.action('A');
        const B = w.action('B');
        yield* devm_add_action(w.dev, A, 'a');
        yield* devm_add_action(w.dev, B, 'b');
        yield* devm_remove_action(w.dev, A, 'a');
        yield* devm_remove_action(w.dev, A, 'a');
        w.phase = 'release';
        yield* devres_release_all(w.dev);
        return w.log.join(', ');
      });
      expect(kinds(r)).toEqual([['warn', 'WARNING: at drivers/base/devres.c devm_remove_action: WARN_ON(devres_destroy(dev, devm_action_release, devm_action_match, &devres))']]);
      expect(r.outcomes).toEqual(['B(b)@release']);
    });
  }

  it('the match needs both the action and the data: a different data WARNs and removes nothing', () => {
    const r = seq('v6.14', function* (w) {
      const A = w.action('A');
      yield* devm_add_action(w.dev, A, 'a');
      yield* devm_remove_action(w.dev, A, 'other');
      w.phase = 'release';
      yield* devres_release_all(w.dev);
      return w.log.join(', ');
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['warn']);
    expect(r.outcomes).toEqual(['A(a)@release']);
  });
});

describe('drivers/base/devres.c devm_release_action (seed 001, v5.2+): calls now, never again', () => {
  for (const tree of RELEASE_ACTION_TREES) {
    it(`${tree}: the action runs immediately and not again at release; releasing it again WARNs without calling`, () => {
      const r = seq(tree, function* (w) {
        const A = w.action('A');
        const B = w.action('B');
        yield* devm_add_action(w.dev, A, 'a');
        yield* devm_add_action(w.dev, B, 'b');
        w.phase = 'now';
        yield* devm_release_action(w.dev, A, 'a');
        yield* devm_release_action(w.dev, A, 'a');
        w.phase = 'release';
        yield* devres_release_all(w.dev);
        return w.log.join(', ');
      });
      expect(kinds(r)).toEqual([['warn', 'WARNING: at drivers/base/devres.c devm_release_action: WARN_ON(devres_release(dev, devm_action_release, devm_action_match, &devres))']]);
      expect(r.outcomes).toEqual(['A(a)@now, B(b)@release']);
    });
  }

  it('v5.1: devm_release_action does not exist; calling it is a model error (the exploration throws), not a finding', () => {
    expect(() =>
      seq('v5.1', function* (w) {
        const A = w.action('A');
        yield* devm_add_action(w.dev, A, 'a');
        yield* devm_release_action(w.dev, A, 'a');
        return '';
      }),
    ).toThrow(/devm_release_action\(\) does not exist on this tree/);
  });
});

describe('drivers/base/devres.c devm_kmalloc / devm_kzalloc / devm_kfree', () => {
  it('devm_kzalloc is a fault point (NULL); the memory is freed at release', () => {
    const r = seq(
      'v5.2',
      function* (w) {
        const p = yield* devm_kzalloc(w.dev, 'struct thing', () => new thing());
        yield* devres_release_all(w.dev);
        return p ? 'allocated' : 'NULL';
      },
      { maxFaults: 1 },
    );
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['NULL', 'allocated']);
  });

  for (const tree of ['v5.1', 'newest']) {
    it(`${tree}: devm_kfree frees at once (a later access is a use-after-free); freeing again, or another device's memory, WARNs`, () => {
      const r = seq(tree, function* (w) {
        const other = new device('dev1');
        device_initialize(other);
        const p = (yield* devm_kzalloc(w.dev, 'struct thing', () => new thing()))!;
        const q = (yield* devm_kzalloc(other, 'struct thing q', () => new thing()))!;
        yield* devm_kfree(w.dev, q);
        yield* devm_kfree(other, q);
        yield* devm_kfree(w.dev, p);
        yield* devm_kfree(w.dev, p);
        yield* devres_release_all(w.dev);
        yield* step('p->value', write(w.log));
        return String(p.value);
      });
      expect(kinds(r)).toEqual([
        ['warn', 'WARNING: at drivers/base/devres.c devm_kfree: WARN_ON(rc)'],
        ['kasan', 'BUG: KASAN: use-after-free: read of struct thing.value (allocated by devm_kmalloc)'],
      ]);
      // One WARN for the other device's memory, one for the second free of p (the same site).
      expect(r.findings[0]!.count).toBe(2);
    });
  }
});

describe('drivers/base/devres.c: the raw devres API', () => {
  it('devres_destroy and devres_release return -ENOENT when nothing matches; devres_release calls the release, devres_destroy does not', () => {
    const r = seq('v5.1', function* (w) {
      const rel = frame('my_release', function* (_dev: device, res: thing): Gen<void> {
        yield* step('my_release', write(w.log));
        w.log.push(`released ${res.value}`);
      });
      const a = (yield* devres_alloc(rel, 'struct thing', () => new thing(), 'GFP_KERNEL'))!;
      a.value = 7;
      yield* devres_add(w.dev, a);
      const b = (yield* devres_alloc(rel, 'struct thing', () => new thing(), 'GFP_KERNEL'))!;
      b.value = 8;
      yield* devres_add(w.dev, b);
      const d = yield* devres_destroy(w.dev, rel, null, null); // newest: b, not called
      const e = yield* devres_release(w.dev, rel, null, null); // a, called
      const f = yield* devres_release(w.dev, rel, null, null);
      const g = yield* devres_destroy(w.dev, rel, null, null);
      return `${d} ${e} ${f} ${g} ${w.log.join(', ')}`;
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['0 0 -2 -2 released 7']);
  });

  it('devres_add of a resource already on the list is add_dr()\'s BUG_ON; devres_free of one still on the list is BUG_ON', () => {
    const twice = seq('v6.15', function* (w) {
      const rel = frame('noop', function* (_dev: device, _res: thing): Gen<void> {});
      const a = (yield* devres_alloc(rel, 'struct thing', () => new thing(), 'GFP_KERNEL'))!;
      yield* devres_add(w.dev, a);
      yield* devres_add(w.dev, a);
      return '';
    });
    expect(kinds(twice).filter((k) => k[0] !== 'leak')).toEqual([['bug', 'kernel BUG at drivers/base/devres.c add_dr: BUG_ON(!list_empty(&node->entry))']]);
    const free = seq('v6.15', function* (w) {
      const rel = frame('noop', function* (_dev: device, _res: thing): Gen<void> {});
      const a = (yield* devres_alloc(rel, 'struct thing', () => new thing(), 'GFP_KERNEL'))!;
      yield* devres_add(w.dev, a);
      yield* devres_free(a);
      return '';
    });
    expect(kinds(free).filter((k) => k[0] !== 'leak')).toEqual([['bug', 'kernel BUG at drivers/base/devres.c devres_free: BUG_ON(!list_empty(&dr->node.entry))']]);
  });
});

describe('lib/genalloc.c devm_gen_pool_create: a pool that goes with the device', () => {
  for (const tree of ['v5.1', 'v5.2', 'newest']) {
    it(`${tree}: found by name, a second pool of that name is -EINVAL, destroyed at release`, () => {
      const r = seq(tree, function* (w) {
        const pool = (yield* devm_gen_pool_create(w.dev, 12, -1, 'p2pmem')) as gen_pool;
        const dup = yield* devm_gen_pool_create(w.dev, 12, -1, 'p2pmem');
        const found = (yield* gen_pool_get(w.dev, 'p2pmem')) === pool;
        const unnamed = yield* gen_pool_get(w.dev, null);
        yield* gen_pool_add(pool, 0x10000, 4096, -1);
        yield* devres_release_all(w.dev);
        return `${IS_ERR(dup) ? PTR_ERR(dup) : 'ok'} ${found} ${unnamed}`;
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['-22 true null']);
    });
  }

  it('an allocation still outstanding when the device releases its pool is gen_pool_destroy\'s BUG', () => {
    const r = seq('v5.2', function* (w) {
      const pool = (yield* devm_gen_pool_create(w.dev, 12, -1, null)) as gen_pool;
      yield* gen_pool_add(pool, 0x10000, 4096, -1);
      yield* gen_pool_alloc(pool, 1);
      yield* devres_release_all(w.dev);
      return '';
    });
    expect(kinds(r).filter((k) => k[0] !== 'leak')).toEqual([['bug', 'kernel BUG at lib/genalloc.c gen_pool_destroy: BUG_ON(bit < end_bit)']]);
  });

  it('an action registered after the pool runs before the pool is destroyed, so it can free what is left (LIFO)', () => {
    const r = seq('v5.2', function* (w) {
      const pool = (yield* devm_gen_pool_create(w.dev, 12, -1, null)) as gen_pool;
      yield* gen_pool_add(pool, 0x10000, 4096, -1);
      const a = yield* gen_pool_alloc(pool, 1);
      const freeIt = frame('free_it', function* (addr: number): Gen<void> {
        yield* gen_pool_free(pool, addr, 1);
      });
      yield* devm_add_action_or_reset(w.dev, freeIt, a);
      yield* devres_release_all(w.dev);
      return 'ok';
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['ok']);
  });

  it('devm_gen_pool_create failures are ERR_PTR(-ENOMEM) (devres or pool allocation)', () => {
    const r = seq(
      'v5.1',
      function* (w) {
        const pool = yield* devm_gen_pool_create(w.dev, 12, -1, null);
        yield* devres_release_all(w.dev);
        return IS_ERR(pool) ? String(PTR_ERR(pool)) : 'pool';
      },
      { maxFaults: 1 },
    );
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['-12', 'pool']);
  });
});
