// mm/memory.c, mm/mmap.c, include/linux/mm.h, include/linux/page_ref.h,
// include/linux/mmdebug.h: mapping ZONE_DEVICE pages into a process (vm_insert_page), taking
// them away (munmap, unmap_mapping_range, exit_mmap), user accesses, and the page reference
// checks of a CONFIG_DEBUG_VM kernel.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../../src/engine/explore.js';
import type { FinalReport } from '../../src/engine/execution.js';
import { block, frame, type Gen, read, step, write } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import { device, device_initialize } from '../../src/kernel/drivers/base/core.js';
import { IS_ERR } from '../../src/kernel/include/linux/err.js';
import { GFP_KERNEL } from '../../src/kernel/include/linux/gfp.js';
import { dev_pagemap, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_PCI_P2PDMA, type pgmap_type } from '../../src/kernel/include/linux/memremap.js';
import { __va, get_page, put_page, virt_to_page } from '../../src/kernel/include/linux/mm.js';
import {
  address_space,
  type file,
  type mm_struct,
  type page,
  type vm_area_struct,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from '../../src/kernel/include/linux/mm_types.js';
import { VM_WARN_ON_ONCE_PAGE } from '../../src/kernel/include/linux/mmdebug.js';
import { page_ref_count, set_page_count } from '../../src/kernel/include/linux/page_ref.js';
import { percpu_ref, percpu_ref_func, percpu_ref_kill } from '../../src/kernel/include/linux/percpu-refcount.js';
import { EBUSY, EFAULT, EINVAL, ENOMEM } from '../../src/kernel/include/uapi/errno.js';
import { percpu_ref_init } from '../../src/kernel/lib/percpu-refcount.js';
import { complete, completion } from '../../src/kernel/kernel/sched/completion.js';
import { machine, patched } from '../../src/kernel/machine.js';
import { arch_remove_memory, PAGE_SIZE, pfn_to_page, set_pages_per_section } from '../../src/kernel/mm/memory_hotplug.js';
import { dev_pagemap_get_ops, devm_memremap_pages, memremap_pages } from '../../src/kernel/mm/memremap.js';
import { unmap_mapping_range, user_access, vm_insert_page } from '../../src/kernel/mm/memory.js';
import { exit_mmap, mm_alloc, vm_mmap, vm_munmap } from '../../src/kernel/mm/mmap.js';

const PFN = 0x100000;
const NPAGES = 2;
const START = PFN * PAGE_SIZE;
const UADDR = 0x7f0000000000;
const SHARED_RW = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE;

const seq: ExploreOptions = { strategy: 'dpor', maxFaults: 0, collectOutcomes: true };

function leaks(): FinalReport[] {
  return machine()
    .slab.leaks()
    .map((l) => ({ kind: 'leak', title: `unreferenced object ${l.what} (allocated by ${l.allocatedBy})` }));
}

interface Ctx {
  readonly tree: string;
  readonly dev: device;
  readonly pgmap: dev_pagemap;
  readonly calls: string[];
  readonly out: string[];
  readonly mm: mm_struct;
  readonly mapping: address_space;
}

function new_ctx(tree: string, type: pgmap_type): Ctx {
  bootTree(tree);
  set_pages_per_section(NPAGES);
  const dev = new device('dev0');
  device_initialize(dev);
  const calls: string[] = [];
  const pgmap = new dev_pagemap();
  pgmap.type = type;
  pgmap.res = { start: START, end: START + NPAGES * PAGE_SIZE - 1 };
  pgmap.range = { start: START, end: START + NPAGES * PAGE_SIZE - 1 };
  pgmap.nr_range = 1;
  pgmap.ops = {
    page_free: function* (p: page): Gen<void> {
      calls.push(`page_free(${yield* page_ref_count(p)})`);
    },
    folio_free: function* (p: page): Gen<void> {
      calls.push(`folio_free(${yield* page_ref_count(p)})`);
    },
  };
  pgmap.page_free = function* (p: page): Gen<void> {
    calls.push(`page_free(${yield* page_ref_count(p)})`);
  };
  return { tree, dev, pgmap, calls, out: [], mm: mm_alloc('proc'), mapping: new address_space('p2pmem/allocate') };
}

/** Gives the pgmap its memory the way the running tree does (v5.x: with a driver-owned ref). */
function* setup_memory(ctx: Ctx): Gen<void> {
  expect(yield* try_setup_memory(ctx)).toBe(true);
}

function* try_setup_memory(ctx: Ctx): Gen<boolean> {
  if (!patched('memremap-pgmap-owned-ref')) {
    const ref = new percpu_ref('drv->ref');
    const done = new completion('drv->ref_done');
    const release = percpu_ref_func(
      'drv_release',
      frame('drv_release', function* (_r: percpu_ref): Gen<void> {
        yield* complete(done);
      }),
    );
    if (yield* percpu_ref_init(ref, release, 0, GFP_KERNEL)) return false;
    ctx.pgmap.ref = ref;
    ctx.pgmap.kill = frame('drv_kill', (r: percpu_ref) => percpu_ref_kill(r));
    ctx.pgmap.cleanup = frame('drv_cleanup', function* (_r: percpu_ref): Gen<void> {});
    return !IS_ERR(yield* devm_memremap_pages(ctx.dev, ctx.pgmap));
  }
  return !IS_ERR(yield* memremap_pages(ctx.pgmap, -1));
}

/**
 * A file whose ->mmap inserts device pages the way p2pmem_alloc_mmap() does on the running tree:
 * v6.15+ first sets the count of a free (0) page to 1; every v6.x tree hands the allocation's
 * reference to the PTE (put_page() after vm_insert_page()). v5.x keeps its own reference.
 */
function p2pmem_like_file(ctx: Ctx, pages: () => page[]): file {
  return {
    name: 'p2pmem/allocate',
    f_mapping: ctx.mapping,
    mmap: frame('test_mmap', function* (_f: file, vma: vm_area_struct): Gen<number> {
      let vaddr = vma.vm_start;
      for (const p of pages()) {
        if ((yield* page_ref_count(p)) === 0) yield* set_page_count(p, 1);
        const ret = yield* vm_insert_page(vma, vaddr, p);
        if (ret) return ret;
        if (patched('memremap-pgmap-owned-ref')) yield* put_page(p);
        vaddr += PAGE_SIZE;
      }
      return 0;
    }),
  };
}

function run(tree: string, body: (ctx: Ctx) => Gen<void>, options: ExploreOptions = seq, type: pgmap_type = MEMORY_DEVICE_PCI_P2PDMA) {
  return explore(
    {
      setup: () => {
        const ctx = new_ctx(tree, type);
        return { threads: [{ name: 'proc', body: () => body(ctx) }], finalChecks: leaks, outcome: () => ctx.out.join(' ') };
      },
    },
    options,
  );
}

function state(p: page): string {
  return `count=${p._refcount.counter} mapcount=${p._mapcount.counter + 1}`;
}

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'] as const;

describe('vm_insert_page() and munmap() (mm/memory.c, mm/mmap.c)', () => {
  const expected: Record<(typeof TREES)[number], string> = {
    'v5.1': 'mapped: count=2 mapcount=1 | unmapped: count=1 mapcount=0 | page_free: none',
    'v5.2': 'mapped: count=2 mapcount=1 | unmapped: count=1 mapcount=0 | page_free: none',
    'v6.14': 'mapped: count=1 mapcount=1 | unmapped: count=1 mapcount=0 | page_free: page_free(0)',
    'v6.15': 'mapped: count=1 mapcount=1 | unmapped: count=0 mapcount=0 | page_free: page_free(0)',
    newest: 'mapped: count=1 mapcount=1 | unmapped: count=0 mapcount=0 | page_free: folio_free(0)',
  };
  for (const tree of TREES) {
    it(`${tree}: the PTE holds a page reference and a mapcount; munmap() drops both and frees per the tree`, () => {
      const r = run(tree, function* (ctx) {
        yield* setup_memory(ctx);
        const p = pfn_to_page(PFN);
        const f = p2pmem_like_file(ctx, () => [p]);
        expect(yield* vm_mmap(ctx.mm, f, UADDR, PAGE_SIZE, SHARED_RW)).toBe(UADDR);
        ctx.out.push(`mapped: ${state(p)} |`);
        expect(yield* vm_munmap(ctx.mm, UADDR, PAGE_SIZE)).toBe(0);
        ctx.out.push(`unmapped: ${state(p)} |`, `page_free: ${ctx.calls.join(',') || 'none'}`);
      });
      expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
      expect(r.outcomes).toEqual([expected[tree]]);
    });
  }

  it('v5.1: a zap that drops the last reference of a P2PDMA page sends it down the ordinary free path: "BUG: Bad page state"', () => {
    const r = run('v5.1', function* (ctx) {
      yield* setup_memory(ctx);
      const p = pfn_to_page(PFN);
      expect(yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => [p]), UADDR, PAGE_SIZE, SHARED_RW)).toBe(UADDR);
      yield* put_page(p); // the driver drops its own reference: only the PTE's is left
      yield* vm_munmap(ctx.mm, UADDR, PAGE_SIZE);
      ctx.out.push(state(p));
    });
    expect(r.findings.filter((f) => f.kind !== 'leak').map((f) => [f.kind, f.title])).toEqual([['bug', 'BUG: Bad page state in process proc  pfn:100000']]);
    expect(r.outcomes).toEqual(['count=0 mapcount=0']);
  });

  it('v5.1: a devmap-managed page (FS_DAX, key on) unmapped by munmap() goes idle at 1 and calls page_free', () => {
    const r = run(
      'v5.1',
      function* (ctx) {
        yield* dev_pagemap_get_ops();
        yield* setup_memory(ctx);
        const p = pfn_to_page(PFN);
        expect(yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => [p]), UADDR, PAGE_SIZE, SHARED_RW)).toBe(UADDR);
        yield* vm_munmap(ctx.mm, UADDR, PAGE_SIZE);
        ctx.out.push(state(p), ctx.calls.join(','));
      },
      seq,
      MEMORY_DEVICE_FS_DAX,
    );
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual(['count=1 mapcount=0 page_free(1)']);
  });

  it('a failing ->mmap after inserting pages: mmap_region() unmaps the partial mapping (unmap_and_free_vma)', () => {
    const r = run('v6.15', function* (ctx) {
      yield* setup_memory(ctx);
      const p0 = pfn_to_page(PFN);
      const p1 = pfn_to_page(PFN + 1);
      // The second insert hits the first page's PTE slot again: -EBUSY.
      const f: file = {
        name: 'bad',
        f_mapping: ctx.mapping,
        mmap: function* (_f: file, vma: vm_area_struct): Gen<number> {
          yield* set_page_count(p0, 1);
          expect(yield* vm_insert_page(vma, vma.vm_start, p0)).toBe(0);
          yield* put_page(p0);
          yield* set_page_count(p1, 1);
          return yield* vm_insert_page(vma, vma.vm_start, p1);
        },
      };
      ctx.out.push(String(yield* vm_mmap(ctx.mm, f, UADDR, 2 * PAGE_SIZE, SHARED_RW)));
      ctx.out.push(state(p0), state(p1), ctx.calls.join(','), `vmas=${ctx.mm.mm_mt.length}`, `i_mmap=${ctx.mapping.i_mmap.length}`);
    });
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual([`${-EBUSY} count=0 mapcount=0 count=1 mapcount=0 page_free(0) vmas=0 i_mmap=0`]);
  });
});

