// The scenario library's verdicts: for each scenario and each tree it applies to, the findings
// exploration with DPOR reaches (as short labels of their kind and title), and the replay of
// each finding's decisions reproducing it.
//
// Exploration options per scenario (the engine's default is at most one fault):
// - p2pmem-alloc-vs-unbind, p2pdma-add-resource-fault, p2pmem-sysfs-read-vs-unbind: exhaustive
//   DPOR, at most one fault.
// - p2pmem-mmap-vs-unbind: exhaustive DPOR, at most one fault (3-5k executions per tree).
// - p2pdma-two-bars-vs-unbind: DPOR with a preemption bound of 3 and at most one fault
//   (exhaustively, ~160k executions and about 5 minutes per tree: the main job's work).
//
// Findings the seeds describe: seed 002's panic (a struct page touched after
// arch_remove_memory) on v5.1; seed 001 3/6's use-after-free of the pgmap at unbind after a
// failed gen_pool_add_virt() on v5.1; seed 000's inverted VM_WARN_ON_ONCE_PAGE on v6.15 and the
// vm_insert_page() failure that leaks a pgmap reference (unbind hangs) on v6.14/v6.15 (fixed by
// 6220694c52a5). The others are real kernel bugs too (see the labels below and the report):
// none is a fault of the model.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import type { Program } from '../src/engine/execution.js';
import { explore, type ExploreOptions, type Finding, replay } from '../src/engine/explore.js';
import { TREES, treeHas } from '../src/history/trees.js';
import { SCENARIOS } from '../scenarios/index.js';

/** Short names for the findings, by kind and title. */
const LABELS: readonly [string, string, RegExp][] = [
  // seed 002: the memmap is removed while a p2pmem user still maps the page (v5.1).
  ['panic', 'memmap-removed', /^BUG: unable to handle page fault: read of struct page \(pfn 0x[0-9a-f]+\)\.pgmap, whose memmap has been removed$/],
  // v6.2..v6.14: free_zone_device_folio() resets the refcount after p2pdma_page_free() dropped
  // the last pgmap reference, racing memunmap_pages() (gone with seed 000 in v6.15).
  ['panic', 'refcount-after-memmap-removed', /^BUG: unable to handle page fault: read of struct page \(pfn 0x[0-9a-f]+\)\._refcount, whose memmap has been removed$/],
  // pci_alloc_p2pmem() loads pdev->p2pdma twice (v5.1, v5.2; fixed by the RCU conversion).
  ['panic', 'null-p2pdma', /^BUG: kernel NULL pointer dereference: pdev->p2pdma in pci_alloc_p2pmem$/],
  // size_show() dereferences pdev->p2pdma unchecked after release cleared it (v5.2).
  ['panic', 'null-p2pdma-size_show', /^BUG: kernel NULL pointer dereference: pdev->p2pdma->pool in size_show$/],
  // v5.1: the client's pci_p2pdma_map_sg() reads the pgmap devres freed.
  ['kasan', 'pgmap-freed-map_sg', /^BUG: KASAN: use-after-free: read of struct dev_pagemap\.pci_p2pdma_bus_offset \(allocated by devm_kmalloc\)$/],
  // seed 001 3/6: devm_memremap_pages_release() runs on the pgmap freed after a failed gen_pool_add_virt() (v5.1).
  ['kasan', 'pgmap-freed-release', /^BUG: KASAN: use-after-free: read of struct dev_pagemap\.dev \(allocated by devm_kmalloc\)$/],
  // v5.1: pci_alloc_p2pmem() uses the pci_p2pdma devres freed after pci_p2pdma_release().
  ['kasan', 'p2pdma-freed', /^BUG: KASAN: use-after-free: read of struct pci_p2pdma\.devmap_ref\.percpu_count_ptr/],
  // v5.2+: the pool's chunk owner is the ref inside the freed pagemap until pci_p2pdma_release().
  ['kasan', 'chunk-owner-freed', /^BUG: KASAN: use-after-free: read of struct (p2pdma_pagemap\.ref|pci_p2pdma_pagemap\.pgmap\.ref)\.percpu_count_ptr/],
  // v5.1/v5.2: gen_pool_destroy() before sysfs_remove_group(): size_show walks a freed pool.
  ['kasan', 'pool-freed-size_show', /^BUG: KASAN: use-after-free: read of struct gen_pool\.chunks \(allocated by gen_pool_create\)$/],
  // v5.1: a BAR whose pgmap never got set up leaves the device ref alive: the release waits forever.
  ['hang', 'devmap_ref_done', /^task hung: driver in wait_for_completion waits for completion p2pdma->devmap_ref_done$/],
  // seed 000 era: a vm_insert_page() failure leaks a pgmap reference: memunmap_pages() waits forever.
  ['hang', 'pgmap-done', /^task hung: driver in wait_for_completion waits for completion pgmap->done$/],
  // v5.1: pci_p2pdma_setup()'s error path does not percpu_ref_exit().
  ['leak', 'devmap_ref-percpu', /^kmemleak: unreferenced object per-CPU counters of p2pdma->devmap_ref \(allocated by percpu_ref_init\)$/],
  // The kernel's WARN_ON_ONCE when the memmap allocation of add_pages() fails (fault injection).
  ['warn', 'add_pages', /^WARNING: at arch\/x86\/mm\/init_64\.c add_pages: WARN_ON_ONCE\(ret\)$/],
  // v6.7..v6.17: devm_kfree(pgmap) of a member of the allocation (Sungho Kim's fix).
  ['warn', 'devm_kfree-member', /^WARNING: at drivers\/base\/devres\.c devm_kfree: WARN_ON\(rc\)$/],
  // seed 000 as merged (v6.15): the inverted condition (cb500023a752).
  ['warn', 'inverted-vm-warn', /^WARNING: at drivers\/pci\/p2pdma\.c p2pmem_alloc_mmap: VM_WARN_ON_ONCE_PAGE\(!page_ref_count\(page\)\)$/],
];

