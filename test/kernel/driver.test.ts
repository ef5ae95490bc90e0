// drivers/base/dd.c: binding and unbinding a driver as things an actor does; the order of
// ->remove(), devres release and dev->driver = NULL; probe failure; races with unbind.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/engine/explore.js';
import type { ThreadSpec } from '../../src/engine/execution.js';
import { frame, type Gen, spawn, step, write } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import { device, device_initialize, dev_get_drvdata, dev_set_drvdata } from '../../src/kernel/drivers/base/core.js';
import { device_driver, device_driver_attach, device_release_driver } from '../../src/kernel/drivers/base/dd.js';
import { type devm_action_t, devm_add_action_or_reset, devm_kzalloc, devm_release_action } from '../../src/kernel/drivers/base/devres.js';
import { devm_gen_pool_create, gen_pool, gen_pool_add, gen_pool_alloc } from '../../src/kernel/include/linux/genalloc.js';
import { IS_ERR } from '../../src/kernel/include/linux/err.js';
import { ENOMEM } from '../../src/kernel/include/uapi/errno.js';
import { machine } from '../../src/kernel/machine.js';

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'];

class priv {
  value = 42;
}

/** A device, a log, and a driver whose probe registers actions A, a devm allocation, B. */
class World {
  readonly dev = new device('dev0');
  readonly log: string[] = [];
  probes = 0;
  removes = 0;
  readonly drv: device_driver;
  readonly A: devm_action_t<string>;
  readonly B: devm_action_t<string>;

  /** `minimal`: the probe only registers A, and the driver has no ->remove (fewer steps). */
  constructor(probeResult: number = 0, minimal = false) {
    device_initialize(this.dev);
    const w = this;
    const action = (name: string): devm_action_t<string> =>
      frame(name, function* (data: string): Gen<void> {
        yield* step(`${name}(${data})`, write(w.log));
        w.log.push(`${name}(${data}) driver=${w.dev.driver?.name ?? 'NULL'}`);
      });
    this.A = action('A');
    this.B = action('B');
    this.drv = new device_driver(
      'drv',
      function* probe(dev: device): Gen<number> {
        yield* step('probe', write(w.log));
        w.probes++;
        let ret = yield* devm_add_action_or_reset(dev, w.A, 'a');
        if (ret || minimal) return ret;
        const p = yield* devm_kzalloc(dev, 'struct priv', () => new priv());
        if (!p) return -ENOMEM;
        yield* dev_set_drvdata(dev, p);
        ret = yield* devm_add_action_or_reset(dev, w.B, 'b');
        if (ret) return ret;
        return probeResult;
      },
      minimal
        ? null
        : function* remove(dev: device): Gen<void> {
            const p = yield* dev_get_drvdata<priv>(dev);
            yield* step('remove', write(w.log));
            w.removes++;
            w.log.push(`remove priv=${p.value} driver=${dev.driver?.name ?? 'NULL'}`);
          },
    );
  }
}

function run(tree: string, build: (w: World) => ThreadSpec[], options: ExploreOptions = {}, probeResult = 0, outcome?: (w: World) => string): ExploreResult {
  return explore(
    {
      setup: () => {
        bootTree(tree);
        const w = new World(probeResult);
        return {
          threads: build(w),
          outcome: () => (outcome ? outcome(w) : `${w.log.join(', ')} | probes=${w.probes} removes=${w.removes} driver=${w.dev.driver?.name ?? 'NULL'}`),
          finalChecks: () => machine().slab.leaks().map((l) => ({ kind: 'leak', title: `unreferenced object ${l.what} (${l.allocatedBy})` })),
        };
      },
    },
    { strategy: 'dpor', maxFaults: 0, collectOutcomes: true, ...options },
  );
}

const one = (name: string, body: () => Gen<void>): ThreadSpec[] => [{ name, body }];

