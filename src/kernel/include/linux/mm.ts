// include/linux/mm.h: the page reference inlines (get_page, put_page, folio_get, folio_put,
// put_page_testzero, put_devmap_managed_page / put_devmap_managed_folio_refs), the ZONE_DEVICE
// predicates (is_zone_device_page, folio_is_zone_device, is_device_private_page,
// is_pci_p2pdma_page, page_pgmap), page_mapcount, the address helpers (__va, __pa,
// virt_to_page, page_to_virt, page_address), and — kept here because they are the other half
// of put_page() — mm/swap.c's __put_page(), __folio_put() and release_pages(), and
// include/linux/pagemap.h's lock_page()/unlock_page().
//
// The put_page() path per tree:
// - v5.1/v5.2 (and the v5.3.. points before patched('zone-device-no-extra-refcount'), 27674ef6c73f):
//   put_page() = compound_head; put_devmap_managed_page() (only while the devmap_managed_key
//   static key is on, only for PRIVATE/PUBLIC/FS_DAX: __put_devmap_managed_page(), which calls
//   ->page_free() when the count drops to 1); else put_page_testzero() and, at 0,
//   __put_page() → put_dev_pagemap(page->pgmap) for a ZONE_DEVICE page.
// - v5.18 on, v6.14/v6.15 (patched('zone-device-no-extra-refcount'), folio names with
//   patched('zone-device-folio')): put_page() = put_devmap_managed_folio_refs() (FS_DAX only,
//   while the key is on: 1-based, never freed) else folio_put() → folio_put_testzero() →
//   __folio_put() → free_zone_device_folio() (mm/memremap.ts) at 0.
// - newest (patched('mm-zone-device-folio-free-op')): no devmap_managed_key; put_page() =
//   folio_put().
//
// Only ZONE_DEVICE pages exist in the model; freeing any other page is a model error.

import { static_inline } from './compiler.js';
import { frame, type Gen, read, report, step, write } from '../../../engine/ops.js';
import { block } from '../../../engine/ops.js';
import { patched } from '../../machine.js';
import { isPoisoned } from '../../mm/kasan.js';
import { might_sleep } from '../../kernel/rcu/tree.js';
import { PHYS_PFN, PFN_PHYS, pfn_to_page, page_to_pfn, PAGE_SIZE } from '../../mm/memory_hotplug.js';
import {
  __put_devmap_managed_folio_refs,
  __put_devmap_managed_page,
  devmap_managed_key,
  free_zone_device_folio,
} from '../../mm/memremap.js';
import { dev_pagemap, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_PCI_P2PDMA, MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_PUBLIC, put_dev_pagemap } from './memremap.js';
import { anon_vma, compound_head, page_zonenum, type folio, mapcount_obj, type page, page_folio, PG_locked, PG_reserved, refcount_obj } from './mm_types.js';
import { VM_BUG_ON_FOLIO, VM_BUG_ON_PAGE, dump_page } from './mmdebug.js';
import { folio_ref_count, folio_ref_dec_and_test, folio_ref_inc, folio_ref_sub_and_test, page_ref_count, page_ref_dec_and_test, page_ref_inc } from './page_ref.js';

export { PAGE_SHIFT, PAGE_SIZE, PHYS_PFN, PFN_PHYS, pfn_to_page, page_to_pfn } from '../../mm/memory_hotplug.js';

// ---- addresses (arch/x86/include/asm/page.h) ----

/**
 * PAGE_OFFSET: the direct map's base. The model's kernel virtual addresses are JS numbers, so
 * the base is 2^51 rather than x86's 0xffff888000000000 (which a double cannot hold exactly).
 */
export const PAGE_OFFSET = 2 ** 51;

/** __va(phys): the direct-map address of a physical address. */
export function __va(phys: number): number {
  return phys + PAGE_OFFSET;
}

/** __pa(vaddr). */
export function __pa(vaddr: number): number {
  return vaddr - PAGE_OFFSET;
}

/** virt_to_page(kaddr): pfn_to_page(__pa(kaddr) >> PAGE_SHIFT). Pointer arithmetic. */
export function virt_to_page(kaddr: number): page {
  return pfn_to_page(PHYS_PFN(__pa(kaddr)));
}

