// mm/memory_hotplug.c and mm/sparse.c (with the x86 arch_add_memory()/add_pages()/
// arch_remove_memory() of arch/x86/mm/init_64.c and the vmemmap pfn_to_page() of
// include/asm-generic/memory_model.h): the memmap, i.e. the struct pages, exist only between
// adding a range (arch_add_memory(), or add_pages() for device-private memory in v5.3+) and
// removing it (arch_remove_memory() / __remove_pages()). Trees: v5.1 .. newest.
//
// The model. The machine keeps one memmap (a global): per pfn, the struct page at
// vmemmap + pfn, a tracked object (mm/kasan.ts) that is the same object for the whole boot
// (pfn_to_page() is pointer arithmetic: it always returns that address, whether the memmap
// is there or not). Adding a section populates it (the page's memory becomes accessible,
// filled with the CONFIG_DEBUG_VM poison pattern until memmap_init_zone_device() initialises
// it); removing the section poisons it 'unmapped', so any later access of the page is the
// page-fault panic of seed 002. A pfn that was never added is unmapped too.
//
// Sections are the model's memory sections: PAGES_PER_SECTION is a per-machine setting
// (default 4 pages, set_pages_per_section() in a scenario's setup), so that a BAR of a few
// pages is a section or two and exploration stays small; nothing depends on the value. In
// v5.x memremap aligns its range to sections; v6.x adds exactly its range (the kernel's
// subsection granularity), which the model carries per page.
//
// Not modelled: the altmap (vmem_altmap: memmap stored in the device memory itself), memory
// blocks and onlining (ZONE_DEVICE memory is never onlined), the linear map
// (init_memory_mapping/kernel_physical_mapping_remove: nothing in the model reads memory through
// it), zone spans beyond highest_memmap_pfn, and check_pfn_span()'s subsection alignment.

import { block, fault, frame, type Gen, read, type Site, step, where, write } from '../../engine/ops.js';
import { WARN, WARN_ON_ONCE } from '../include/asm-generic/bug.js';
import { atomic_t, mapcount_obj, page, page_to_nid, page_zonenum, pfn_of_struct_page, refcount_obj, register_struct_page, type zone_type } from '../include/linux/mm_types.js';
import type { dev_pagemap, vmem_altmap } from '../include/linux/memremap.js';
import { EEXIST, EINVAL, ENOMEM } from '../include/uapi/errno.js';
import { machine, patched } from '../machine.js';
import { might_sleep } from '../kernel/rcu/tree.js';
import { isPoisoned, poison, track, tracked } from './kasan.js';
import { PAGE_SIZE, PHYS_PFN } from '../include/linux/pfn.js';

// PAGE_SIZE and the pfn conversions are include/linux/pfn.ts's; the memmap's users find them here too.
export { PAGE_SHIFT, PAGE_SIZE, PFN_PHYS, PFN_UP, PHYS_PFN } from '../include/linux/pfn.js';

// ---- the memmap ----

/** CONFIG_DEBUG_VM's page_init_poison() pattern: every word of the struct page is 0xff.. */
const PAGE_POISON_PATTERN = -1;

/** struct mem_section: one per section; the shared object of its presence and memmap. */
export class mem_section {
  /** section_mark_present() / valid_section(): the section has a memmap. */
  present = false;
  constructor(readonly nr: number) {}
}

/** struct zone, reduced to ZONE_DEVICE of node 0 (the zone objects are shared objects). */
export class zone {
  constructor(
    readonly name: zone_type,
    readonly nid: number,
  ) {}
}

/** mem_hotplug_lock (a percpu rw-semaphore, taken for write by mem_hotplug_begin()). */
export class mem_hotplug_lock_t {
  held = false;
}

/** The machine's memory hotplug state. */
export class memmap_state {
  pages_per_section = 4;
  /** vmemmap: the struct page of each pfn, one object per pfn for the whole boot. */
  readonly pages = new Map<number, page>();
  readonly sections = new Map<number, mem_section>();
  readonly zones = new Map<string, zone>();
  readonly mem_hotplug_lock = new mem_hotplug_lock_t();
  /** highest_memmap_pfn (mm/internal.h), raised by memmap init, never lowered. */
  readonly highest_memmap_pfn = { pfn: 0 };
  /** max_pfn (update_end_of_memory_vars()). */
  readonly max_pfn = { pfn: 0 };
}