describe('vm_insert_page() checks', () => {
  it('v6.15: -EFAULT outside the VMA, -EINVAL for a page with a zero refcount, -EBUSY for a used PTE', () => {
    const r = run('v6.15', function* (ctx) {
      yield* setup_memory(ctx);
      const p = pfn_to_page(PFN);
      const f: file = {
        name: 'checks',
        f_mapping: ctx.mapping,
        mmap: function* (_f: file, vma: vm_area_struct): Gen<number> {
          ctx.out.push(String(yield* vm_insert_page(vma, vma.vm_end, p)));
          ctx.out.push(String(yield* vm_insert_page(vma, vma.vm_start, p)));
          yield* set_page_count(p, 1);
          ctx.out.push(String(yield* vm_insert_page(vma, vma.vm_start, p)));
          ctx.out.push(String(yield* vm_insert_page(vma, vma.vm_start, p)));
          return 0;
        },
      };
      yield* vm_mmap(ctx.mm, f, UADDR, PAGE_SIZE, SHARED_RW);
      ctx.out.push(state(p));
      yield* exit_mmap(ctx.mm);
    });
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual([`${-EFAULT} ${-EINVAL} 0 ${-EBUSY} count=2 mapcount=1`]);
  });

  it('v6.15: the page-table allocation is a fault point: -ENOMEM, nothing mapped', () => {
    const r = run(
      'v6.15',
      function* (ctx) {
        const p = pfn_to_page(PFN);
        if (!(yield* try_setup_memory(ctx))) return;
        const ret = yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => [p]), UADDR, PAGE_SIZE, SHARED_RW);
        ctx.out.push(String(ret), state(p));
      },
      { strategy: 'dpor', maxFaults: 1, collectOutcomes: true },
    );
    // -ENOMEM from vm_area_alloc() (the page untouched) or from pte_alloc_one() (the ->mmap had
    // set the count to 1 before vm_insert_page() failed); else mapped.
    expect(r.outcomes).toEqual(['', `${-ENOMEM} count=0 mapcount=0`, `${-ENOMEM} count=1 mapcount=0`, `${UADDR} count=1 mapcount=1`]);
  });

  it('vm_insert_page() without the mmap lock held for write: BUG_ON(mmap_read_trylock(vma->vm_mm))', () => {
    for (const tree of ['v5.1', 'v6.15']) {
      const r = run(tree, function* (ctx) {
        yield* setup_memory(ctx);
        const p = pfn_to_page(PFN);
        yield* vm_mmap(ctx.mm, { name: 'empty', f_mapping: ctx.mapping, mmap: function* () {
          return 0;
        } }, UADDR, PAGE_SIZE, SHARED_RW);
        const vma = ctx.mm.mm_mt[0]!;
        yield* set_page_count(p, 1);
        yield* vm_insert_page(vma, UADDR, p);
      });
      expect(r.findings.map((f) => [f.kind, f.title])).toEqual([
        ['bug', `kernel BUG at mm/memory.c vm_insert_page: ${tree === 'v5.1' ? 'BUG_ON(down_read_trylock(&vma->vm_mm->mmap_sem))' : 'BUG_ON(mmap_read_trylock(vma->vm_mm))'}`],
      ]);
    }
  });
});

