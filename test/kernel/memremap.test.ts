// mm/memremap.c (kernel/memremap.c up to v5.2), mm/mm_init.c memmap_init_zone_device, and
// mm/memory_hotplug.c: ZONE_DEVICE setup, teardown and the page free paths on every modelled
// tree.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../../src/engine/explore.js';
import type { FinalReport } from '../../src/engine/execution.js';
import { block, frame, type Gen, read, step, write } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import { device, device_initialize } from '../../src/kernel/drivers/base/core.js';
import { devm_add_action, devres_release_all } from '../../src/kernel/drivers/base/devres.js';
import { IS_ERR, PTR_ERR } from '../../src/kernel/include/linux/err.js';
import { GFP_KERNEL } from '../../src/kernel/include/linux/gfp.js';
import {
  dev_pagemap,
  type dev_pagemap_ops,
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  MEMORY_DEVICE_PUBLIC,
  memory_types,
  type pgmap_type,
  put_dev_pagemap,
} from '../../src/kernel/include/linux/memremap.js';
import { get_page, is_pci_p2pdma_page, put_page, unlock_page } from '../../src/kernel/include/linux/mm.js';
import type { folio, page } from '../../src/kernel/include/linux/mm_types.js';
import { page_ref_count, set_page_count } from '../../src/kernel/include/linux/page_ref.js';
import { percpu_ref, percpu_ref_func, type percpu_ref_func_t, percpu_ref_kill, percpu_ref_value } from '../../src/kernel/include/linux/percpu-refcount.js';
import { percpu_ref_exit, percpu_ref_init } from '../../src/kernel/lib/percpu-refcount.js';
import { completion, complete, wait_for_completion } from '../../src/kernel/kernel/sched/completion.js';
import { machine } from '../../src/kernel/machine.js';
import { arch_add_memory, arch_remove_memory, memmap_present, PAGE_SIZE, pfn_to_page, set_pages_per_section } from '../../src/kernel/mm/memory_hotplug.js';
import {
  dev_pagemap_get_ops,
  devm_memremap_pages,
  devm_memunmap_pages,
  get_dev_pagemap,
  memremap_leftovers,
  memremap_pages,
  memunmap_pages,
  zone_device_page_init,
} from '../../src/kernel/mm/memremap.js';

const PFN = 0x100000;
const NPAGES = 2;
const START = PFN * PAGE_SIZE;

const seq: ExploreOptions = { strategy: 'dpor', maxFaults: 0, collectOutcomes: true };

function leaks(): FinalReport[] {
  return machine()
    .slab.leaks()
    .map((l) => ({ kind: 'leak', title: `unreferenced object ${l.what} (allocated by ${l.allocatedBy})` }));
}

/** What a driver of the v5.1/v5.2 API supplies: its own percpu_ref, kill, cleanup and exit. */
class v5_driver {
  readonly ref = new percpu_ref('drv->ref');
  readonly done = new completion('drv->ref_done');
  readonly release: percpu_ref_func_t;
  readonly kill = frame('drv_percpu_kill', (ref: percpu_ref) => percpu_ref_kill(ref));
  /** v5.2 ->cleanup(ref): wait for the ref to be idle, then exit it. */
  readonly cleanup: (ref: percpu_ref) => Gen<void>;
  /** The v5.1 driver's own devm action (registered before devm_memremap_pages): wait, exit. */
  readonly exit: (d: v5_driver) => Gen<void>;
  constructor() {
    const done = this.done;
    this.release = percpu_ref_func(
      'drv_percpu_release',
      frame('drv_percpu_release', function* (_ref: percpu_ref): Gen<void> {
        yield* complete(done);
      }),
    );
    this.cleanup = frame('drv_percpu_cleanup', function* (ref: percpu_ref): Gen<void> {
      yield* wait_for_completion(done);
      yield* percpu_ref_exit(ref);
    });
    this.exit = frame('drv_percpu_exit', function* (d: v5_driver): Gen<void> {
      yield* d.cleanup(d.ref);
    });
  }
}