describe('drivers/base/dd.c: unbind order', () => {
  for (const tree of TREES) {
    it(`${tree}: device_release_driver runs ->remove, then the devres actions LIFO (dev->driver still set), then dev->driver = NULL; the devm memory is freed`, () => {
      const r = run(tree, (w) =>
        one('sysfs', function* () {
          const ret = yield* device_driver_attach(w.drv, w.dev);
          w.log.push(`attach=${ret} driver=${w.dev.driver?.name}`);
          yield* device_release_driver(w.dev);
        }),
      );
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['attach=1 driver=drv, remove priv=42 driver=drv, B(b) driver=drv, A(a) driver=drv | probes=1 removes=1 driver=NULL']);
    });
  }

  it('binding a bound device and unbinding an unbound one are no-ops', () => {
    const r = run('v5.2', (w) =>
      one('sysfs', function* () {
        yield* device_release_driver(w.dev); // not bound: nothing
        const first = yield* device_driver_attach(w.drv, w.dev);
        const second = yield* device_driver_attach(w.drv, w.dev); // bound: nothing
        yield* device_release_driver(w.dev);
        yield* device_release_driver(w.dev); // unbound again: nothing
        w.log.push(`attach ${first} then ${second}`);
      }),
    );
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['remove priv=42 driver=drv, B(b) driver=drv, A(a) driver=drv, attach 1 then 0 | probes=1 removes=1 driver=NULL']);
  });
});

describe('drivers/base/dd.c really_probe: probe failure releases devres', () => {
  for (const tree of TREES) {
    it(`${tree}: a probe returning an error has its devm actions run LIFO and its devm memory freed, ->remove not called, dev->driver NULL, the error printed`, () => {
      const r = run(
        tree,
        (w) =>
          one('sysfs', function* () {
            const ret = yield* device_driver_attach(w.drv, w.dev);
            w.log.push(`attach=${ret}`);
          }),
        {},
        -ENOMEM,
      );
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['B(b) driver=drv, A(a) driver=drv, attach=0 | probes=1 removes=0 driver=NULL']);
    });
  }

  it('every failed allocation during binding ends unbound with nothing leaked; devm_add_action_or_reset runs the action it could not register', () => {
    const r = run(
      'v6.15',
      (w) =>
        one('sysfs', function* () {
          const ret = yield* device_driver_attach(w.drv, w.dev);
          w.log.push(`attach=${ret}`);
          yield* device_release_driver(w.dev);
        }),
      { maxFaults: 1 },
    );
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual([
      // A's devres allocation fails: A runs at once
      'A(a) driver=drv, attach=0 | probes=1 removes=0 driver=NULL',
      // devm_kzalloc fails: A released by really_probe
      'A(a) driver=drv, attach=0 | probes=1 removes=0 driver=NULL',
      // B's devres allocation fails: B at once, then A at probe failure
      'B(b) driver=drv, A(a) driver=drv, attach=0 | probes=1 removes=0 driver=NULL',
      // driver_sysfs_add fails: no probe
      'attach=0 | probes=0 removes=0 driver=NULL',
      // no fault
      'attach=1, remove priv=42 driver=drv, B(b) driver=drv, A(a) driver=drv | probes=1 removes=1 driver=NULL',
    ].filter((v, i, a) => a.indexOf(v) === i).sort());
  });

  it('the failure is printed as "<drv>: probe of <dev> failed with error <ret>"', () => {
    const r = run(
      'v5.1',
      (w) =>
        one('sysfs', function* () {
          yield* device_driver_attach(w.drv, w.dev);
          w.log.push(...machine().dmesg);
        }),
      {},
      -ENOMEM,
      (w) => w.log.filter((l) => l.startsWith('<')).join(', '),
    );
    expect(r.outcomes).toEqual(['<4>drv: probe of dev0 failed with error -12']);
  });
});