describe('user accesses (signals are the process\'s, not kernel findings)', () => {
  it('v6.15: a mapped page is accessed; after munmap() the same access is SIGSEGV', () => {
    const r = run('v6.15', function* (ctx) {
      yield* setup_memory(ctx);
      const p = pfn_to_page(PFN);
      yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => [p]), UADDR, PAGE_SIZE, SHARED_RW);
      ctx.out.push(yield* user_access(ctx.mm, UADDR + 8, true));
      yield* vm_munmap(ctx.mm, UADDR, PAGE_SIZE);
      ctx.out.push(yield* user_access(ctx.mm, UADDR + 8));
      ctx.out.push(...ctx.mm.signals);
    });
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual([`ok SIGSEGV SIGSEGV at 0x${(UADDR + 8).toString(16)}`]);
  });

  it('v6.15: unmap_mapping_range() zaps every process mapping the file; the VMA stays, so an access is SIGBUS', () => {
    const r = run('v6.15', function* (ctx) {
      yield* setup_memory(ctx);
      const p0 = pfn_to_page(PFN);
      const p1 = pfn_to_page(PFN + 1);
      const other = mm_alloc('other');
      yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => [p0]), UADDR, PAGE_SIZE, SHARED_RW);
      yield* vm_mmap(other, p2pmem_like_file(ctx, () => [p1]), UADDR, PAGE_SIZE, SHARED_RW);
      yield* unmap_mapping_range(ctx.mapping, 0, 0, 1);
      ctx.out.push(state(p0), state(p1), ctx.calls.join(','));
      ctx.out.push(yield* user_access(ctx.mm, UADDR), yield* user_access(other, UADDR));
      yield* exit_mmap(ctx.mm);
      yield* exit_mmap(other);
      ctx.out.push(`i_mmap=${ctx.mapping.i_mmap.length}`);
    });
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual(['count=0 mapcount=0 count=0 mapcount=0 page_free(0),page_free(0) SIGBUS SIGBUS i_mmap=0']);
  });

  it('v6.15: exit_mmap() (process exit) zaps everything and returns the pages', () => {
    const r = run('v6.15', function* (ctx) {
      yield* setup_memory(ctx);
      const pages = [pfn_to_page(PFN), pfn_to_page(PFN + 1)];
      yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => pages), UADDR, 2 * PAGE_SIZE, SHARED_RW);
      ctx.out.push(pages.map(state).join(','));
      yield* exit_mmap(ctx.mm);
      ctx.out.push(pages.map(state).join(','), ctx.calls.join(','), `vmas=${ctx.mm.mm_mt.length}`, `rss=${ctx.mm.rss_stat[0]!.counter}`);
    });
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual(['count=1 mapcount=1,count=1 mapcount=1 count=0 mapcount=0,count=0 mapcount=0 page_free(0),page_free(0) vmas=0 rss=0']);
  });

  it('a mapping left in place while the memmap is removed: the zap (and an access) touch a removed struct page: panic', () => {
    for (const what of ['munmap', 'access'] as const) {
      const r = run('v6.15', function* (ctx) {
        yield* setup_memory(ctx);
        const p = pfn_to_page(PFN);
        yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => [p]), UADDR, PAGE_SIZE, SHARED_RW);
        yield* arch_remove_memory(START, NPAGES * PAGE_SIZE, null);
        if (what === 'munmap') yield* vm_munmap(ctx.mm, UADDR, PAGE_SIZE);
        else yield* user_access(ctx.mm, UADDR);
        ctx.out.push('not reached');
      });
      expect(r.outcomes).toEqual([]);
      expect(r.findings.map((f) => f.kind)).toEqual(['panic']);
      expect(r.findings[0]!.title).toMatch(/^BUG: unable to handle page fault: (read|write) of struct page \(pfn 0x100000\)\./);
      expect(r.findings[0]!.stack).toContain(what === 'munmap' ? 'zap_pte_range' : 'user_access');
    }
  });
});