/** A pgmap for [START, START + n pages) of `type` on the running tree, with the callbacks it needs. */
function make_pgmap(type: pgmap_type, drv: v5_driver | null, calls: string[], n = NPAGES): dev_pagemap {
  const pgmap = new dev_pagemap();
  pgmap.type = type;
  pgmap.res = { start: START, end: START + n * PAGE_SIZE - 1 };
  pgmap.range = { start: START, end: START + n * PAGE_SIZE - 1 };
  pgmap.nr_range = 1;
  if (drv) {
    pgmap.ref = drv.ref;
    pgmap.kill = drv.kill;
    pgmap.cleanup = drv.cleanup;
    pgmap.page_free = function* (p: page): Gen<void> {
      calls.push(`page_free(${(yield* page_ref_count(p))})`);
    };
  }
  const ops: dev_pagemap_ops = {
    page_free: function* (p: page): Gen<void> {
      calls.push(`page_free(${(yield* page_ref_count(p))})`);
    },
    folio_free: function* (f: folio): Gen<void> {
      calls.push(`folio_free(${(yield* page_ref_count(f))})`);
    },
    migrate_to_ram: function* () {
      return 0;
    },
  };
  pgmap.ops = ops;
  pgmap.owner = 'owner';
  return pgmap;
}

/** Sets up ZONE_DEVICE memory the way the running tree does it. Returns the error or 0. */
function* setup_memory(dev: device, pgmap: dev_pagemap, drv: v5_driver | null, tree: string): Gen<number> {
  if (tree === 'v5.1' || tree === 'v5.2') {
    const ret = yield* percpu_ref_init(drv!.ref, drv!.release, 0, GFP_KERNEL);
    if (ret) return ret;
    if (tree === 'v5.1') {
      const err = yield* devm_add_action(dev, drv!.exit, drv!);
      if (err) {
        yield* percpu_ref_exit(drv!.ref);
        return err;
      }
    }
    const addr = yield* devm_memremap_pages(dev, pgmap);
    return IS_ERR(addr) ? PTR_ERR(addr) : 0;
  }
  const addr = yield* memremap_pages(pgmap, -1);
  return IS_ERR(addr) ? PTR_ERR(addr) : 0;
}

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'] as const;