/** The machine's memmap. */
export function memmap(): memmap_state {
  return machine().global('memory_hotplug', () => new memmap_state());
}

/** Sets PAGES_PER_SECTION for this machine (call in a scenario's setup, before any page use). */
export function set_pages_per_section(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`PAGES_PER_SECTION must be a positive integer, not ${n}`);
  memmap().pages_per_section = n;
}

export function PAGES_PER_SECTION(): number {
  return memmap().pages_per_section;
}

/** SECTION_SIZE (bytes) = PAGES_PER_SECTION << PAGE_SHIFT. */
export function SECTION_SIZE(): number {
  return PAGES_PER_SECTION() * PAGE_SIZE;
}

export function pfn_to_section_nr(pfn: number): number {
  return Math.floor(pfn / PAGES_PER_SECTION());
}

export function section_nr_to_pfn(nr: number): number {
  return nr * PAGES_PER_SECTION();
}

/** SECTION_ALIGN_UP(pfn). */
export function SECTION_ALIGN_UP(pfn: number): number {
  return Math.ceil(pfn / PAGES_PER_SECTION()) * PAGES_PER_SECTION();
}

/** __pfn_to_section(pfn): the section object (a footprint for pfn_valid() readers). */
export function __pfn_to_section(pfn: number): mem_section {
  const mm = memmap();
  const nr = pfn_to_section_nr(pfn);
  let s = mm.sections.get(nr);
  if (!s) {
    s = new mem_section(nr);
    mm.sections.set(nr, s);
  }
  return s;
}

/** The zone object of `name` on node `nid` (NODE_DATA(nid)->node_zones[name]). */
export function zone_of(name: zone_type, nid = 0): zone {
  const mm = memmap();
  const key = `${nid}:${name}`;
  let z = mm.zones.get(key);
  if (!z) {
    z = new zone(name, nid);
    mm.zones.set(key, z);
  }
  return z;
}

function page_name(pfn: number): string {
  return `struct page (pfn 0x${pfn.toString(16)})`;
}

/**
 * The struct page at vmemmap + pfn, created (unmapped) the first time the address is
 * computed: it exists as an address before and after its memmap does.
 */
function struct_page_at(pfn: number): page {
  const mm = memmap();
  let p = mm.pages.get(pfn);
  if (p) return p;
  const what = page_name(pfn);
  const rc = track(new atomic_t(PAGE_POISON_PATTERN), `${what}._refcount`, 'sparse_add_section', false);
  const mc = track(new atomic_t(PAGE_POISON_PATTERN), `${what}._mapcount`, 'sparse_add_section', false);
  p = track(new page(rc, mc), what, 'sparse_add_section', false);
  register_struct_page(p, pfn, rc, mc);
  poison(p, 'unmapped');
  poison(rc, 'unmapped');
  poison(mc, 'unmapped');
  mm.pages.set(pfn, p);
  return p;
}

/** The objects a step that creates or destroys the memmap of `pfn` writes. */
function page_objects(pfn: number): object[] {
  const p = struct_page_at(pfn);
  return [p, refcount_obj(p), mapcount_obj(p)];
}

/** pfn_to_page(pfn) (vmemmap): pointer arithmetic; touching the page is what may fault. */
export function pfn_to_page(pfn: number): page {
  return struct_page_at(pfn);
}

/** page_to_pfn(page) (vmemmap): pointer arithmetic. */
export function page_to_pfn(p: page): number {
  return pfn_of_struct_page(p);
}

/**
 * pfn_valid(pfn): the pfn's section has a memmap. Reads the section: a caller's step must list
 * read(__pfn_to_section(pfn)).
 */
export function pfn_valid(pfn: number): boolean {
  const p = memmap().pages.get(pfn);
  return p !== undefined && !isPoisoned(p);
}

/** Whether the memmap of `pfn` is present: for tests and end-of-scenario checks only. */
export function memmap_present(pfn: number): boolean {
  return pfn_valid(pfn);
}

