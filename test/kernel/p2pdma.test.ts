// drivers/pci/p2pdma.c (with the PCI device model of drivers/pci/pci.ts and the sysfs model of
// fs/sysfs.ts): what each tree does, one sequential execution at a time.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore } from '../../src/engine/explore.js';
import type { Gen } from '../../src/engine/ops.js';
import {
  pci_alloc_p2pmem,
  pci_free_p2pmem,
  pci_p2pdma_add_resource,
  pci_p2pdma_distance,
  pci_p2pmem_alloc_sgl,
  pci_p2pmem_find_many,
  pci_p2pmem_free_sgl,
  pci_p2pmem_virt_to_bus,
} from '../../src/kernel/drivers/pci/p2pdma.js';
import { type scatterlist, sg_phys } from '../../src/kernel/include/linux/scatterlist.js';
import { pci_setup_mem_bar } from '../../src/kernel/drivers/pci/pci.js';
import { dev_kobj, kernfs_fop_read, kernfs_fop_release, type sysfs_file, sysfs_open } from '../../src/kernel/fs/sysfs.js';
import { __va } from '../../src/kernel/include/linux/mm.js';
import { type mm_struct, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from '../../src/kernel/include/linux/mm_types.js';
import { percpu_ref_value } from '../../src/kernel/include/linux/percpu-refcount.js';
import { device_driver_attach, device_release_driver } from '../../src/kernel/drivers/base/dd.js';
import { EINVAL, ENOENT } from '../../src/kernel/include/uapi/errno.js';
import { PAGE_SIZE, pfn_to_page, PHYS_PFN } from '../../src/kernel/mm/memory_hotplug.js';
import { user_access } from '../../src/kernel/mm/memory.js';
import { mm_alloc, vm_mmap, vm_munmap } from '../../src/kernel/mm/mmap.js';
import { BAR_BASE, build_world, final_checks, type p2pdma_world, USER_ADDR } from '../../scenarios/support/p2pdma.js';
import { dma_map_sg } from '../../src/kernel/kernel/dma/direct.js';

const TREES = ['v5.1', 'v5.2', 'v5.10', 'v5.15', 'v6.14', 'v6.15', 'newest'] as const;
const MMAP_TREES = ['v6.14', 'v6.15', 'newest'] as const;
const SHARED_RW = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE;

interface Run {
  readonly outcome: string;
  readonly findings: readonly { kind: string; title: string }[];
}

/**
 * One sequential execution: boot `tree`, build the PCI world, bind the provider's driver, then
 * `body`, whose result is the outcome. `unbind` releases the driver afterwards and adds the
 * end-of-scenario checks.
 */
function run(tree: string, body: (w: p2pdma_world) => Gen<string>, opts: { bars?: number; pages?: number; bus_offset?: number; unbind?: boolean; maxFaults?: number } = {}): Run {
  const r = explore(
    {
      setup() {
        const w = build_world(tree, opts.bars ?? 1, opts.pages ?? 2, opts.bus_offset ?? 0);
        let out = '';
        return {
          threads: [
            {
              name: 'test',
              *body(): Gen<void> {
                yield* device_driver_attach(w.drv.driver, w.provider.dev);
                out = yield* body(w);
                if (opts.unbind) yield* device_release_driver(w.provider.dev);
              },
            },
          ],
          finalChecks: opts.unbind ? final_checks(w) : undefined,
          outcome: () => out,
        };
      },
    },
    { strategy: 'dpor', maxFaults: opts.maxFaults ?? 0, maxExecutions: opts.maxFaults ? undefined : 1, collectOutcomes: true },
  );
  return { outcome: r.outcomes!.join(' || '), findings: r.findings.map((f) => ({ kind: f.kind, title: f.title })) };
}

/** Reads a p2pmem sysfs attribute of the provider: its text, or the errno. */
function* read_attr(w: p2pdma_world, name: string): Gen<string> {
  const filp = yield* sysfs_open(dev_kobj(w.provider.dev), ['p2pmem', name]);
  if (typeof filp === 'number') return `errno ${filp}`;
  const text = yield* kernfs_fop_read(filp);
  yield* kernfs_fop_release(filp);
  return String(text).trim();
}

/** The pgmap reference count of the provider's first BAR, as a number (test oracle). */
function pgmap_refs(): number {
  const pgmap = pfn_to_page(PHYS_PFN(BAR_BASE)).pgmap!;
  return Number(percpu_ref_value(pgmap.ref!));
}

describe('drivers/pci/p2pdma.c: publishing a BAR', () => {
  for (const tree of TREES) {
    it(`${tree}: the probe publishes the BAR — sysfs p2pmem/size, available, published, and (v6.2+) allocate`, () => {
      const r = run(tree, function* (w) {
        const size = yield* read_attr(w, 'size');
        const avail = yield* read_attr(w, 'available');
        const published = yield* read_attr(w, 'published');
        const alloc = yield* sysfs_open(dev_kobj(w.provider.dev), ['p2pmem', 'allocate']);
        if (typeof alloc !== 'number') yield* kernfs_fop_release(alloc);
        return `size=${size} avail=${avail} published=${published} allocate=${typeof alloc === 'number' ? 'absent' : 'present'}`;
      });
      const allocate = tree.startsWith('v6') || tree === 'newest' ? 'present' : 'absent';
      expect(r.outcome).toBe(`size=${2 * PAGE_SIZE} avail=${2 * PAGE_SIZE} published=1 allocate=${allocate}`);
      expect(r.findings).toEqual([]);
    });

    it(`${tree}: unbinding releases everything — no kmemleak report, no memmap, no sysfs group`, () => {
      const r = run(tree, function* () {
        return '';
      }, { unbind: true, bars: 2 });
      expect(r.findings).toEqual([]);
    });
  }

  it('v5.1: the second BAR reuses the device percpu_ref; the is_dying guard kills it once at unbind (no double-kill WARN)', () => {
    const r = run('v5.1', function* (w) {
      const p0 = pfn_to_page(PHYS_PFN(BAR_BASE)).pgmap!;
      const p1 = pfn_to_page(PHYS_PFN(BAR_BASE + 0x100_0000)).pgmap!;
      return `shared=${p0.ref === p1.ref && p0.ref === w.provider.p2pdma!.devmap_ref}`;
    }, { bars: 2, unbind: true });
    expect(r.outcome).toBe('shared=true');
    expect(r.findings).toEqual([]);
  });

  it('v5.2: each BAR has its own reference (seed 001 5/6)', () => {
    const r = run('v5.2', function* () {
      const p0 = pfn_to_page(PHYS_PFN(BAR_BASE)).pgmap!;
      const p1 = pfn_to_page(PHYS_PFN(BAR_BASE + 0x100_0000)).pgmap!;
      return `shared=${p0.ref === p1.ref}`;
    }, { bars: 2 });
    expect(r.outcome).toBe('shared=false');
  });

  for (const tree of TREES) {
    it(`${tree}: pci_p2pdma_add_resource() argument checks return -EINVAL`, () => {
      const r = run(tree, function* (w) {
        pci_setup_mem_bar(w.provider, 1, 0, 0);
        w.provider.resource[1]!.flags = 0;
        const not_mem = yield* pci_p2pdma_add_resource(w.provider, 1, 0, 0);
        const offset_past = yield* pci_p2pdma_add_resource(w.provider, 0, 0, 2 * PAGE_SIZE);
        const too_big = yield* pci_p2pdma_add_resource(w.provider, 0, 2 * PAGE_SIZE, PAGE_SIZE);
        return [not_mem, offset_past, too_big].join(',');
      });
      expect(r.outcome).toBe([-EINVAL, -EINVAL, -EINVAL].join(','));
    });
  }
});

describe('drivers/pci/p2pdma.c: kernel allocations', () => {
  for (const tree of TREES) {
    it(`${tree}: pci_alloc_p2pmem() takes a pgmap reference that pci_free_p2pmem() drops; the pool accounts the bytes`, () => {
      const r = run(tree, function* (w) {
        const before = pgmap_refs();
        const a = yield* pci_alloc_p2pmem(w.provider, PAGE_SIZE);
        const during = pgmap_refs();
        const avail = yield* read_attr(w, 'available');
        yield* pci_free_p2pmem(w.provider, a, PAGE_SIZE);
        const after = pgmap_refs();
        return `inbar=${a >= __va(BAR_BASE) && a < __va(BAR_BASE) + 2 * PAGE_SIZE} refs=${during - before},${after - before} avail=${avail}`;
      });
      expect(r.outcome).toBe(`inbar=true refs=1,0 avail=${PAGE_SIZE}`);
      expect(r.findings).toEqual([]);
    });

    it(`${tree}: pci_p2pmem_virt_to_bus() gives the BAR's bus address`, () => {
      const r = run(
        tree,
        function* (w) {
          const a = yield* pci_alloc_p2pmem(w.provider, PAGE_SIZE);
          const bus = yield* pci_p2pmem_virt_to_bus(w.provider, a);
          const none = yield* pci_p2pmem_virt_to_bus(w.provider, 0);
          yield* pci_free_p2pmem(w.provider, a, PAGE_SIZE);
          return `${(bus - (a - __va(BAR_BASE))).toString(16)} ${none}`;
        },
        { bus_offset: 0x1000_0000 },
      );
      expect(r.outcome).toBe(`${(BAR_BASE + 0x1000_0000).toString(16)} 0`);
    });

    it(`${tree}: DMA-mapping a p2pmem scatterlist computes the address as the tree writes it`, () => {
      const r = run(
        tree,
        function* (w) {
          // As a client does when it is configured: the distance check caches the map type.
          yield* pci_p2pdma_distance(w.provider, w.client.dev, true);
          const sg = (yield* pci_p2pmem_alloc_sgl(w.provider, PAGE_SIZE)) as scatterlist;
          const n = yield* dma_map_sg(w.client, [sg]);
          const res = `n=${n} dma-phys=${(sg.dma_address - sg_phys(sg)).toString(16)}`;
          yield* pci_p2pmem_free_sgl(w.provider, sg);
          return res;
        },
        { bus_offset: 0x1000_0000 },
      );
      // v5.1/v5.2 pci_p2pdma_map_sg(): paddr - pgmap->pci_p2pdma_bus_offset; v5.10/v5.15
      // __pci_p2pdma_map_sg(): sg_phys(s) - p2p_pgmap->bus_offset (the sign fixed by
      // 3a19407913e8, v5.16); v6.0+: sg_phys(sg) + bus_off.
      const sign = tree === 'v5.1' || tree === 'v5.2' || tree === 'v5.10' || tree === 'v5.15' ? '-' : '';
      expect(r.outcome).toBe(`n=1 dma-phys=${sign}10000000`);
      expect(r.findings).toEqual([]);
    });

    it(`${tree}: a mapping with no map type cached is ${tree === 'v5.10' || tree === 'v5.15' ? 'WARN_ON_ONCE(1) and nothing mapped (pci_p2pdma_map_sg_attrs)' : 'done as the tree does it'}`, () => {
      const r = run(tree, function* (w) {
        const sg = (yield* pci_p2pmem_alloc_sgl(w.provider, PAGE_SIZE)) as scatterlist;
        const n = yield* dma_map_sg(w.client, [sg]);
        yield* pci_p2pmem_free_sgl(w.provider, sg);
        return `n=${n}`;
      });
      // v5.1/v5.2 have no map types; v6.0+ calculate an unknown one (719c98658058).
      const unknownWarns = tree === 'v5.10' || tree === 'v5.15';
      expect(r.outcome).toBe(unknownWarns ? 'n=0' : 'n=1');
      expect(r.findings.map((f) => f.title)).toEqual(unknownWarns ? ['WARNING: at drivers/pci/p2pdma.c pci_p2pdma_map_sg_attrs: WARN_ON_ONCE(1)'] : []);
    });

    it(`${tree}: pci_p2pmem_find_many() finds the provider behind the client's switch, and nothing without a common bridge`, () => {
      const r = run(tree, function* (w) {
        const found = yield* pci_p2pmem_find_many([w.client.dev]);
        w.client.upstream = null;
        const none = yield* pci_p2pmem_find_many([w.client.dev]);
        return `${found === w.provider} ${none}`;
      });
      expect(r.outcome).toBe('true null');
    });
  }

  it('v5.1: an allocation after the unbind killed the device ref fails (tryget_live)', () => {
    const r = run('v5.1', function* (w) {
      const ref = w.provider.p2pdma!.devmap_ref;
      const a = yield* pci_alloc_p2pmem(w.provider, PAGE_SIZE);
      yield* pci_free_p2pmem(w.provider, a, PAGE_SIZE);
      return `${a !== 0} ${Number(percpu_ref_value(ref))}`;
    });
    // The device ref: its initial reference plus one per page from devm_memremap_pages().
    expect(r.outcome).toBe('true 3');
  });
});

describe('drivers/pci/p2pdma.c: p2pmem_alloc_mmap (sysfs allocate, v6.2+)', () => {
  /** open + mmap `pages` pages of the allocate file; `flags` the VMA flags; `pgoff` the offset. */
  function* map(w: p2pdma_world, pages: number, flags = SHARED_RW, pgoff = 0): Gen<{ ret: number; mm: mm_struct; filp: sysfs_file | null }> {
    const mm = mm_alloc('user');
    const filp = yield* sysfs_open(dev_kobj(w.provider.dev), ['p2pmem', 'allocate']);
    if (typeof filp === 'number') return { ret: filp, mm, filp: null };
    const ret = yield* vm_mmap(mm, filp, USER_ADDR, pages * PAGE_SIZE, flags, pgoff);
    return { ret, mm, filp };
  }
  function* close(filp: sysfs_file | null): Gen<void> {
    if (filp) yield* kernfs_fop_release(filp);
  }
  function page_count(): number {
    return pfn_to_page(PHYS_PFN(BAR_BASE)).pgmap !== null ? pfn_to_page(PHYS_PFN(BAR_BASE))._refcount.counter : NaN;
  }

  for (const tree of MMAP_TREES) {
    it(`${tree}: mmap inserts the pages (refcount 1, one pgmap ref each); munmap frees them back to the pool`, () => {
      const r = run(tree, function* (w) {
        const refs0 = pgmap_refs();
        const count0 = page_count();
        const { ret, mm, filp } = yield* map(w, 1);
        if (!filp) return `open failed ${ret}`;
        const mapped = `ret=${ret === USER_ADDR ? 'addr' : ret} count=${page_count()} refs=+${pgmap_refs() - refs0} avail=${yield* read_attr(w, 'available')}`;
        const touch = yield* user_access(mm, USER_ADDR, true);
        yield* vm_munmap(mm, USER_ADDR, PAGE_SIZE);
        yield* kernfs_fop_release(filp);
        return `free=${count0} ${mapped} touch=${touch} unmapped: count=${page_count()} refs=+${pgmap_refs() - refs0} avail=${yield* read_attr(w, 'available')}`;
      });
      // v6.14: free pages sit at 1 and are reset to 1; v6.15+ (seed 000): 0.
      const free = tree === 'v6.14' ? 1 : 0;
      expect(r.outcome).toBe(`free=${free} ret=addr count=1 refs=+1 avail=${PAGE_SIZE} touch=ok unmapped: count=${free} refs=+0 avail=${2 * PAGE_SIZE}`);
      const warns = r.findings.filter((f) => f.kind === 'warn').map((f) => f.title);
      // Seed 000's VM_WARN_ON_ONCE_PAGE(!page_ref_count(page)) fires on every first mmap of v6.15
      // (cb500023a752 fixes the condition).
      expect(warns).toEqual(tree === 'v6.15' ? ['WARNING: at drivers/pci/p2pdma.c p2pmem_alloc_mmap: VM_WARN_ON_ONCE_PAGE(!page_ref_count(page))'] : []);
      expect(r.findings.filter((f) => f.kind !== 'warn')).toEqual([]);
    });

    it(`${tree}: private mappings and non-zero offsets are refused with -EINVAL`, () => {
      const r = run(tree, function* (w) {
        const priv = yield* map(w, 1, VM_READ | VM_MAYREAD | VM_WRITE | VM_MAYWRITE);
        yield* close(priv.filp);
        const off = yield* map(w, 1, SHARED_RW, 1);
        yield* close(off.filp);
        return `${priv.ret} ${off.ret}`;
      });
      expect(r.outcome).toBe(`${-EINVAL} ${-EINVAL}`);
    });

    it(`${tree}: a vm_insert_page() failure — the tree's error path (pgmap ref, page count)`, () => {
      const r = run(
        tree,
        function* (w) {
          const refs0 = pgmap_refs();
          const { ret, filp } = yield* map(w, 1);
          yield* close(filp);
          return `ret=${ret === USER_ADDR ? 'addr' : ret} refs=+${pgmap_refs() - refs0} count=${page_count()}`;
        },
        { maxFaults: 1 },
      );
      const failed = r.outcome.split(' || ').filter((o) => o.startsWith('ret=-12 refs'));
      // The page-table allocation of vm_insert_page() fails (-ENOMEM).
      // v6.14/v6.15: the tryget reference leaks (6220694c52a5 puts it); v6.15 also returns the
      // page to the pool with count 1 (the 2026 fix resets it to 0).
      const expected = tree === 'v6.14' ? 'ret=-12 refs=+1 count=1' : tree === 'v6.15' ? 'ret=-12 refs=+1 count=1' : 'ret=-12 refs=+0 count=0';
      expect(failed).toContain(expected);
    });

    it(`${tree}: after the unbind the allocate file is gone (-ENOENT)`, () => {
      const r = run(tree, function* (w) {
        yield* device_release_driver(w.provider.dev);
        const f = yield* sysfs_open(dev_kobj(w.provider.dev), ['p2pmem', 'allocate']);
        return String(f);
      });
      expect(r.outcome).toBe(String(-ENOENT));
    });
  }
});
