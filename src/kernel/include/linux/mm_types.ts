// include/linux/mm_types.h: struct page (and the struct folio view of it), struct mm_struct,
// struct vm_area_struct, and the page-table entries the model keeps per mm.
//
// Trees: all (v5.1, v5.2, v6.14, v6.15, newest). Where a field differs between trees the
// comment says so; the class carries the union of the fields and each tree's code uses its own.
//
// Shared objects (engine footprints). A struct page is one tracked object (mm/kasan.ts) whose
// memory exists only while its memmap section is present (mm/memory_hotplug.ts). Its
// `_refcount` and `_mapcount` are atomic_t objects of their own, so that a step that only
// changes the refcount conflicts only with other refcount steps; they are tracked and poisoned
// together with the page, so touching either after the memmap is removed is the panic of
// seed 002. `page->flags`, `->pgmap`, `->mapping`, `->zone_device_data` use the page object
// itself as their footprint.
//
// Footprint objects must be named without touching the page (a read of a removed page is a
// panic), so refcount_obj()/mapcount_obj() find them through a side table: that lookup stands
// for pointer arithmetic (&page->_refcount) and reads no memory.

import type { Gen } from '../../../engine/ops.js';
import type { dev_pagemap } from './memremap.js';
import { spinlock_t } from './spinlock.js';

/** atomic_t (include/linux/types.h): its own shared object. */
export class atomic_t {
  constructor(public counter = 0) {}
}

// ---- struct page ----

/** enum pageflags (include/linux/page-flags.h): the bits the model uses, as bit masks. */
export const PG_locked = 1 << 0;
export const PG_referenced = 1 << 1;
export const PG_dirty = 1 << 4;
export const PG_active = 1 << 6;
export const PG_waiters = 1 << 7;
export const PG_slab = 1 << 9;
export const PG_reserved = 1 << 10;
export const PG_head = 1 << 16;
/** PG_anon_exclusive (v5.19+), an alias of PG_mappedtodisk on anon pages. */
export const PG_anon_exclusive = 1 << 17;

/** enum zone_type (include/linux/mmzone.h), in index order (x86-64 without ZONE_DMA). */
export type zone_type = 'ZONE_DMA32' | 'ZONE_NORMAL' | 'ZONE_MOVABLE' | 'ZONE_DEVICE';
const ZONES: readonly zone_type[] = ['ZONE_DMA32', 'ZONE_NORMAL', 'ZONE_MOVABLE', 'ZONE_DEVICE'];

/** The zone and node fields of page->flags (include/linux/page-flags-layout.h): above the PG_ bits. */
export const ZONES_PGSHIFT = 24;
export const ZONES_MASK = 0x3;
export const NODES_PGSHIFT = 26;
export const NODES_MASK = 0x3;

/** page_zonenum(page): the zone field of page->flags (reads the page). */
export function page_zonenum(p: page): zone_type {
  return ZONES[(p.flags >>> ZONES_PGSHIFT) & ZONES_MASK]!;
}

/** page_to_nid(page): the node field of page->flags (reads the page). */
export function page_to_nid(p: page): number {
  return (p.flags >>> NODES_PGSHIFT) & NODES_MASK;
}

/** set_page_links(page, zone, node, pfn): sets the zone and node fields (page being initialised). */
export function set_page_links(p: page, zone: zone_type, nid: number): void {
  const f = p.flags & ~((ZONES_MASK << ZONES_PGSHIFT) | (NODES_MASK << NODES_PGSHIFT));
  p.flags = f | (ZONES.indexOf(zone) << ZONES_PGSHIFT) | ((nid & NODES_MASK) << NODES_PGSHIFT);
}

/**
 * Stands for an anonymous mapping: page->mapping with PAGE_MAPPING_ANON set points at an
 * anon_vma. The model never creates anonymous ZONE_DEVICE mappings except through drivers
 * that say so; PageAnon() tests for this class.
 */
export class anon_vma {
  constructor(readonly name = 'anon_vma') {}
}

/**
 * struct address_space (include/linux/fs.h), reduced to what mm/ needs: the i_mmap tree of the
 * VMAs that map it (walked by unmap_mapping_range()), guarded by i_mmap_rwsem. `i_mmap` is the
 * shared object of every walk or change of the tree.
 */