describe('memmap_init_zone_device(): page refcount after memremap, per type and tree (seed 000)', () => {
  const expected: Record<(typeof TREES)[number], Partial<Record<string, number>>> = {
    'v5.1': { [MEMORY_DEVICE_PRIVATE]: 1, [MEMORY_DEVICE_PUBLIC]: 1, [MEMORY_DEVICE_FS_DAX]: 1, [MEMORY_DEVICE_PCI_P2PDMA]: 1, '0': 1 },
    'v5.2': { [MEMORY_DEVICE_PRIVATE]: 1, [MEMORY_DEVICE_PUBLIC]: 1, [MEMORY_DEVICE_FS_DAX]: 1, [MEMORY_DEVICE_PCI_P2PDMA]: 1, '0': 1 },
    'v6.14': { [MEMORY_DEVICE_PRIVATE]: 0, [MEMORY_DEVICE_COHERENT]: 0, [MEMORY_DEVICE_FS_DAX]: 1, [MEMORY_DEVICE_GENERIC]: 1, [MEMORY_DEVICE_PCI_P2PDMA]: 1 },
    'v6.15': { [MEMORY_DEVICE_PRIVATE]: 0, [MEMORY_DEVICE_COHERENT]: 0, [MEMORY_DEVICE_FS_DAX]: 1, [MEMORY_DEVICE_GENERIC]: 1, [MEMORY_DEVICE_PCI_P2PDMA]: 0 },
    newest: { [MEMORY_DEVICE_PRIVATE]: 0, [MEMORY_DEVICE_COHERENT]: 0, [MEMORY_DEVICE_FS_DAX]: 0, [MEMORY_DEVICE_GENERIC]: 1, [MEMORY_DEVICE_PCI_P2PDMA]: 0 },
  };
  for (const tree of TREES) {
    it(`${tree}: refcount of every page of each memory type`, () => {
      const got: Record<string, number> = {};
      for (const type of Object.keys(expected[tree])) {
        const t = (type === '0' ? 0 : type) as pgmap_type;
        const r = explore(
          {
            setup: () => {
              bootTree(tree);
              set_pages_per_section(NPAGES);
              const dev = new device('dev0');
              device_initialize(dev);
              const calls: string[] = [];
              const drv = tree.startsWith('v5') ? new v5_driver() : null;
              const pgmap = make_pgmap(t, drv, calls);
              return {
                threads: [{ name: 'probe', body: () => setup_and_expect(dev, pgmap, drv, tree) }],
                outcome: () => {
                  const counts = new Set<number>();
                  for (let i = 0; i < NPAGES; i++) counts.add(pfn_to_page(PFN + i)._refcount.counter);
                  return [...counts].join(',');
                },
              };
            },
          },
          seq,
        );
        expect(r.findings.map((f) => f.title)).toEqual([]);
        expect(r.outcomes).toHaveLength(1);
        got[type] = Number(r.outcomes![0]);
      }
      expect(got).toEqual(expected[tree]);
    });
  }

  it('enum memory_type has the types of each era', () => {
    const names: Record<string, readonly string[]> = {};
    for (const tree of TREES) {
      bootTree(tree);
      names[tree] = memory_types();
    }
    expect(names['v5.1']).toEqual([MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_PUBLIC, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_PCI_P2PDMA]);
    expect(names['v5.2']).toEqual(names['v5.1']);
    for (const t of ['v6.14', 'v6.15', 'newest']) expect(names[t]).toEqual([MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC, MEMORY_DEVICE_PCI_P2PDMA]);
  });
});

function* setup_and_expect(dev: device, pgmap: dev_pagemap, drv: v5_driver | null, tree: string): Gen<void> {
  const err = yield* setup_memory(dev, pgmap, drv, tree);
  if (err) throw new Error(`setup failed: ${err}`);
}

/** A sequential run of `body` on `tree`; returns the explore result. */
function run(tree: string, body: (ctx: Ctx) => Gen<void>, options: ExploreOptions = seq, type: pgmap_type = MEMORY_DEVICE_PCI_P2PDMA) {
  return explore(
    {
      setup: () => {
        const ctx = new_ctx(tree, type);
        return { threads: [{ name: 'T', body: () => body(ctx) }], finalChecks: leaks, outcome: () => ctx.out.join(' ') };
      },
    },
    options,
  );
}

interface Ctx {
  readonly tree: string;
  readonly dev: device;
  readonly drv: v5_driver | null;
  readonly pgmap: dev_pagemap;
  readonly calls: string[];
  readonly out: string[];
  readonly flag: { ready: boolean };
}

function new_ctx(tree: string, type: pgmap_type, n = NPAGES): Ctx {
  bootTree(tree);
  set_pages_per_section(n);
  const dev = new device('dev0');
  device_initialize(dev);
  const calls: string[] = [];
  const drv = tree.startsWith('v5') ? new v5_driver() : null;
  const pgmap = make_pgmap(type, drv, calls, n);
  return { tree, dev, drv, pgmap, calls, out: [], flag: { ready: false } };
}

/** Tears down what setup_memory() did, the way the running tree does it. */
function* teardown(ctx: Ctx): Gen<void> {
  if (ctx.tree.startsWith('v5')) yield* devres_release_all(ctx.dev);
  else yield* memunmap_pages(ctx.pgmap);
}

