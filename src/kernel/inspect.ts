// What a debugger attached to the modelled machine (drgn, crash) would print of ZONE_DEVICE
// between two steps: the struct pages of the memmap with their refcounts, each dev_pagemap with
// its percpu_ref's mode and count, the gen_pool chunks of each p2pdma provider and what is
// allocated from them, pdev->p2pdma, and each device's devres list. The trace viewer and the
// Perfetto export show it at every step of a finding's interleaving.
//
// It reads the model's objects behind their KASAN proxies (a debugger reads memory without
// faulting): freed or unmapped memory is shown as such, never reported, and nothing is changed.

import type { ModelState, StateRow, StateSection } from '../engine/state.js';
import type { device } from './drivers/base/core.js';
import type { pci_dev } from './drivers/pci/pci.js';
import type { gen_pool } from './include/linux/genalloc.js';
import type { dev_pagemap } from './include/linux/memremap.js';
import type { page } from './include/linux/mm_types.js';
import { mapcount_obj, refcount_obj } from './include/linux/mm_types.js';
import { __PERCPU_REF_ATOMIC, __PERCPU_REF_DEAD, area_of, type percpu_ref, type percpu_ref_data, percpu_ref_folded } from './include/linux/percpu-refcount.js';
import { hex } from './kernel/printk.js';
import { peek_memory } from './mm/kasan.js';
import { __pa } from './include/linux/mm.js';
import { PHYS_PFN } from './include/linux/pfn.js';
import { memmap, memmap_present } from './mm/memory_hotplug.js';
import { pgmap_array_entries } from './mm/memremap.js';

/** What a debugger reads of `obj` (mm/kasan.ts peek_memory): its memory, and whether it is gone. */
function peek<T extends object>(obj: T): { readonly raw: T; readonly gone: string | undefined } {
  const { raw, gone } = peek_memory(obj);
  return { raw, gone: gone === 'freed' ? 'freed' : gone === 'unmapped' ? 'memmap removed' : undefined };
}

/** The machine's ZONE_DEVICE state, for the PCI devices of a scenario. */
export function zone_device_state(pdevs: readonly pci_dev[]): ModelState {
  const sections: StateSection[] = [
    { name: 'struct page', rows: page_rows() },
    { name: 'dev_pagemap', rows: pgmap_rows() },
    { name: 'gen_pool', rows: pdevs.flatMap(pool_rows) },
    { name: 'pci_dev', rows: pdevs.map(pdev_row) },
    { name: 'devres', rows: pdevs.map((p) => devres_row(p.dev)) },
  ];
  return { sections };
}

/** Every struct page of the vmemmap: _refcount, _mapcount, pgmap; or that its section has no memmap (not added yet, or removed). */
function page_rows(): StateRow[] {
  const pages = [...memmap().pages].sort(([a], [b]) => a - b);
  return pages.map(([pfn, p]): StateRow => {
    const key = `pfn ${hex(pfn)}`;
    if (!memmap_present(pfn)) return { key, value: 'no memmap (section not present)' };
    const { raw } = peek<page>(p);
    // CONFIG_DEBUG_VM's page_init_poison(): the memmap filled with 0xff before it is initialised.
    if (raw.flags === -1) return { key, value: 'poisoned (page_init_poison(): every word 0xff)' };
    const refcount = peek(refcount_obj(p)).raw.counter;
    const mapcount = peek(mapcount_obj(p)).raw.counter;
    const pgmap = raw.pgmap ? `, pgmap ${pgmap_name(raw.pgmap)}` : '';
    return { key, value: `_refcount ${refcount}, _mapcount ${mapcount}${pgmap}`, counters: { _refcount: refcount } };
  });
}

/** The pgmap's physical range: pgmap->res before v5.10 (a resource), pgmap->range after. */
function pgmap_name(pgmap: dev_pagemap): string {
  const raw = peek(pgmap).raw;
  const r = raw.ranges[0]!.end >= raw.ranges[0]!.start ? raw.ranges[0]! : raw.res;
  return `${hex(r.start)}-${hex(r.end)}`;
}

