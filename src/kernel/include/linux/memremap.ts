// include/linux/memremap.h: enum memory_type, struct vmem_altmap, struct dev_pagemap and
// struct dev_pagemap_ops as each tree has them, and the header inlines put_dev_pagemap(),
// pgmap_altmap(), zone_device_folio_init() (newest). The functions of mm/memremap.c
// (kernel/memremap.c up to v5.2) are in src/kernel/mm/memremap.ts.
//
// Trees (read: torvalds/linux a95c90f1 for v5.1; the seed 001 patches for v5.2; mm/memremap.c
// of v6.15 and linux-mm 163177a5 for newest):
//
// - v5.1: enum memory_type { PRIVATE = 1, PUBLIC, FS_DAX, PCI_P2PDMA } (device-dax leaves the
//   type 0); struct dev_pagemap { page_fault, page_free(page, data), altmap, altmap_valid, res,
//   ref (a pointer to the CALLER's percpu_ref), kill(ref), dev, data, type,
//   pci_p2pdma_bus_offset }; no ops, no done.
// - v5.2 (seed 001, patched('memremap-fix-final-page-put-race')): adds cleanup(ref) after kill.
// - v5.3 .. v6.x (consolidated patched('memremap-pgmap-owned-ref')): the pgmap owns its
//   reference (`ref` embedded, initialised by memremap_pages()) and `done`; callbacks move to
//   `ops` (dev_pagemap_ops: page_free(page), migrate_to_ram, memory_failure); `res` becomes
//   ranges[] / nr_range; flags (PGMAP_ALTMAP_VALID), vmemmap_shift, owner. Enum:
//   PRIVATE = 1, FS_DAX, DEVDAX, PCI_P2PDMA (DEVDAX became GENERIC in v5.10; the model calls
//   it GENERIC).
// - v6.0+ (patched('zone-device-refcount-0-private') era): PRIVATE = 1, COHERENT, FS_DAX,
//   GENERIC, PCI_P2PDMA.
// - newest (patched('mm-zone-device-folio-free-op')): ops->folio_free(folio) replaces
//   page_free; folio_split; get_dev_pagemap(pfn) takes one argument;
//   zone_device_page_init(page, pgmap, order).
//
// The class carries the union of the fields; each tree's code uses its own. Callbacks are
// generator functions (frame() them to see them in traces).

import { static_inline } from './compiler.js';
import { frame, type Gen, read, step } from '../../../engine/ops.js';
import type { device } from '../../drivers/base/core.js';
import { completion } from '../../kernel/sched/completion.js';
import { patched } from '../../machine.js';
import type { folio, page, vm_fault, vm_fault_t } from './mm_types.js';
import { percpu_ref, percpu_ref_put } from './percpu-refcount.js';
import { zone_device_page_init } from '../../mm/memremap.js';

// ---- enum memory_type ----

export const MEMORY_DEVICE_PRIVATE = 'MEMORY_DEVICE_PRIVATE';
/** v5.1/v5.2 only (removed in v5.3). */
export const MEMORY_DEVICE_PUBLIC = 'MEMORY_DEVICE_PUBLIC';
/** v6.0+ (the patched('zone-device-refcount-0-private') era). */
export const MEMORY_DEVICE_COHERENT = 'MEMORY_DEVICE_COHERENT';
export const MEMORY_DEVICE_FS_DAX = 'MEMORY_DEVICE_FS_DAX';
/** v5.3+ (MEMORY_DEVICE_DEVDAX in v5.3..v5.9). */
export const MEMORY_DEVICE_GENERIC = 'MEMORY_DEVICE_GENERIC';
export const MEMORY_DEVICE_PCI_P2PDMA = 'MEMORY_DEVICE_PCI_P2PDMA';

export type memory_type =
  | typeof MEMORY_DEVICE_PRIVATE
  | typeof MEMORY_DEVICE_PUBLIC
  | typeof MEMORY_DEVICE_COHERENT
  | typeof MEMORY_DEVICE_FS_DAX
  | typeof MEMORY_DEVICE_GENERIC
  | typeof MEMORY_DEVICE_PCI_P2PDMA;

/** pgmap->type: an enum value, or 0 when the caller set none (v5.1/v5.2 device-dax). */
export type pgmap_type = memory_type | 0;