describe('the memmap exists only between arch_add_memory() and arch_remove_memory() (seed 002)', () => {
  for (const tree of TREES) {
    it(`${tree}: touching a page after the teardown panics`, () => {
      const r = run(tree, function* (ctx) {
        expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, tree)).toBe(0);
        ctx.out.push(`present=${memmap_present(PFN)}`);
        yield* teardown(ctx);
        ctx.out.push(`present=${memmap_present(PFN)}`);
        yield* page_ref_count(pfn_to_page(PFN + 1));
        ctx.out.push('not reached');
      });
      expect(r.findings.map((f) => [f.kind, f.title])).toEqual([
        ['panic', 'BUG: unable to handle page fault: read of struct page (pfn 0x100001)._refcount, whose memmap has been removed'],
      ]);
      expect(r.findings[0]!.stack).toContain('page_ref_count');
    });
  }

  it('arch_remove_memory() on its own removes the struct pages; a pfn never added is unmapped too', () => {
    const r = run('v6.15', function* (ctx) {
      expect(yield* arch_add_memory(0, START, NPAGES * PAGE_SIZE, { altmap: null, pgprot: 'PAGE_KERNEL' })).toBe(0);
      ctx.out.push(String(memmap_present(PFN + 1)), String(memmap_present(PFN + 2)));
      yield* arch_remove_memory(START, NPAGES * PAGE_SIZE, null);
      ctx.out.push(String(memmap_present(PFN)));
      yield* step('touch', read(pfn_to_page(PFN)));
      void pfn_to_page(PFN).flags;
    });
    expect(r.outcomes).toEqual([]);
    expect(r.findings.map((f) => f.title)).toEqual(['BUG: unable to handle page fault: read of struct page (pfn 0x100000).flags, whose memmap has been removed']);
  });

  it('pfn_to_page() returns the same struct page across remove and re-add (vmemmap arithmetic)', () => {
    const r = run('v6.15', function* (ctx) {
      const before = pfn_to_page(PFN);
      expect(yield* arch_add_memory(0, START, PAGE_SIZE, { altmap: null, pgprot: 'PAGE_KERNEL' })).toBe(0);
      yield* arch_remove_memory(START, PAGE_SIZE, null);
      expect(yield* arch_add_memory(0, START, PAGE_SIZE, { altmap: null, pgprot: 'PAGE_KERNEL' })).toBe(0);
      ctx.out.push(String(pfn_to_page(PFN) === before), String(memmap_present(PFN)));
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['true true']);
  });
});

