// memmap_init_zone_device() and __init_zone_device_page(): the initialisation of the struct
// pages of a ZONE_DEVICE range, after memremap has added its memmap.
//
// File: the function lived in mm/page_alloc.c up to v6.3 (v5.1, v5.2, v6.0) and moved to
// mm/mm_init.c in v6.4 (v6.14, v6.15, newest); the model keeps one TS file, at the newer path.
// v5.1/v5.2 (read: the 4.20 patch body, unchanged through v5.2) initialise each page inline in
// memmap_init_zone_device(); v5.3+ factor it into __init_zone_device_page() (v5.12), which the
// model uses for every tree with patched('memremap-pgmap-owned-ref').
//
// Refcount of a ZONE_DEVICE page after initialisation, per tree (seed 000):
//   type            v5.1/v5.2  v6.14  v6.15  newest
//   PRIVATE             1        0      0      0     (patched('zone-device-refcount-0-private'))
//   PUBLIC              1        -      -      -
//   COHERENT            -        0      0      0
//   FS_DAX              1        1      1      0     (patched('mm-zone-device-folio-free-op'), see below)
//   GENERIC (DEVDAX)    -        1      1      1
//   PCI_P2PDMA          1        1      0      0     (patched('p2pdma-refcount-init-to-p2pdma'))
// FS_DAX: the modelled v6.15 is v6.14 + seed 000 (the state right after commit b7e28237), where
// FS_DAX is still 1-based; the real v6.15 release already has FS_DAX at 0 from the rest of the
// fs-dax series, for which no patch id exists. The model makes FS_DAX 0-based with the
// consolidated newest-core patch.
//
// Not modelled: the altmap reserve (altmap_valid / PGMAP_ALTMAP_VALID), compound pages
// (vmemmap_shift != 0 is a model error), pageblock migratetypes, cond_resched().

import { frame, type Gen, step, write } from '../../engine/ops.js';
import { WARN_ON_ONCE } from '../include/asm-generic/bug.js';
import {
  dev_pagemap,
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
} from '../include/linux/memremap.js';
import { mapcount_obj, type page, PG_reserved, refcount_obj, set_page_links } from '../include/linux/mm_types.js';
import { set_page_count } from '../include/linux/page_ref.js';
import { dev_name } from '../../kernel/drivers/base/core.js';
import { pr_info } from '../kernel/printk.js';
import { patched } from '../machine.js';
import { pfn_to_page, type zone } from './memory_hotplug.js';

/**
 * __init_single_page(page, pfn, zone, nid) (mm/page_alloc.c, mm/mm_init.c): zero the struct
 * page, set its zone and node links, init_page_count() (refcount 1), reset the mapcount (-1).
 * Called inside the caller's step.
 */
function __init_single_page_in_step(p: page, z: zone): void {
  p.flags = 0;
  set_page_links(p, z.name, z.nid);
  p.mapping = null;
  p.index = 0;
  p._refcount.counter = 1;
  p._mapcount.counter = -1;
}

/** The per-type refcount rule at the end of __init_zone_device_page(), per tree. */
function starts_at_zero(type: dev_pagemap['type']): boolean {
  switch (type) {
    case MEMORY_DEVICE_PRIVATE:
    case MEMORY_DEVICE_COHERENT:
      return patched('zone-device-refcount-0-private');
    case MEMORY_DEVICE_PCI_P2PDMA:
      return patched('p2pdma-refcount-init-to-p2pdma');
    case MEMORY_DEVICE_FS_DAX:
      return patched('mm-zone-device-folio-free-op');
    default:
      return false;
  }
}

/**
 * __init_zone_device_page(page, pfn, zone_idx, nid, pgmap) (mm/mm_init.c; v5.3+ trees):
 * __init_single_page(); __SetPageReserved(); page->pgmap = pgmap (page_folio(page)->pgmap in
 * v6.15+); page->zone_device_data = NULL; then the per-type refcount rule: v6.14
 * `if (PRIVATE || COHERENT) set_page_count(page, 0)`; v6.15 adds PCI_P2PDMA (seed 000); the
 * newest tree FS_DAX too.
 */
export const __init_zone_device_page = frame('__init_zone_device_page', function* (p: page, pfn: number, z: zone, pgmap: dev_pagemap): Gen<void> {
  yield* step(
    `__init_single_page(page, 0x${pfn.toString(16)}); __SetPageReserved(page); page->pgmap = pgmap; page->zone_device_data = NULL`,
    write(p),
    write(refcount_obj(p)),
    write(mapcount_obj(p)),
  );
  __init_single_page_in_step(p, z);
  p.flags |= PG_reserved;
  p.pgmap = pgmap;
  p.zone_device_data = null;
  // The switch reads pgmap->type: the pgmap is the caller's, not shared yet.
  if (starts_at_zero(pgmap.type)) yield* set_page_count(p, 0);
});

/**
 * memmap_init_zone_device(zone, start_pfn, nr_pages, pgmap) (mm/page_alloc.c up to v6.2,
 * mm/mm_init.c after): WARN_ON_ONCE(!pgmap || !is_dev_zone(zone)); then initialise every page.
 * v5.1/v5.2 do it inline (refcount 1 for every type, page->hmm_data = 0) and pr_info()
 * "<dev> initialised, <n> pages in <ms>ms" (the time is printed as 0ms: the model has no
 * clock); v5.3+ call __init_zone_device_page() and pr_info() "memmap_init_zone_device
 * initialised <n> pages in <ms>ms", a pr_debug() since patched('mm-less-noisy-hotplug') (v6.4).
 */
export const memmap_init_zone_device = frame('memmap_init_zone_device', function* (z: zone, start_pfn: number, nr_pages: number, pgmap: dev_pagemap | null): Gen<void> {
  if (yield* WARN_ON_ONCE(!pgmap || z.name !== 'ZONE_DEVICE', 'mm/page_alloc.c memmap_init_zone_device', 'WARN_ON_ONCE(!pgmap || !is_dev_zone(zone))')) return;
  if (!pgmap) return;
  if (pgmap.vmemmap_shift !== 0) throw new Error('memmap_init_zone_device: compound ZONE_DEVICE pages (vmemmap_shift) are not modelled');
  const end_pfn = start_pfn + nr_pages;
  if (!patched('memremap-pgmap-owned-ref')) {
    for (let pfn = start_pfn; pfn < end_pfn; pfn++) {
      const p = pfn_to_page(pfn);
      yield* step(
        `__init_single_page(page, 0x${pfn.toString(16)}); __SetPageReserved(page); page->pgmap = pgmap; page->hmm_data = 0`,
        write(p),
        write(refcount_obj(p)),
        write(mapcount_obj(p)),
      );
      __init_single_page_in_step(p, z);
      p.flags |= PG_reserved;
      p.pgmap = pgmap;
      p.hmm_data = 0;
    }
    yield* pr_info(`${pgmap.dev ? dev_name(pgmap.dev) : '(null)'} initialised, ${nr_pages} pages in 0ms`);
    return;
  }
  for (let pfn = start_pfn; pfn < end_pfn; pfn++) yield* __init_zone_device_page(pfn_to_page(pfn), pfn, z, pgmap);
  // pr_info("%s initialised %lu pages in %ums\n", __func__, ...) since "memremap: remove the
  // dev field in struct dev_pagemap" (v5.3), pr_debug() since patched('mm-less-noisy-hotplug').
  if (!patched('mm-less-noisy-hotplug')) yield* pr_info(`memmap_init_zone_device initialised ${nr_pages} pages in 0ms`);
});