/** The enum memory_type of the running tree, in declaration order (value 1, 2, ...). */
export function memory_types(): readonly memory_type[] {
  if (!patched('memremap-pgmap-owned-ref')) return [MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_PUBLIC, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_PCI_P2PDMA];
  if (!patched('zone-device-refcount-0-private')) return [MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC, MEMORY_DEVICE_PCI_P2PDMA];
  return [MEMORY_DEVICE_PRIVATE, MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC, MEMORY_DEVICE_PCI_P2PDMA];
}

/**
 * Whether the running tree's enum has `t`: the same as memory_types().includes(t), asking only
 * about the patch that added or removed `t` (PRIVATE, FS_DAX and PCI_P2PDMA are in every tree).
 */
export function memory_type_exists(t: memory_type): boolean {
  switch (t) {
    case MEMORY_DEVICE_PUBLIC:
      return !patched('memremap-pgmap-owned-ref');
    case MEMORY_DEVICE_GENERIC:
      return patched('memremap-pgmap-owned-ref');
    case MEMORY_DEVICE_COHERENT:
      return patched('zone-device-refcount-0-private');
    default:
      return true;
  }
}

/** The numeric value of `t` in the running tree's enum (0 when unset or not in this tree's enum). */
export function memory_type_value(t: pgmap_type): number {
  if (t === 0) return 0;
  const i = memory_types().indexOf(t);
  return i < 0 ? 0 : i + 1;
}

// ---- struct vmem_altmap, ranges ----

/** struct vmem_altmap. The model never uses an altmap (altmap_valid false / no PGMAP_ALTMAP_VALID). */
export class vmem_altmap {
  base_pfn = 0;
  reserve = 0;
  free = 0;
  align = 0;
  alloc = 0;
}

/** struct resource (include/linux/ioport.h), the fields pgmap->res uses (v5.1/v5.2). */
export interface resource {
  start: number;
  end: number;
}

/** struct range (include/linux/range.h), pgmap->ranges[] (v5.10+; pgmap->res in v5.3..v5.9). */
export interface range {
  start: number;
  end: number;
}

/** resource_size(res) / range_len(range): end - start + 1. */
export function resource_size(r: resource | range): number {
  return r.end - r.start + 1;
}
export const range_len = resource_size;

/** PGMAP_ALTMAP_VALID (v5.3+ pgmap->flags). */
export const PGMAP_ALTMAP_VALID = 1 << 0;
/** PGMAP_VMEMMAP_OPTIMIZATION (newest). */
export const PGMAP_VMEMMAP_OPTIMIZATION = 1 << 1;

// ---- callbacks ----

/** v5.1/v5.2 dev_page_free_t: page_free(page, data), called when a devmap-managed page goes idle. */
export type dev_page_free_t = (p: page, data: unknown) => Gen<void>;

/** v5.1/v5.2 pgmap->kill / pgmap->cleanup: (ref) => void. */
export type dev_pagemap_ref_cb = (ref: percpu_ref) => Gen<void>;

/**
 * struct dev_pagemap_ops (v5.3+). page_free(page) up to v6.x; folio_free(folio) and folio_split
 * in the newest tree. migrate_to_ram is required for MEMORY_DEVICE_PRIVATE.
 */
export interface dev_pagemap_ops {
  readonly page_free?: (p: page) => Gen<void>;
  readonly folio_free?: (f: folio) => Gen<void>;
  readonly migrate_to_ram?: (vmf: vm_fault) => Gen<vm_fault_t>;
  readonly memory_failure?: (pgmap: dev_pagemap, pfn: number, nr_pages: number, mf_flags: number) => Gen<number>;
  readonly folio_split?: (head: folio, tail: folio) => Gen<void>;
}

// ---- struct dev_pagemap ----

/**
 * struct dev_pagemap. Shared objects: the pgmap itself stands for its fields; `ref` and `done`
 * are objects of their own.
 */