function label(f: { kind: string; title: string }): string {
  const l = LABELS.find(([kind, , re]) => kind === f.kind && re.test(f.title));
  return l ? `${l[0]}:${l[1]}` : `UNEXPECTED ${f.kind}: ${f.title}`;
}

type Verdicts = Readonly<Record<string, readonly string[]>>;

const FAULT_NOISE = ['warn:add_pages'];

interface Case {
  readonly options: ExploreOptions;
  readonly expected: Verdicts;
}

const CASES: Readonly<Record<string, Case>> = {
  'p2pmem-alloc-vs-unbind': {
    options: { strategy: 'dpor', maxFaults: 1 },
    expected: {
      'v5.1': [
        'panic:memmap-removed',
        'kasan:pgmap-freed-map_sg',
        'panic:null-p2pdma',
        'kasan:p2pdma-freed',
        // the faults of the probe (as in p2pdma-add-resource-fault)
        'kasan:pgmap-freed-release',
        'hang:devmap_ref_done',
        'leak:devmap_ref-percpu',
        ...FAULT_NOISE,
      ],
      'v5.2': ['kasan:chunk-owner-freed', 'panic:null-p2pdma', ...FAULT_NOISE],
      'v6.14': ['kasan:chunk-owner-freed', 'warn:devm_kfree-member', ...FAULT_NOISE],
      'v6.15': ['kasan:chunk-owner-freed', 'warn:devm_kfree-member', ...FAULT_NOISE],
      newest: ['kasan:chunk-owner-freed', ...FAULT_NOISE],
    },
  },
  'p2pdma-add-resource-fault': {
    options: { strategy: 'dpor', maxFaults: 1 },
    expected: {
      'v5.1': ['kasan:pgmap-freed-release', 'hang:devmap_ref_done', 'leak:devmap_ref-percpu', ...FAULT_NOISE],
      'v5.2': [...FAULT_NOISE],
      'v6.14': ['warn:devm_kfree-member', ...FAULT_NOISE],
      'v6.15': ['warn:devm_kfree-member', ...FAULT_NOISE],
      newest: [...FAULT_NOISE],
    },
  },
  'p2pdma-two-bars-vs-unbind': {
    options: { strategy: 'dpor', maxFaults: 1, preemptionBound: 3 },
    expected: {
      'v5.1': ['panic:memmap-removed', 'panic:null-p2pdma', 'kasan:p2pdma-freed', 'kasan:pgmap-freed-release', 'hang:devmap_ref_done', 'leak:devmap_ref-percpu', ...FAULT_NOISE],
      'v5.2': ['kasan:chunk-owner-freed', 'panic:null-p2pdma', ...FAULT_NOISE],
      'v6.14': ['kasan:chunk-owner-freed', 'warn:devm_kfree-member', ...FAULT_NOISE],
      'v6.15': ['kasan:chunk-owner-freed', 'warn:devm_kfree-member', ...FAULT_NOISE],
      newest: ['kasan:chunk-owner-freed', ...FAULT_NOISE],
    },
  },
  'p2pmem-mmap-vs-unbind': {
    options: { strategy: 'dpor', maxFaults: 1 },
    expected: {
      'v6.14': ['panic:refcount-after-memmap-removed', 'hang:pgmap-done', 'warn:devm_kfree-member', ...FAULT_NOISE],
      'v6.15': ['warn:inverted-vm-warn', 'hang:pgmap-done', 'warn:devm_kfree-member', ...FAULT_NOISE],
      newest: [...FAULT_NOISE],
    },
  },
  'p2pmem-sysfs-read-vs-unbind': {
    options: { strategy: 'dpor', maxFaults: 1 },
    expected: {
      'v5.1': [
        'kasan:pool-freed-size_show',
        // the faults of the probe (as in p2pdma-add-resource-fault)
        'kasan:pgmap-freed-release',
        'hang:devmap_ref_done',
        'leak:devmap_ref-percpu',
        ...FAULT_NOISE,
      ],
      'v5.2': ['kasan:pool-freed-size_show', 'panic:null-p2pdma-size_show', ...FAULT_NOISE],
      'v6.14': ['warn:devm_kfree-member', ...FAULT_NOISE],
      'v6.15': ['warn:devm_kfree-member', ...FAULT_NOISE],
      newest: [...FAULT_NOISE],
    },
  },
};