describe('drivers/base/dd.c: unbind racing with other actors (DPOR reaches what DFS reaches)', () => {
  it('two concurrent unbinds: ->remove and each action run exactly once', () => {
    const build = (w: World): ThreadSpec[] => [
      {
        name: 'bind+unbind',
        *body() {
          yield* device_driver_attach(w.drv, w.dev);
          yield* device_release_driver(w.dev);
        },
      },
      {
        name: 'unbind',
        *body() {
          yield* device_release_driver(w.dev);
        },
      },
    ];
    const dpor = run('v5.2', build);
    const dfs = run('v5.2', build, { strategy: 'dfs' });
    expect(dpor.findings).toEqual([]);
    expect(dfs.findings).toEqual([]);
    expect(dpor.outcomes).toEqual(['remove priv=42 driver=drv, B(b) driver=drv, A(a) driver=drv | probes=1 removes=1 driver=NULL']);
    expect(dfs.outcomes).toEqual(dpor.outcomes);
    expect(dpor.explored).toBeLessThanOrEqual(dfs.explored);
  });

  it('devm_release_action racing with unbind: the action runs exactly once; whoever comes second finds nothing (WARN) or nothing to release', () => {
    const build = (w: World): ThreadSpec[] => [
      {
        name: 'unbind',
        *body() {
          yield* device_release_driver(w.dev);
        },
      },
      {
        name: 'driver',
        *body() {
          yield* devm_release_action(w.dev, w.A, 'a');
        },
      },
    ];
    // The device is bound before the threads start: bind in setup's first thread would add
    // interleavings that do not matter here, so bind with an extra sequential prefix instead.
    const prog = (strategy: 'dpor' | 'dfs'): ExploreResult =>
      explore(
        {
          setup: () => {
            bootTree('v6.14');
            const w = new World(0, true);
            let a!: ThreadSpec[];
            return {
              threads: [
                {
                  name: 'bind',
                  *body() {
                    yield* device_driver_attach(w.drv, w.dev);
                    a = build(w);
                    for (const t of a) yield* spawnThread(t);
                  },
                },
              ],
              outcome: () => `${w.log.join(', ')} | removes=${w.removes} driver=${w.dev.driver?.name ?? 'NULL'}`,
            };
          },
        },
        { strategy, maxFaults: 0, collectOutcomes: true },
      );
    const dpor = prog('dpor');
    const dfs = prog('dfs');
    const titles = (r: ExploreResult): string[] => r.findings.map((f) => `${f.kind}: ${f.title}`).sort();
    expect(titles(dpor)).toEqual(['warn: WARNING: at drivers/base/devres.c devm_release_action: WARN_ON(devres_release(dev, devm_action_release, devm_action_match, &devres))']);
    expect(titles(dfs)).toEqual(titles(dpor));
    expect(dfs.outcomes).toEqual(dpor.outcomes);
    for (const o of dpor.outcomes!) expect(o.match(/A\(a\)/g)).toHaveLength(1);
    expect(dpor.outcomes!.length).toBeGreaterThan(1);
  });

  it('a pool user racing with unbind of the device owning the devm pool: BUG in gen_pool_destroy or use-after-free, found alike by DPOR and DFS', () => {
    const prog = (strategy: 'dpor' | 'dfs'): ExploreResult =>
      explore(
        {
          setup: () => {
            bootTree('v5.2');
            const dev = new device('dev0');
            device_initialize(dev);
            let pool: gen_pool | null = null;
            let got = -1;
            const drv = new device_driver('p2p', function* (d: device): Gen<number> {
              const p = yield* devm_gen_pool_create(d, 12, -1, null);
              if (IS_ERR(p)) return -ENOMEM;
              yield* gen_pool_add(p, 0x10000, 4096, -1);
              pool = p;
              return 0;
            });
            return {
              threads: [
                {
                  name: 'bind',
                  *body() {
                    yield* device_driver_attach(drv, dev);
                    yield* spawnThread({
                      name: 'unbind',
                      *body() {
                        yield* device_release_driver(dev);
                      },
                    });
                    yield* spawnThread({
                      name: 'user',
                      *body() {
                        got = yield* gen_pool_alloc(pool!, 1);
                      },
                    });
                  },
                },
              ],
              outcome: () => `got=${got}`,
            };
          },
        },
        { strategy, maxFaults: 0, collectOutcomes: true },
      );
    const dpor = prog('dpor');
    const dfs = prog('dfs');
    const titles = (r: ExploreResult): string[] => [...new Set(r.findings.map((f) => `${f.kind}: ${f.title}`))].sort();
    // Allocated before the destroy checks the bitmap: the BUG. Reading the pool or a chunk
    // after they are freed: KASAN (which field depends on how far the allocation got).
    expect(titles(dpor)).toEqual([
      'bug: kernel BUG at lib/genalloc.c gen_pool_destroy: BUG_ON(bit < end_bit)',
      'kasan: BUG: KASAN: use-after-free: read of struct gen_pool.chunks (allocated by gen_pool_create)',
      'kasan: BUG: KASAN: use-after-free: read of struct gen_pool_chunk.avail (allocated by gen_pool_add_owner)',
      'kasan: BUG: KASAN: use-after-free: read of struct gen_pool_chunk.bits (allocated by gen_pool_add_owner)',
      'kasan: BUG: KASAN: use-after-free: read of struct gen_pool_chunk.start_addr (allocated by gen_pool_add_owner)',
    ]);
    expect(titles(dfs)).toEqual(titles(dpor));
    expect(dfs.outcomes).toEqual(dpor.outcomes);
    expect(dpor.explored).toBeLessThan(dfs.explored);
  });
});

function* spawnThread(t: ThreadSpec): Gen<number> {
  return yield* spawn(t.name, t.body);
}