/** page_to_virt(page) / page_address(page) (direct map; no highmem on x86-64). */
export function page_to_virt(p: page): number {
  return __va(PFN_PHYS(page_to_pfn(p)));
}
export const page_address = page_to_virt;

/** offset_in_page(addr). */
export function offset_in_page(addr: number): number {
  return addr % PAGE_SIZE;
}

// ---- predicates (read the page: call them inside a step that lists read(page)) ----

/** is_zone_device_page(page): page_zonenum(page) == ZONE_DEVICE (reads page->flags). */
export function is_zone_device_page(p: page): boolean {
  return page_zonenum(p) === 'ZONE_DEVICE';
}

/** folio_is_zone_device(folio) (v5.16+). */
export const folio_is_zone_device = is_zone_device_page;

/** page_pgmap(page) (v6.15+; page->pgmap before): reads the page. */
export function page_pgmap(p: page): dev_pagemap | null {
  return p.pgmap;
}

/** PageAnon(page) / folio_test_anon(folio): PAGE_MAPPING_ANON set in ->mapping. */
export function PageAnon(p: page): boolean {
  return p.mapping instanceof anon_vma;
}

/** PageReserved(page). */
export function PageReserved(p: page): boolean {
  return (p.flags & PG_reserved) !== 0;
}

/**
 * is_device_private_page(page): is_zone_device_page(page) &&
 * page->pgmap->type == MEMORY_DEVICE_PRIVATE. A step: reads the page, then its pgmap.
 */
export const is_device_private_page = static_inline('is_device_private_page', function* (p: page): Gen<boolean> {
  return (yield* zone_device_type(p)) === MEMORY_DEVICE_PRIVATE;
});

/** is_pci_p2pdma_page(page): is_zone_device_page(page) && type == MEMORY_DEVICE_PCI_P2PDMA. */
export const is_pci_p2pdma_page = static_inline('is_pci_p2pdma_page', function* (p: page): Gen<boolean> {
  return (yield* zone_device_type(p)) === MEMORY_DEVICE_PCI_P2PDMA;
});

/** Reads page->flags and page->pgmap, then pgmap->type: the type of a ZONE_DEVICE page, else null. */
function* zone_device_type(p: page): Gen<dev_pagemap['type'] | null> {
  yield* step('is_zone_device_page(page); page->pgmap', read(p));
  if (!is_zone_device_page(p)) return null;
  const pgmap = p.pgmap;
  if (!pgmap) return null;
  yield* step('page->pgmap->type', read(pgmap));
  return pgmap.type;
}

/** page_mapcount(page) (order-0): atomic_read(&page->_mapcount) + 1. */
export const page_mapcount = static_inline('page_mapcount', function* (p: page): Gen<number> {
  yield* step('atomic_read(&page->_mapcount) + 1', read(mapcount_obj(p)));
  return p._mapcount.counter + 1;
});

// ---- get ----

/** page_ref_zero_or_close_to_overflow(): (unsigned)count + 127 <= 127, i.e. count in [-127, 0]. */
function zero_or_close_to_overflow(count: number): boolean {
  return count <= 0 && count >= -127;
}

/**
 * get_page(page). v5.1/v5.2: compound_head; VM_BUG_ON_PAGE(page_ref_zero_or_close_to_overflow
 * (page), page); page_ref_inc(page). v5.16+: folio_get(page_folio(page)).
 */
export const get_page = static_inline('get_page', function* (p: page): Gen<void> {
  if (patched('zone-device-folio')) {
    yield* folio_get(page_folio(p));
    return;
  }
  p = compound_head(p);
  const count = yield* page_ref_count(p);
  yield* VM_BUG_ON_PAGE(zero_or_close_to_overflow(count), p, 'include/linux/mm.h get_page', 'page_ref_zero_or_close_to_overflow(page)');
  yield* page_ref_inc(p);
});

/** folio_get(folio): VM_BUG_ON_FOLIO(folio_ref_zero_or_close_to_overflow(folio)); folio_ref_inc. */
export const folio_get = static_inline('folio_get', function* (f: folio): Gen<void> {
  const count = yield* folio_ref_count(f);
  yield* VM_BUG_ON_FOLIO(zero_or_close_to_overflow(count), f, 'include/linux/mm.h folio_get', 'folio_ref_zero_or_close_to_overflow(folio)');
  yield* folio_ref_inc(f);
});