function populate(pfn: number): void {
  // The tracking records are the model's own: clearing them reads no page memory.
  for (const o of page_objects(pfn)) {
    const t = tracked(o);
    if (t) t.poison = undefined;
  }
  const p = struct_page_at(pfn);
  // page_init_poison(): CONFIG_DEBUG_VM fills a new memmap with 0xff.
  fill_poison(p);
}

function fill_poison(p: page): void {
  p.flags = PAGE_POISON_PATTERN;
  p._refcount.counter = PAGE_POISON_PATTERN;
  p._mapcount.counter = PAGE_POISON_PATTERN;
  p.mapping = null;
  p.index = PAGE_POISON_PATTERN;
  p.pgmap = null;
  p.hmm_data = PAGE_POISON_PATTERN;
  p.zone_device_data = null;
  p.share = PAGE_POISON_PATTERN;
}

function depopulate(pfn: number, at: Site): void {
  const p = struct_page_at(pfn);
  if (isPoisoned(p)) return;
  for (const o of page_objects(pfn)) poison(o, 'unmapped', at);
}

// ---- mm/memory_hotplug.c: the hotplug lock ----

/** mem_hotplug_begin(): cpus_read_lock(); percpu_down_write(&mem_hotplug_lock). */
export const mem_hotplug_begin = frame('mem_hotplug_begin', function* (): Gen<void> {
  const lock = memmap().mem_hotplug_lock;
  yield* might_sleep('mm/memory_hotplug.c');
  yield* block('percpu_down_write(&mem_hotplug_lock)', 'mem_hotplug_lock', () => !lock.held, write(lock));
  lock.held = true;
});

/** mem_hotplug_done(): percpu_up_write(&mem_hotplug_lock); cpus_read_unlock(). */
export const mem_hotplug_done = frame('mem_hotplug_done', function* (): Gen<void> {
  const lock = memmap().mem_hotplug_lock;
  yield* step('percpu_up_write(&mem_hotplug_lock)', write(lock));
  lock.held = false;
});

// ---- mm/sparse.c ----

/**
 * sparse_add_section(nid, start_pfn, nr_pages, altmap, pgmap) (v5.3+; v5.1/v5.2:
 * __add_section() → sparse_add_one_section(), which always covers a whole section): allocates
 * and populates the memmap of the pages (populate_section_memmap(), a fault point: -ENOMEM),
 * poisons it (page_init_poison) and marks the section present. A range already present is
 * -EEXIST.
 */
export const sparse_add_section = frame('sparse_add_section', function* (nid: number, start_pfn: number, nr_pages: number): Gen<number> {
  const sec = __pfn_to_section(start_pfn);
  const what = patched('memremap-pgmap-owned-ref') ? 'populate_section_memmap' : 'kmalloc_section_memmap';
  if (yield* fault(`sparse_add_section(nid ${nid}, pfn 0x${start_pfn.toString(16)}): ${what}`)) return -ENOMEM;
  const pfns = range(start_pfn, nr_pages);
  yield* step(
    `sparse_add_section(pfn 0x${start_pfn.toString(16)}, ${nr_pages}): section_activate, section_mark_present`,
    write(sec),
    ...pfns.flatMap((pfn) => page_objects(pfn).map((o) => write(o))),
  );
  if (pfns.some((pfn) => pfn_valid(pfn))) return -EEXIST;
  for (const pfn of pfns) populate(pfn);
  sec.present = true;
  return 0;
});

/**
 * sparse_remove_section(pfn, nr_pages, altmap) (v5.3+; v5.1/v5.2 __remove_section() →
 * sparse_remove_one_section()): frees the memmap of the pages; every struct page in it is gone.
 * Removing a range that is not present: v5.x __remove_section() returns -EINVAL
 * (!valid_section); v5.3+ section_deactivate() warns "section already deactivated".
 */