describe('page references on a CONFIG_DEBUG_VM kernel (include/linux/mm.h, mmdebug.h)', () => {
  it('get_page() and put_page() of a page whose count is 0 are VM_BUG_ONs', () => {
    const cases: [string, string][] = [
      ['v5.2', 'kernel BUG at include/linux/mm.h get_page: VM_BUG_ON_PAGE(page_ref_zero_or_close_to_overflow(page))'],
      ['v6.15', 'kernel BUG at include/linux/mm.h folio_get: VM_BUG_ON_FOLIO(folio_ref_zero_or_close_to_overflow(folio))'],
    ];
    for (const [tree, title] of cases) {
      const r = run(tree, function* (ctx) {
        yield* setup_memory(ctx);
        const p = pfn_to_page(PFN);
        yield* set_page_count(p, 0);
        yield* get_page(p);
      });
      expect(r.findings.map((f) => f.title)).toEqual([title]);
    }
    const r = run('v6.15', function* (ctx) {
      yield* setup_memory(ctx);
      yield* put_page(pfn_to_page(PFN));
    });
    expect(r.findings.map((f) => f.title)).toEqual(['kernel BUG at include/linux/mm.h folio_put_testzero: VM_BUG_ON_FOLIO(folio_ref_count(folio) == 0)']);
    expect(machine().dmesg.some((l) => l.includes('page dumped because: VM_BUG_ON_FOLIO(folio_ref_count(folio) == 0)'))).toBe(true);
  });

  it('VM_WARN_ON_ONCE_PAGE() dumps the page and warns once per site', () => {
    const r = run('v6.15', function* (ctx) {
      yield* setup_memory(ctx);
      const p = virt_to_page(__va(START));
      for (let i = 0; i < 2; i++) {
        const c = yield* page_ref_count(p);
        ctx.out.push(String(yield* VM_WARN_ON_ONCE_PAGE(!c, p, 'drivers/pci/p2pdma.c p2pmem_alloc_mmap', '!page_ref_count(page)')));
      }
      ctx.out.push(String(machine().dmesg.filter((l) => l.includes('page dumped because')).length));
    });
    expect(r.findings.filter((f) => f.kind !== 'leak').map((f) => [f.kind, f.title])).toEqual([['warn', 'WARNING: at drivers/pci/p2pdma.c p2pmem_alloc_mmap: VM_WARN_ON_ONCE_PAGE(!page_ref_count(page))']]);
    expect(r.outcomes).toEqual(['true true 1']);
  });
});