// ---- put ----

/** put_page_testzero(page): VM_BUG_ON_PAGE(page_ref_count(page) == 0, page); page_ref_dec_and_test. */
export const put_page_testzero = static_inline('put_page_testzero', function* (p: page): Gen<boolean> {
  const count = yield* page_ref_count(p);
  yield* VM_BUG_ON_PAGE(count === 0, p, 'include/linux/mm.h put_page_testzero', 'page_ref_count(page) == 0');
  return yield* page_ref_dec_and_test(p);
});

/** folio_put_testzero(folio): VM_BUG_ON_FOLIO(folio_ref_count(folio) == 0, folio); folio_ref_dec_and_test. */
export const folio_put_testzero = static_inline('folio_put_testzero', function* (f: folio): Gen<boolean> {
  const count = yield* folio_ref_count(f);
  yield* VM_BUG_ON_FOLIO(count === 0, f, 'include/linux/mm.h folio_put_testzero', 'folio_ref_count(folio) == 0');
  return yield* folio_ref_dec_and_test(f);
});

/**
 * put_devmap_managed_page(page) (v5.1..v6.0 inline, CONFIG_DEV_PAGEMAP_OPS): false unless the
 * devmap_managed_key static key is on and the page is ZONE_DEVICE of a devmap-managed type
 * (v5.1/v5.2: PRIVATE, PUBLIC, FS_DAX; v5.3+: PRIVATE, FS_DAX); then
 * __put_devmap_managed_page(page) and true.
 */
export const put_devmap_managed_page = static_inline('put_devmap_managed_page', function* (p: page): Gen<boolean> {
  const key = devmap_managed_key();
  yield* step('static_branch_unlikely(&devmap_managed_key)', read(key));
  if (key.enabled === 0) return false;
  const type = yield* zone_device_type(p);
  switch (type) {
    case MEMORY_DEVICE_PRIVATE:
    case MEMORY_DEVICE_PUBLIC:
    case MEMORY_DEVICE_FS_DAX:
      yield* __put_devmap_managed_page(p);
      return true;
    default:
      return false;
  }
});

/**
 * put_devmap_managed_folio_refs(folio, refs) (v6.x inline until the fs-dax rework; the
 * patched('zone-device-no-extra-refcount') era before folios spells it
 * put_devmap_managed_page()): false unless the static key is on and the folio is ZONE_DEVICE;
 * then __put_devmap_managed_folio_refs() (FS_DAX only).
 */
export const put_devmap_managed_folio_refs = static_inline('put_devmap_managed_folio_refs', function* (f: folio, refs: number): Gen<boolean> {
  const key = devmap_managed_key();
  yield* step('static_branch_unlikely(&devmap_managed_key)', read(key));
  if (key.enabled === 0) return false;
  yield* step('folio_is_zone_device(folio)', read(f));
  if (!folio_is_zone_device(f)) return false;
  return yield* __put_devmap_managed_folio_refs(f, refs);
});

/**
 * put_page(page) (include/linux/mm.h), per tree: see the file comment.
 */
export const put_page = static_inline('put_page', function* (p: page): Gen<void> {
  if (!patched('zone-device-no-extra-refcount')) {
    p = compound_head(p);
    if (yield* put_devmap_managed_page(p)) return;
    if (yield* put_page_testzero(p)) yield* __put_page(p);
    return;
  }
  const f = page_folio(p);
  if (!patched('mm-zone-device-folio-free-op') && (yield* put_devmap_managed_folio_refs(f, 1))) return;
  yield* folio_put(f);
});

/** folio_put(folio): if (folio_put_testzero(folio)) __folio_put(folio). */
export const folio_put = static_inline('folio_put', function* (f: folio): Gen<void> {
  if (yield* folio_put_testzero(f)) yield* __folio_put(f);
});

/** folio_put_refs(folio, refs): if (folio_ref_sub_and_test(folio, refs)) __folio_put(folio). */
export const folio_put_refs = static_inline('folio_put_refs', function* (f: folio, refs: number): Gen<void> {
  if (yield* folio_ref_sub_and_test(f, refs)) yield* __folio_put(f);
});

// ---- mm/swap.c ----