export const sparse_remove_section = frame('sparse_remove_section', function* (pfn: number, nr_pages: number): Gen<number> {
  const sec = __pfn_to_section(pfn);
  const pfns = range(pfn, nr_pages);
  yield* step(
    `sparse_remove_section(pfn 0x${pfn.toString(16)}, ${nr_pages}): section_deactivate, depopulate_section_memmap`,
    write(sec),
    ...pfns.flatMap((x) => page_objects(x).map((o) => write(o))),
  );
  if (!pfns.every((x) => pfn_valid(x))) {
    if (!patched('memremap-pgmap-owned-ref')) return -EINVAL;
    yield* WARN(true, 'mm/sparse.c section_deactivate', `section already deactivated (0x${pfn.toString(16)} + ${nr_pages})`);
    return 0;
  }
  const at = yield* where();
  for (const x of pfns) depopulate(x, at);
  const base = section_nr_to_pfn(sec.nr);
  sec.present = range(base, PAGES_PER_SECTION()).some((x) => pfn_valid(x));
  return 0;
});

function range(start: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

// ---- mm/memory_hotplug.c ----

/** struct mhp_params (v5.3+: mhp_restrictions, then mhp_params): altmap, pgprot, pgmap. */
export interface mhp_params {
  readonly altmap: vmem_altmap | null;
  readonly pgprot: string;
  readonly pgmap?: dev_pagemap | null;
}

/**
 * __add_pages(nid, pfn, nr_pages, params): sparse_add_section() for each section the range
 * touches. v5.1/v5.2 walk whole sections and carry on past -EEXIST; v5.3+ walk the exact range
 * (section by section) and stop at the first error. Sections already added are not removed
 * when a later one fails (as in the kernel).
 */
export const __add_pages = frame('__add_pages', function* (nid: number, pfn: number, nr_pages: number, _params: mhp_params): Gen<number> {
  const end_pfn = pfn + nr_pages;
  let err = 0;
  if (!patched('memremap-pgmap-owned-ref')) {
    const start_sec = pfn_to_section_nr(pfn);
    const end_sec = pfn_to_section_nr(end_pfn - 1);
    for (let i = start_sec; i <= end_sec; i++) {
      err = yield* sparse_add_section(nid, section_nr_to_pfn(i), PAGES_PER_SECTION());
      if (err && err !== -EEXIST) break;
      err = 0;
    }
    return err;
  }
  for (let cur = pfn; cur < end_pfn; ) {
    const cur_nr_pages = Math.min(end_pfn - cur, SECTION_ALIGN_UP(cur + 1) - cur);
    err = yield* sparse_add_section(nid, cur, cur_nr_pages);
    if (err) break;
    cur += cur_nr_pages;
  }
  return err;
});

/**
 * add_pages(nid, start_pfn, nr_pages, params) (arch/x86/mm/init_64.c): __add_pages();
 * WARN_ON_ONCE(ret); update_end_of_memory_vars().
 */
export const add_pages = frame('add_pages', function* (nid: number, start_pfn: number, nr_pages: number, params: mhp_params): Gen<number> {
  const ret = yield* __add_pages(nid, start_pfn, nr_pages, params);
  yield* WARN_ON_ONCE(ret !== 0, 'arch/x86/mm/init_64.c add_pages', 'WARN_ON_ONCE(ret)');
  const mm = memmap();
  yield* step('update_end_of_memory_vars()', write(mm.max_pfn));
  if (start_pfn + nr_pages > mm.max_pfn.pfn) mm.max_pfn.pfn = start_pfn + nr_pages;
  return ret;
});

/**
 * arch_add_memory(nid, start, size, params) (arch/x86/mm/init_64.c): init_memory_mapping()
 * (the linear map: not modelled), then add_pages(). Fails (-ENOMEM) when a memmap allocation
 * fails.
 */
export const arch_add_memory = frame('arch_add_memory', function* (nid: number, start: number, size: number, params: mhp_params): Gen<number> {
  return yield* add_pages(nid, PHYS_PFN(start), PHYS_PFN(size), params);
});

/**
 * __remove_pages(pfn, nr_pages, altmap) (mm/memory_hotplug.c): sparse_remove_section() for
 * each section of the range. v5.1/v5.2 (__remove_pages(zone, ...)) walk whole sections and
 * stop at an error; v5.3+ walk the exact range.
 */
export const __remove_pages = frame('__remove_pages', function* (pfn: number, nr_pages: number, _altmap: vmem_altmap | null): Gen<number> {
  const end_pfn = pfn + nr_pages;
  if (!patched('memremap-pgmap-owned-ref')) {
    const sections_to_remove = Math.ceil(nr_pages / PAGES_PER_SECTION());
    for (let i = 0; i < sections_to_remove; i++) {
      const ret = yield* sparse_remove_section(pfn + i * PAGES_PER_SECTION(), PAGES_PER_SECTION());
      if (ret) return ret;
    }
    return 0;
  }
  for (let cur = pfn; cur < end_pfn; ) {
    const cur_nr_pages = Math.min(end_pfn - cur, SECTION_ALIGN_UP(cur + 1) - cur);
    yield* sparse_remove_section(cur, cur_nr_pages);
    cur += cur_nr_pages;
  }
  return 0;
});

/**
 * arch_remove_memory(start, size, altmap) (arch/x86/mm/init_64.c). v5.1/v5.2: looks up the
 * zone through the first page (page_zone(pfn_to_page(start_pfn))), __remove_pages(), and
 * WARN_ON_ONCE(ret); v5.3+: __remove_pages() (which cannot fail) and
 * kernel_physical_mapping_remove(). The newest tree passes the pgmap too (ignored).
 */
export const arch_remove_memory = frame('arch_remove_memory', function* (start: number, size: number, altmap: vmem_altmap | null, _pgmap?: dev_pagemap | null): Gen<void> {
  const start_pfn = PHYS_PFN(start);
  const nr_pages = PHYS_PFN(size);
  if (!patched('memremap-pgmap-owned-ref')) {
    const first = pfn_to_page(start_pfn);
    yield* step('zone = page_zone(page)', read(first));
    void page_zonenum(first);
    const ret = yield* __remove_pages(start_pfn, nr_pages, altmap);
    yield* WARN_ON_ONCE(ret !== 0, 'arch/x86/mm/init_64.c arch_remove_memory', 'WARN_ON_ONCE(ret)');
    return;
  }
  yield* __remove_pages(start_pfn, nr_pages, altmap);
});

/**
 * move_pfn_range_to_zone(zone, start_pfn, nr_pages, altmap[, migratetype[, isolate]])
 * (mm/memory_hotplug.c): grows the zone's span and runs memmap_init_zone() /
 * memmap_init_range() in MEMMAP_HOTPLUG context, which for ZONE_DEVICE only raises
 * highest_memmap_pfn (and initialises the altmap reserve, not modelled); the ZONE_DEVICE pages
 * are initialised later by memmap_init_zone_device().
 */
export const move_pfn_range_to_zone = frame('move_pfn_range_to_zone', function* (z: zone, start_pfn: number, nr_pages: number): Gen<void> {
  const mm = memmap();
  yield* step('resize_zone_range(); memmap_init_zone(MEMMAP_HOTPLUG)', write(z), write(mm.highest_memmap_pfn));
  const end_pfn = start_pfn + nr_pages;
  if (mm.highest_memmap_pfn.pfn < end_pfn - 1) mm.highest_memmap_pfn.pfn = end_pfn - 1;
});

/**
 * remove_pfn_range_from_zone(zone, start_pfn, nr_pages) (mm/memory_hotplug.c, v5.7+): poisons
 * the struct pages again (page_init_poison under CONFIG_DEBUG_VM), section by section; zone
 * shrinking is skipped for ZONE_DEVICE.
 */
export const remove_pfn_range_from_zone = frame('remove_pfn_range_from_zone', function* (z: zone, start_pfn: number, nr_pages: number): Gen<void> {
  const end_pfn = start_pfn + nr_pages;
  for (let pfn = start_pfn; pfn < end_pfn; ) {
    const cur_nr_pages = Math.min(end_pfn - pfn, SECTION_ALIGN_UP(pfn + 1) - pfn);
    const pfns = range(pfn, cur_nr_pages);
    const pages = pfns.map((x) => pfn_to_page(x));
    yield* step('page_init_poison(pfn_to_page(pfn), sizeof(struct page) * cur_nr_pages)', ...pfns.flatMap((x) => page_objects(x).map((o) => write(o))));
    for (const p of pages) fill_poison(p);
    pfn += cur_nr_pages;
  }
  yield* step('if (zone_is_zone_device(zone)) return', read(z));
});

/** The page's zone object (page_zone(page)): reads page->flags. */
export function page_zone(p: page): zone {
  return zone_of(page_zonenum(p), page_to_nid(p));
}