export class address_space {
  readonly i_mmap: vm_area_struct[] = [];
  readonly i_mmap_rwsem: rw_semaphore;
  constructor(readonly name = 'address_space') {
    this.i_mmap_rwsem = new rw_semaphore(`${name} i_mmap_rwsem`);
  }
}

/**
 * struct page. The model's pages are order-0 (vmemmap_shift 0; compound ZONE_DEVICE folios
 * are not modelled), so struct folio is a view of the same object (see `folio` below).
 */
export class page {
  /** page->flags: the PG_* bits, and the zone and node fields (page_zonenum(), page_to_nid()). */
  flags = 0;
  /** page->_refcount. */
  readonly _refcount: atomic_t;
  /** page->_mapcount: starts at -1 (page_mapcount() is _mapcount + 1). */
  readonly _mapcount: atomic_t;
  /** page->mapping: an address_space, an anon_vma (PAGE_MAPPING_ANON), or NULL. */
  mapping: address_space | anon_vma | null = null;
  /** page->index. */
  index = 0;
  /**
   * page->pgmap (ZONE_DEVICE pages). From v6.15 the kernel spells it folio->pgmap and reads it
   * with page_pgmap(); it is the same word of the same struct page.
   */
  pgmap: dev_pagemap | null = null;
  /** page->hmm_data: v5.1/v5.2 name of the driver word of a ZONE_DEVICE page. */
  hmm_data: unknown = 0;
  /** page->zone_device_data: v5.3+ name (patched('memremap-pgmap-owned-ref') era). */
  zone_device_data: unknown = null;
  /** folio->share (FS_DAX, newest only). */
  share = 0;

  constructor(_refcount: atomic_t, _mapcount: atomic_t) {
    this._refcount = _refcount;
    this._mapcount = _mapcount;
  }
}

/**
 * struct folio. In every modelled tree a folio of order 0 overlays its one struct page:
 * folio->flags is page->flags, folio->_refcount is page->_refcount, folio->mapping is
 * page->mapping and (v6.15+) folio->pgmap is page->pgmap. The model has only order-0 folios,
 * so a folio is the page object itself; `&folio->page` and page_folio() are identities.
 */
export type folio = page;

interface PageWords {
  readonly pfn: number;
  readonly _refcount: atomic_t;
  readonly _mapcount: atomic_t;
}

/** The side table: pointer arithmetic on a struct page, which reads no memory. */
const words = new WeakMap<object, PageWords>();

/** Registers a struct page built by the memmap code (mm/memory_hotplug.ts). */
export function register_struct_page(p: page, pfn: number, _refcount: atomic_t, _mapcount: atomic_t): void {
  words.set(p, { pfn, _refcount, _mapcount });
}

function wordsOf(p: page): PageWords {
  const w = words.get(p);
  if (!w) throw new Error('not a struct page of the memmap');
  return w;
}

/** &page->_refcount, without reading the page: the footprint of a refcount step. */
export function refcount_obj(p: page): atomic_t {
  return wordsOf(p)._refcount;
}

/** &page->_mapcount, without reading the page. */
export function mapcount_obj(p: page): atomic_t {
  return wordsOf(p)._mapcount;
}

/** The pfn of `p` (vmemmap pointer arithmetic: reads no memory). */
export function pfn_of_struct_page(p: page): number {
  return wordsOf(p).pfn;
}

/** page_folio(): the model's folios are order 0, so the folio is the page. */
export function page_folio(p: page): folio {
  return p;
}

/** folio_page(folio, n): only n = 0 exists in the model. */
export function folio_page(f: folio, n: number): page {
  if (n !== 0) throw new Error('folio_page: the model has only order-0 folios');
  return f;
}

/** compound_head(): order-0 pages are their own head. */
export function compound_head(p: page): page {
  return p;
}

// ---- address spaces ----

/** vm_flags bits (include/linux/mm.h). */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_PFNMAP = 0x400;
export const VM_IO = 0x4000;
export const VM_DONTEXPAND = 0x40000;
export const VM_MIXEDMAP = 0x10000000;

/** vm_fault_t bits (include/linux/mm_types.h). */
export const VM_FAULT_OOM = 0x1;
export const VM_FAULT_SIGBUS = 0x2;
export const VM_FAULT_SIGSEGV = 0x40;
export const VM_FAULT_NOPAGE = 0x100;
export type vm_fault_t = number;