export class dev_pagemap {
  // v5.1/v5.2
  /** v5.1/v5.2: the device-private fault callback (unused by the model). */
  page_fault: unknown = null;
  /** v5.1/v5.2: page_free(page, data). */
  page_free: dev_page_free_t | null = null;
  altmap = new vmem_altmap();
  /** v5.1/v5.2: altmap_valid (v5.3+: flags & PGMAP_ALTMAP_VALID). */
  altmap_valid = false;
  /** v5.1/v5.2 (and v5.3..v5.9): the physical range. */
  res: resource = { start: 0, end: -1 };
  /**
   * v5.1/v5.2: a pointer to the caller's percpu_ref (required). v5.3+ trees: the pgmap's own
   * embedded ref, whose storage the model creates on first use (memremap_pages()).
   */
  ref: percpu_ref | null = null;
  /** v5.1/v5.2: kill(ref), required. */
  kill: dev_pagemap_ref_cb | null = null;
  /** v5.2 only (seed 001): cleanup(ref): wait for the ref to be idle and exit it. Required. */
  cleanup: dev_pagemap_ref_cb | null = null;
  /** v5.1/v5.2: set by devm_memremap_pages(). */
  dev: device | null = null;
  /** v5.1/v5.2: page_free()'s data. */
  data: unknown = null;
  type: pgmap_type = 0;
  /** v5.1/v5.2 (p2pdma). */
  pci_p2pdma_bus_offset = 0;

  // v5.3+ (patched('memremap-pgmap-owned-ref'))
  /** Completed by dev_pagemap_percpu_release() when `ref` drops to zero. */
  readonly done = new completion('pgmap->done');
  flags = 0;
  /** Must be 0 in the model (order-0 folios only). */
  vmemmap_shift = 0;
  ops: dev_pagemap_ops | null = null;
  owner: unknown = null;
  nr_range = 0;
  ranges: range[] = [{ start: 0, end: -1 }];

  /** pgmap->range: the union member overlaying ranges[0]. */
  get range(): range {
    return this.ranges[0]!;
  }
  set range(r: range) {
    this.ranges[0] = r;
  }
}

const embedding = new WeakMap<percpu_ref, dev_pagemap>();

/**
 * &pgmap->ref of a v5.3+ pgmap: the embedded ref, whose storage is part of the pgmap (the model
 * creates the object on first use). Reads pgmap->ref through the pgmap: call it inside a step
 * that lists read(pgmap).
 */
export function pgmap_ref(pgmap: dev_pagemap): percpu_ref {
  let ref = pgmap.ref;
  if (ref === null) {
    ref = new percpu_ref('pgmap->ref');
    pgmap.ref = ref;
    embedding.set(ref, pgmap);
  }
  return ref;
}

/** container_of(ref, struct dev_pagemap, ref) for an embedded ref (v5.3+). */
export function pgmap_of_ref(ref: percpu_ref): dev_pagemap {
  const pgmap = embedding.get(ref);
  if (!pgmap) throw new Error('container_of(ref, struct dev_pagemap, ref): not a pgmap\'s embedded ref');
  return pgmap;
}

/** pgmap_altmap(pgmap) (v5.3+): &pgmap->altmap when PGMAP_ALTMAP_VALID, else NULL. */
export function pgmap_altmap(pgmap: dev_pagemap): vmem_altmap | null {
  return pgmap.flags & PGMAP_ALTMAP_VALID ? pgmap.altmap : null;
}

/**
 * put_dev_pagemap(pgmap) (include/linux/memremap.h inline, all trees):
 * if (pgmap) percpu_ref_put(pgmap->ref) (v5.x: the caller's ref; v5.3+: &pgmap->ref).
 */
export const put_dev_pagemap = static_inline('put_dev_pagemap', function* (pgmap: dev_pagemap | null): Gen<void> {
  if (!pgmap) return;
  yield* step(patched('memremap-pgmap-owned-ref') ? 'percpu_ref_put(&pgmap->ref)' : 'percpu_ref_put(pgmap->ref)', read(pgmap));
  const ref = pgmap.ref;
  if (ref === null) throw new Error('put_dev_pagemap() of a pgmap without a ref');
  yield* percpu_ref_put(ref);
});

/**
 * zone_device_folio_init(folio, pgmap, order) (newest include/linux/memremap.h):
 * zone_device_page_init(&folio->page, pgmap, order), then folio_set_large_rmappable() for
 * order > 0 (only order 0 is modelled).
 */
export const zone_device_folio_init = frame('zone_device_folio_init', function* (f: folio, pgmap: dev_pagemap, order: number): Gen<void> {
  if (!patched('mm-zone-device-folio-free-op')) throw new Error('zone_device_folio_init() does not exist on this tree');
  yield* zone_device_page_init(f, pgmap, order);
});