describe('devm_memremap_pages_release() vs a user of the pages, under DPOR (seeds 001, 002)', () => {
  /**
   * Two threads: the driver sets up the memory, publishes it, and unbinds (its devres unwinds)
   * once the user holds a reference; the user (as pci_alloc_p2pmem() + pci_p2pdma_map_sg()
   * would) takes a pgmap reference with get_dev_pagemap(), says so, uses the page, and drops the
   * reference. The handshake only fixes that the reference is taken before the unbind (seed
   * 002's steps 1 and 2); DPOR explores every order of the use and the put against the
   * teardown. One page (one section of one page) keeps the exploration small.
   */
  function race(tree: string) {
    return explore(
      {
        setup: () => {
          const ctx = new_ctx(tree, MEMORY_DEVICE_PCI_P2PDMA, 1);
          const held = { yes: false };
          return {
            threads: [
              {
                name: 'driver',
                *body() {
                  expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, tree)).toBe(0);
                  yield* step('publish', write(ctx.flag));
                  ctx.flag.ready = true;
                  yield* block('wait until the user holds a reference', 'the user', () => held.yes, read(held));
                  yield* teardown(ctx);
                },
              },
              {
                name: 'user',
                *body() {
                  yield* block('wait for the memory', 'the driver', () => ctx.flag.ready, read(ctx.flag));
                  const pgmap = yield* get_dev_pagemap(PFN, null);
                  yield* step('say so', write(held));
                  held.yes = true;
                  if (!pgmap) throw new Error('the lookup of a live pgmap failed');
                  ctx.out.push(`p2pdma=${yield* is_pci_p2pdma_page(pfn_to_page(PFN))}`);
                  yield* put_dev_pagemap(pgmap);
                },
              },
            ],
            finalChecks: () => [...leaks(), ...memremap_leftovers().map((l) => ({ kind: 'leak', title: l }))],
            outcome: () => ctx.out.join(' '),
          };
        },
      },
      { strategy: 'dpor', maxFaults: 0, collectOutcomes: true },
    );
  }

  it('v5.1: arch_remove_memory() runs while the user still holds its reference: panic', () => {
    const r = race('v5.1');
    expect(r.complete).toBe(true);
    expect(r.findings.map((f) => f.kind)).toEqual(['panic']);
    const f = r.findings[0]!;
    expect(f.stack.at(-1)).toBe('is_pci_p2pdma_page');
    expect(f.title).toBe('BUG: unable to handle page fault: read of struct page (pfn 0x100000).flags, whose memmap has been removed');
    expect(f.thread).toBe('user');
    // The interleaving: the release removed the memmap before the user's access.
    const labels = f.trace.map((s) => `${s.thread}:${s.stack.at(-1) ?? ''}`);
    const removed = labels.findIndex((l) => l === 'driver:sparse_remove_section');
    expect(removed).toBeGreaterThan(labels.findIndex((l) => l === 'driver:devm_memremap_pages_release'));
    expect(removed).toBeLessThan(labels.length - 1);
    expect(labels.at(-1)).toBe('user:is_pci_p2pdma_page');
    expect(r.outcomes).toEqual(['p2pdma=true']);
  });

  it('v5.2: ->cleanup() waits for the reference before arch_remove_memory(): no finding', () => {
    const r = race('v5.2');
    expect(r.complete).toBe(true);
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['p2pdma=true']);
  });

  for (const tree of ['v6.14', 'v6.15', 'newest']) {
    it(`${tree}: memunmap_pages() waits for pgmap->done before removing the memmap: no finding`, () => {
      const r = race(tree);
      expect(r.complete).toBe(true);
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['p2pdma=true']);
    });
  }

  it('v5.2: the wait is a blocking wait: a reference never dropped hangs the release', () => {
    const r = explore(
      {
        setup: () => {
          const ctx = new_ctx('v5.2', MEMORY_DEVICE_PCI_P2PDMA);
          return {
            threads: [
              {
                name: 'driver',
                *body() {
                  expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v5.2')).toBe(0);
                  const pgmap = yield* get_dev_pagemap(PFN, null);
                  ctx.out.push(String(pgmap !== null));
                  yield* devres_release_all(ctx.dev);
                },
              },
            ],
          };
        },
      },
      seq,
    );
    expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
    expect(r.findings[0]!.title).toContain('completion drv->ref_done');
    expect(r.findings[0]!.stack).toContain('devm_memremap_pages_release');
  });
});

describe('get_dev_pagemap()', () => {
  for (const tree of TREES) {
    it(`${tree}: takes a live reference, returns NULL once the ref is killed, and NULL outside any pgmap`, () => {
      const r = run(tree, function* (ctx) {
        expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, tree)).toBe(0);
        const ref = ctx.pgmap.ref!;
        const before = percpu_ref_value(ref);
        const a = yield* get_dev_pagemap(PFN + 1, null);
        ctx.out.push(`live=${a === ctx.pgmap}`, `+${percpu_ref_value(ref) - before}`);
        yield* put_dev_pagemap(a);
        ctx.out.push(`outside=${(yield* get_dev_pagemap(PFN + 0x100, null)) === null}`);
        yield* percpu_ref_kill(ref);
        ctx.out.push(`killed=${(yield* get_dev_pagemap(PFN + 1, null)) === null}`);
      });
      expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
      expect(r.outcomes).toEqual(['live=true +1 outside=true killed=true']);
    });
  }

  it('v5.2: a cached pgmap that covers the pfn is returned as is', () => {
    const r = run('v5.2', function* (ctx) {
      expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v5.2')).toBe(0);
      const a = yield* get_dev_pagemap(PFN, null);
      const v = percpu_ref_value(ctx.pgmap.ref!);
      const b = yield* get_dev_pagemap(PFN + 1, a);
      ctx.out.push(String(a === b), String(percpu_ref_value(ctx.pgmap.ref!) - v));
      yield* put_dev_pagemap(b);
      yield* teardown(ctx);
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['true 0']);
  });
});