/** Replays a finding's decisions (always those of a whole execution) in a fresh model. */
function reproduce(program: Program, f: Finding, maxFaults: number): { kind: string; title: string }[] {
  return [...replay(program, f.decisions, { maxFaults }).findings];
}

describe('scenario verdicts (DPOR)', () => {
  it('every library scenario has its expected verdicts here', () => {
    expect(SCENARIOS.map((s) => s.name).sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const s of SCENARIOS) {
    const c = CASES[s.name];
    if (!c) continue;
    const params: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.params)) params[k] = v.default;
    for (const tree of TREES) {
      const applies = (!s.requires || treeHas(tree, s.requires)) && (!s.removedBy || !treeHas(tree, s.removedBy));
      if (!applies) {
        it(`${s.name} does not apply to ${tree.name}`, () => {
          expect(c.expected[tree.name]).toBeUndefined();
        });
        continue;
      }
      it(
        `${s.name} on ${tree.name}: ${(c.expected[tree.name] ?? []).join(', ') || 'no finding'}`,
        { timeout: 180_000 },
        () => {
          const program = s.build(tree.name, params);
          const r = explore(program, c.options);
          if (!c.options.preemptionBound) expect(r.complete).toBe(true);
          const got = [...new Set(r.findings.map(label))].sort();
          expect(got).toEqual([...(c.expected[tree.name] ?? [])].sort());
          for (const f of r.findings) {
            const again = reproduce(program, f, c.options.maxFaults ?? 1);
            expect(again.filter((g) => g.kind === f.kind && g.title === f.title).map((g) => g.title)).toEqual([f.title]);
          }
        },
      );
    }
  }
});