/** struct vm_fault, reduced to what a ->fault handler needs. */
export interface vm_fault {
  readonly vma: vm_area_struct;
  readonly address: number;
  readonly pgoff: number;
}

/** struct vm_operations_struct: the callbacks the model calls. */
export interface vm_operations_struct {
  readonly open?: (vma: vm_area_struct) => Gen<void>;
  readonly close?: (vma: vm_area_struct) => Gen<void>;
  readonly fault?: (vmf: vm_fault) => Gen<vm_fault_t>;
}

/**
 * struct file (include/linux/fs.h), reduced to what mmap needs: the mapping its VMAs join
 * (f_mapping, the inode's i_mapping) and its ->mmap handler (f_op->mmap; for a sysfs binary
 * attribute this is kernfs_fop_mmap() calling the attribute's ->mmap, e.g. p2pmem_alloc_mmap()).
 */
export interface file {
  readonly name: string;
  readonly f_mapping: address_space | null;
  readonly mmap?: (filp: file, vma: vm_area_struct) => Gen<number>;
  private_data?: unknown;
}

/** pte_t: a page-table entry, its own shared object. `pfn` is null when pte_none(). */
export class pte_t {
  pfn: number | null = null;
  /** pte_special(): set for VM_PFNMAP/insert_pfn mappings; never for vm_insert_page(). */
  special = false;
  /** pte_young(): set by a CPU access through the entry. */
  young = false;
  /** pte_dirty(): set by a CPU write through the entry. */
  dirty = false;
  constructor(readonly addr: number) {}
}

/**
 * A PTE page (one page of page table covering PTRS_PER_PTE entries) and its split page-table
 * lock (pte_lockptr(), USE_SPLIT_PTE_PTLOCKS).
 */
export class pte_table {
  readonly ptes = new Map<number, pte_t>();
  readonly ptl: spinlock_t;
  constructor(readonly base: number) {
    this.ptl = new spinlock_t(`ptl@0x${base.toString(16)}`);
  }

  pte(addr: number): pte_t {
    let p = this.ptes.get(addr);
    if (!p) {
      p = new pte_t(addr);
      this.ptes.set(addr, p);
    }
    return p;
  }
}

/** A reader/writer semaphore as mm/ uses it (mmap_lock, i_mmap_rwsem): its own shared object. */
export class rw_semaphore {
  writer = false;
  readers = 0;
  constructor(readonly name: string) {}
}

/** mm counters (enum in include/linux/mm_types_task.h). */
export const MM_FILEPAGES = 0;
export const MM_ANONPAGES = 1;
export const MM_SWAPENTS = 2;
export const MM_SHMEMPAGES = 3;

/**
 * struct mm_struct. The VMA set (mm->mmap list up to v6.0, the maple tree mm->mm_mt from v6.1)
 * is `mm_mt`, one shared object for every lookup and change; page tables are `pgtables` (the
 * PTE pages by base address; upper levels are not modelled). The task owning the mm is folded
 * in: `comm` is its name and `signals` the signals delivered to it (SIGSEGV/SIGBUS of a user
 * access), which are the process's business, not kernel findings.
 */
export class mm_struct {
  readonly mmap_lock: rw_semaphore;
  readonly mm_mt: vm_area_struct[] = [];
  readonly pgtables = new Map<number, pte_table>();
  /** The object standing for the page-table tree (pgd..pmd) when PTE pages come and go. */
  readonly pgd = { name: 'pgd' };
  readonly rss_stat: atomic_t[] = [new atomic_t(), new atomic_t(), new atomic_t(), new atomic_t()];
  readonly mm_users = new atomic_t(1);
  readonly signals: string[] = [];
  /** Set by exit_mmap(). */
  exited = false;
  constructor(readonly comm: string) {
    this.mmap_lock = new rw_semaphore(`${comm} mmap_lock`);
  }
}

/** struct vm_area_struct. */
export class vm_area_struct {
  vm_flags: number;
  vm_page_prot = 'PAGE_SHARED';
  vm_pgoff = 0;
  vm_ops: vm_operations_struct | null = null;
  vm_file: file | null = null;
  vm_private_data: unknown = null;
  constructor(
    readonly vm_mm: mm_struct,
    public vm_start: number,
    public vm_end: number,
    vm_flags: number,
  ) {
    this.vm_flags = vm_flags;
  }
}