describe('put_page() of the last reference and ops->page_free, per tree', () => {
  it('v5.1: a devmap-managed page (FS_DAX, key on) calls page_free when its count drops to 1; P2PDMA never does', () => {
    for (const type of [MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_PCI_P2PDMA] as const) {
      const r = run(
        'v5.1',
        function* (ctx) {
          yield* dev_pagemap_get_ops();
          expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v5.1')).toBe(0);
          const p = pfn_to_page(PFN);
          yield* get_page(p);
          yield* put_page(p);
          ctx.out.push(`count=${yield* page_ref_count(p)}`, `calls=${ctx.calls.join(',') || 'none'}`);
          yield* teardown(ctx);
        },
        seq,
        type,
      );
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual([type === MEMORY_DEVICE_FS_DAX ? 'count=1 calls=page_free(1)' : 'count=1 calls=none']);
    }
  });

  it('v5.1: the teardown loop takes idle pages 1 -> 0, which drops their pgmap references (__put_page)', () => {
    const r = run('v5.1', function* (ctx) {
      expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v5.1')).toBe(0);
      ctx.out.push(`ref=${percpu_ref_value(ctx.drv!.ref)}`);
      yield* devres_release_all(ctx.dev);
      ctx.out.push(`done=${ctx.drv!.done.done}`);
    });
    expect(r.findings).toEqual([]);
    // 1 (init) + 2 (one per page); after release everything is gone and the exit action ran.
    expect(r.outcomes).toEqual(['ref=3 done=0']);
  });

  it('v6.14: P2PDMA pages are 1-based: the last put calls page_free and resets the count to 1', () => {
    const r = run('v6.14', function* (ctx) {
      expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v6.14')).toBe(0);
      const p = pfn_to_page(PFN);
      yield* put_page(p);
      ctx.out.push(`count=${yield* page_ref_count(p)}`, `calls=${ctx.calls.join(',')}`);
      yield* teardown(ctx);
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['count=1 calls=page_free(0)']);
  });

  it('v6.15: P2PDMA pages are 0-based (seed 000): set to 1, the last put calls page_free and leaves 0', () => {
    const r = run('v6.15', function* (ctx) {
      expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v6.15')).toBe(0);
      const p = pfn_to_page(PFN);
      yield* set_page_count(p, 1);
      yield* put_page(p);
      ctx.out.push(`count=${yield* page_ref_count(p)}`, `calls=${ctx.calls.join(',')}`);
      yield* teardown(ctx);
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['count=0 calls=page_free(0)']);
  });

  it('newest: P2PDMA frees through ops->folio_free; GENERIC only resets the count', () => {
    for (const type of [MEMORY_DEVICE_PCI_P2PDMA, MEMORY_DEVICE_GENERIC] as const) {
      const r = run(
        'newest',
        function* (ctx) {
          expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'newest')).toBe(0);
          const p = pfn_to_page(PFN);
          if (type === MEMORY_DEVICE_PCI_P2PDMA) yield* set_page_count(p, 1);
          yield* put_page(p);
          ctx.out.push(`count=${yield* page_ref_count(p)}`, `calls=${ctx.calls.join(',') || 'none'}`);
          yield* teardown(ctx);
        },
        seq,
        type,
      );
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual([type === MEMORY_DEVICE_PCI_P2PDMA ? 'count=0 calls=folio_free(0)' : 'count=1 calls=none']);
    }
  });

  for (const tree of ['v6.14', 'v6.15', 'newest']) {
    it(`${tree}: a PRIVATE page holds a pgmap reference from zone_device_page_init() until it is freed`, () => {
      const r = run(
        tree,
        function* (ctx) {
          expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, tree)).toBe(0);
          const p = pfn_to_page(PFN);
          const ref = ctx.pgmap.ref!;
          const v0 = percpu_ref_value(ref);
          if (tree === 'newest') yield* zone_device_page_init(p, ctx.pgmap, 0);
          else yield* zone_device_page_init(p);
          yield* unlock_page(p);
          const v1 = percpu_ref_value(ref);
          yield* put_page(p);
          ctx.out.push(`ref+${v1 - v0}`, `ref-${v1 - percpu_ref_value(ref)}`, `count=${yield* page_ref_count(p)}`, ctx.calls.join(','));
          yield* teardown(ctx);
        },
        seq,
        MEMORY_DEVICE_PRIVATE,
      );
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual([`ref+1 ref-1 count=0 ${tree === 'newest' ? 'folio_free(0)' : 'page_free(0)'}`]);
    });
  }

  it('v6.15: zone_device_page_init() after memunmap_pages() has killed the ref warns (and carries on)', () => {
    const r = run(
      'v6.15',
      function* (ctx) {
        expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v6.15')).toBe(0);
        yield* percpu_ref_kill(ctx.pgmap.ref!);
        yield* zone_device_page_init(pfn_to_page(PFN));
        ctx.out.push(`count=${yield* page_ref_count(pfn_to_page(PFN))}`);
      },
      seq,
      MEMORY_DEVICE_PRIVATE,
    );
    expect(r.findings.filter((f) => f.kind === 'warn').map((f) => f.title)).toEqual([
      'WARNING: at mm/memremap.c zone_device_page_init: WARN_ON_ONCE(!percpu_ref_tryget_live(&page->pgmap->ref))',
    ]);
    expect(r.outcomes).toEqual(['count=1']);
  });
});