/**
 * __put_page(page) (mm/swap.c, v5.x): a ZONE_DEVICE page whose count reached 0 "belongs to the
 * device that created pgmap": put_dev_pagemap(page->pgmap) and return, never to the page
 * allocator.
 */
export const __put_page = frame('__put_page', function* (p: page): Gen<void> {
  yield* step('is_zone_device_page(page); page->pgmap', read(p));
  if (!is_zone_device_page(p)) throw new Error('__put_page: freeing a page that is not ZONE_DEVICE is not modelled');
  yield* put_dev_pagemap(p.pgmap);
});

/**
 * __folio_put(folio) (mm/swap.c, v6.x): a ZONE_DEVICE folio goes to free_zone_device_folio()
 * (free_zone_device_page() before folios).
 */
export const __folio_put = frame('__folio_put', function* (f: folio): Gen<void> {
  yield* step('folio_is_zone_device(folio)', read(f));
  if (!folio_is_zone_device(f)) throw new Error('__folio_put: freeing a folio that is not ZONE_DEVICE is not modelled');
  yield* free_zone_device_folio(f);
});

/**
 * release_pages(pages, nr) (mm/swap.c; folios_put_refs() in v6.9+), for the pages an
 * mmu_gather collected, as each tree treats ZONE_DEVICE pages:
 * - v5.x: put_devmap_managed_page() first; else put_page_testzero() and, at 0, the page goes
 *   down the ordinary free path (free_unref_page_list): free_pages_check() finds PG_reserved
 *   (set on every ZONE_DEVICE page) and reports "BUG: Bad page state" (bad_page(): printed,
 *   tainted, the page is leaked, the kernel carries on).
 * - v6.x: put_devmap_managed_folio_refs() (not newest); else folio_ref_sub_and_test() and, at 0,
 *   free_zone_device_folio().
 */
export const release_pages = frame('release_pages', function* (pages: readonly page[], comm: string): Gen<void> {
  for (const p of pages) {
    if (!patched('zone-device-no-extra-refcount')) {
      yield* step('is_zone_device_page(page)', read(p));
      if (is_zone_device_page(p) && (yield* put_devmap_managed_page(p))) continue;
      if (!(yield* put_page_testzero(p))) continue;
      yield* step('free_pages_check(page)', read(p));
      if (PageReserved(p)) {
        yield* dump_page(p, 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set');
        yield* report('bug', `BUG: Bad page state in process ${comm}  pfn:${page_to_pfn(p).toString(16).padStart(5, '0')}`);
      }
      continue;
    }
    const f = page_folio(p);
    yield* step('folio_is_zone_device(folio)', read(f));
    if (!folio_is_zone_device(f)) throw new Error('release_pages: pages that are not ZONE_DEVICE are not modelled');
    if (!patched('mm-zone-device-folio-free-op') && (yield* put_devmap_managed_folio_refs(f, 1))) continue;
    if (yield* folio_ref_sub_and_test(f, 1)) yield* free_zone_device_folio(f);
  }
});

// ---- include/linux/pagemap.h ----

/** lock_page(page): might_sleep(); sleeps until PG_locked is clear, then sets it. */
export const lock_page = static_inline('lock_page', function* (p: page): Gen<void> {
  yield* might_sleep('include/linux/pagemap.h');
  yield* block('lock_page(page)', `PG_locked of page 0x${page_to_pfn(p).toString(16)}`, () => isPoisoned(p) || (p.flags & PG_locked) === 0, write(p));
  p.flags |= PG_locked;
});

/** trylock_page(page). */
export const trylock_page = static_inline('trylock_page', function* (p: page): Gen<boolean> {
  yield* step('test_and_set_bit_lock(PG_locked, &page->flags)', write(p));
  if (p.flags & PG_locked) return false;
  p.flags |= PG_locked;
  return true;
});

/** unlock_page(page). */
export const unlock_page = frame('unlock_page', function* (p: page): Gen<void> {
  yield* step('clear_bit_unlock(PG_locked, &page->flags); wake_up_page(page)', write(p));
  p.flags &= ~PG_locked;
});

/** The objects of a page a step touching its count and flags lists. */
export function page_footprint(p: page): object[] {
  return [p, refcount_obj(p)];
}