/** The dev_pagemaps in pgmap_array and those the memmap's pages still point at. */
function pgmap_rows(): StateRow[] {
  const seen = new Set<dev_pagemap>();
  for (const pgmap of pgmap_array_entries()) seen.add(pgmap);
  for (const p of memmap().pages.values()) {
    const pgmap = peek<page>(p).raw.pgmap;
    if (pgmap) seen.add(pgmap);
  }
  return [...seen].map((pgmap): StateRow => {
    const key = pgmap_name(pgmap);
    const { raw, gone } = peek(pgmap);
    if (gone) return { key, value: gone };
    const inArray = pgmap_array_entries().includes(pgmap) ? 'in pgmap_array' : 'not in pgmap_array';
    if (!raw.ref) return { key, value: `${inArray}, no ref` };
    const ref = ref_state(raw.ref);
    return { key, value: `${inArray}, ${raw.ref.name}: ${ref.text}`, ...(ref.count !== undefined ? { counters: { [raw.ref.name]: ref.count } } : {}) };
  });
}

/**
 * A percpu_ref as percpu_ref_is_zero() and the switch see it: its mode (the __PERCPU_REF_ATOMIC
 * and __PERCPU_REF_DEAD bits of percpu_count_ptr) and its count, the per-CPU counters folded in
 * while it is in percpu mode, PERCPU_COUNT_BIAS taken out.
 */
function ref_state(ref: percpu_ref): { text: string; count?: number } {
  const { raw } = peek(ref);
  const word = raw.percpu_count_ptr;
  const mode = (word & __PERCPU_REF_DEAD) !== 0n ? 'dead' : (word & __PERCPU_REF_ATOMIC) !== 0n ? 'atomic' : 'percpu';
  // ref->data is NULL before percpu_ref_init() and after percpu_ref_exit() (v5.10+).
  if (!raw.data) return { text: 'exited' };
  const data = peek<percpu_ref_data>(raw.data);
  if (data.gone) return { text: `${mode}, data ${data.gone}` };
  const area = area_of(word);
  const n = Number(percpu_ref_folded(data.raw.count.counter, area));
  return { text: `${mode}, count ${n}${area ? '' : ', per-CPU counters freed'}`, count: n };
}

/** Each chunk of a provider's gen_pool: its range, avail and the allocation units in use. */
function pool_rows(pdev: pci_dev): StateRow[] {
  const p2pdma = pdev.p2pdma ? peek(pdev.p2pdma) : undefined;
  if (!p2pdma || p2pdma.gone || !p2pdma.raw.pool) return [];
  const pool = peek<gen_pool>(p2pdma.raw.pool);
  const name = pdev.dev.name;
  if (pool.gone) return [{ key: name, value: `pool ${pool.gone}` }];
  return pool.raw.chunks.map((c): StateRow => {
    const chunk = peek(c);
    const key = `${name} chunk ${hex(chunk.raw.start_addr)}-${hex(chunk.raw.end_addr)}`;
    if (chunk.gone) return { key, value: chunk.gone };
    const unit = 1 << pool.raw.min_alloc_order;
    // Each allocation by its address and the pfn of its page (virt_to_page(): the pool's
    // phys_addr is the bus address).
    const used = chunk.raw.bits.flatMap((b, i) => (b ? [`${hex(chunk.raw.start_addr + i * unit)} (pfn ${hex(PHYS_PFN(__pa(chunk.raw.start_addr + i * unit)))})`] : []));
    const avail = Number(chunk.raw.avail.counter);
    return { key, value: `avail ${avail} bytes; allocated: ${used.length ? used.join(' ') : 'none'}`, counters: { avail } };
  });
}

/** pdev->p2pdma, and whether p2pmem is published. */
function pdev_row(pdev: pci_dev): StateRow {
  if (!pdev.p2pdma) return { key: pdev.dev.name, value: 'p2pdma NULL' };
  const p2pdma = peek(pdev.p2pdma);
  if (p2pdma.gone) return { key: pdev.dev.name, value: `p2pdma ${p2pdma.gone}` };
  return { key: pdev.dev.name, value: `p2pdma set${p2pdma.raw.p2pmem_published ? ', p2pmem published' : ''}` };
}

/** A device's devres list, newest first: the order devres_release_all() releases it in. */
function devres_row(dev: device): StateRow {
  const list = dev.devres_head;
  if (list === null) return { key: dev.name, value: 'not initialised' };
  const names = [...list].reverse().map((n) => peek(n).raw.name);
  return { key: dev.name, value: names.length ? names.join(' < ') : 'empty' };
}