describe('concurrent unmapping under DPOR', () => {
  function two(tree: string, a: (ctx: Ctx) => Gen<void>, b: (ctx: Ctx) => Gen<void>) {
    return explore(
      {
        setup: () => {
          const ctx = new_ctx(tree, MEMORY_DEVICE_PCI_P2PDMA);
          const ready = { yes: false };
          return {
            threads: [
              {
                name: 'proc',
                *body() {
                  yield* setup_memory(ctx);
                  const p = pfn_to_page(PFN);
                  expect(yield* vm_mmap(ctx.mm, p2pmem_like_file(ctx, () => [p]), UADDR, PAGE_SIZE, SHARED_RW)).toBe(UADDR);
                  yield* step('mapped', write(ready));
                  ready.yes = true;
                  yield* a(ctx);
                },
              },
              {
                name: 'other',
                *body() {
                  yield* block('wait for the mapping', 'proc', () => ready.yes, read(ready));
                  yield* b(ctx);
                },
              },
            ],
            outcome: () => `${state(pfn_to_page(PFN))} ${ctx.calls.join(',')} ${ctx.out.join(' ')}`.trim(),
          };
        },
      },
      { strategy: 'dpor', maxFaults: 0, collectOutcomes: true },
    );
  }

  it('v6.15: munmap() racing unmap_mapping_range() (an unbind) zaps the PTE once: one page_free, no finding', () => {
    const r = two(
      'v6.15',
      function* (ctx) {
        yield* vm_munmap(ctx.mm, UADDR, PAGE_SIZE);
      },
      function* (ctx) {
        yield* unmap_mapping_range(ctx.mapping, 0, 0, 1);
      },
    );
    expect(r.complete).toBe(true);
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual(['count=0 mapcount=0 page_free(0)']);
  });

  it('v6.15: a user access racing munmap() either reaches the page or gets SIGSEGV', () => {
    const r = two(
      'v6.15',
      function* (ctx) {
        yield* vm_munmap(ctx.mm, UADDR, PAGE_SIZE);
      },
      function* (ctx) {
        ctx.out.push(yield* user_access(ctx.mm, UADDR));
      },
    );
    expect(r.complete).toBe(true);
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual(['count=0 mapcount=0 page_free(0) SIGSEGV', 'count=0 mapcount=0 page_free(0) ok']);
  });
});