describe('setup checks and error unwinding', () => {
  it('v5.1 returns -EINVAL silently without a kill; v5.2 WARNs "Missing reference count teardown definition" without a cleanup', () => {
    for (const tree of ['v5.1', 'v5.2']) {
      const r = run(tree, function* (ctx) {
        ctx.pgmap.cleanup = null;
        if (tree === 'v5.1') ctx.pgmap.kill = null;
        const ret = yield* devm_memremap_pages(ctx.dev, ctx.pgmap);
        ctx.out.push(String(IS_ERR(ret) ? PTR_ERR(ret) : ret));
      });
      expect(r.outcomes).toEqual(['-22']);
      expect(r.findings.map((f) => f.title)).toEqual(tree === 'v5.1' ? [] : ['WARNING: at kernel/memremap.c devm_memremap_pages: Missing reference count teardown definition']);
    }
  });

  it('v6.15: a PRIVATE pgmap without migrate_to_ram WARNs "Missing migrate_to_ram method"', () => {
    const r = run(
      'v6.15',
      function* (ctx) {
        ctx.pgmap.ops = { page_free: ctx.pgmap.ops!.page_free };
        const ret = yield* memremap_pages(ctx.pgmap, -1);
        ctx.out.push(String(IS_ERR(ret) ? PTR_ERR(ret) : ret));
      },
      seq,
      MEMORY_DEVICE_PRIVATE,
    );
    expect(r.outcomes).toEqual(['-22']);
    expect(r.findings.map((f) => f.title)).toEqual(['WARNING: at mm/memremap.c memremap_pages: Missing migrate_to_ram method']);
  });

  it('a second pgmap over the same range is a "Conflicting mapping in same section"', () => {
    for (const tree of ['v5.2', 'v6.15']) {
      const r = run(tree, function* (ctx) {
        expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, tree)).toBe(0);
        const drv2 = tree === 'v5.2' ? new v5_driver() : null;
        const second = make_pgmap(MEMORY_DEVICE_PCI_P2PDMA, drv2, []);
        const err = yield* setup_memory(ctx.dev, second, drv2, tree);
        ctx.out.push(String(err));
        yield* teardown(ctx);
      });
      expect(r.outcomes).toEqual(['-12']);
      expect(r.findings.map((f) => f.kind)).toEqual(['warn']);
      expect(r.findings[0]!.title).toMatch(/Conflicting mapping in same section$/);
    }
  });

  for (const tree of ['v5.2', 'v6.14', 'v6.15', 'newest']) {
    it(`${tree}: every injected failure of the setup (arch_add_memory's memmap allocation among them) unwinds without a leak`, () => {
      const r = explore(
        {
          setup: () => {
            const ctx = new_ctx(tree, MEMORY_DEVICE_PCI_P2PDMA);
            return {
              threads: [
                {
                  name: 'probe',
                  *body() {
                    const err = yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, tree);
                    ctx.out.push(`err=${err}`, `memmap=${memmap_present(PFN)}`);
                    if (err === 0) yield* teardown(ctx);
                    else if (tree === 'v5.2') yield* devres_release_all(ctx.dev);
                    ctx.out.push(`leftovers=${memremap_leftovers().join(',') || 'none'}`);
                  },
                },
              ],
              finalChecks: leaks,
              outcome: () => ctx.out.join(' '),
            };
          },
        },
        { strategy: 'dpor', maxFaults: 1, collectOutcomes: true },
      );
      expect(r.complete).toBe(true);
      // The only finding: x86 add_pages() warns when __add_pages() fails.
      expect([...new Set(r.findings.map((f) => `${f.kind}: ${f.title}`))]).toEqual(['warn: WARNING: at arch/x86/mm/init_64.c add_pages: WARN_ON_ONCE(ret)']);
      const faultLabels = r.findings[0]!.trace.flatMap((s) => s.notes).filter((n) => n.startsWith('fault injected'));
      expect(faultLabels.some((n) => n.includes('sparse_add_section'))).toBe(true);
      expect(r.outcomes).toEqual(['err=-12 memmap=false leftovers=none', 'err=0 memmap=true leftovers=none']);
    });
  }

  it('v5.1: a failed setup kills the caller\'s ref; the driver\'s exit action reaps it', () => {
    const r = explore(
      {
        setup: () => {
          const ctx = new_ctx('v5.1', MEMORY_DEVICE_PCI_P2PDMA);
          return {
            threads: [
              {
                name: 'probe',
                *body() {
                  const err = yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v5.1');
                  if (err === 0) ctx.out.push('ok');
                  else ctx.out.push(`err=${err}`);
                  yield* devres_release_all(ctx.dev);
                  ctx.out.push(`leftovers=${memremap_leftovers().join(',') || 'none'}`);
                },
              },
            ],
            finalChecks: leaks,
            outcome: () => ctx.out.join(' '),
          };
        },
      },
      { strategy: 'dpor', maxFaults: 1, collectOutcomes: true },
    );
    expect(r.findings.filter((f) => f.kind !== 'warn')).toEqual([]);
    expect(r.outcomes).toEqual(['err=-12 leftovers=none', 'ok leftovers=none']);
  });

  it('v5.2: devm_memunmap_pages() runs the release at once; v5.1 has no devm_memunmap_pages()', () => {
    const r = run('v5.2', function* (ctx) {
      expect(yield* setup_memory(ctx.dev, ctx.pgmap, ctx.drv, 'v5.2')).toBe(0);
      yield* devm_memunmap_pages(ctx.dev, ctx.pgmap);
      ctx.out.push(`memmap=${memmap_present(PFN)}`, `leftovers=${memremap_leftovers().length}`);
      yield* devres_release_all(ctx.dev);
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['memmap=false leftovers=0']);
    expect(() =>
      run('v5.1', function* (ctx) {
        yield* devm_memunmap_pages(ctx.dev, ctx.pgmap);
      }),
    ).toThrow(/devm_memunmap_pages\(\) does not exist/);
  });
});
