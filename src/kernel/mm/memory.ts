// mm/memory.c: page tables of a process (get_locked_pte, __pte_alloc), vm_insert_page() and
// insert_page(), vm_normal_page(), the zap path (zap_pte_range → unmap_single_vma → unmap_vmas,
// zap_page_range / zap_page_range_single, zap_vma_ptes), unmap_mapping_range(), the page
// fault's PTE handling (handle_mm_fault / do_fault, reduced), and a user access standing for
// a load or store by the process (the CPU's page-table walk and the fault path of
// arch/x86/mm/fault.c). With them: the mmu_gather of mm/mmu_gather.c (pages are released by
// tlb_finish_mmu(), after the page-table lock is dropped) and the file-rmap counters of
// mm/rmap.c (page_add_file_rmap / folio_add_file_rmap_pte, page_remove_rmap /
// folio_remove_rmap_pte). Trees: v5.1 .. newest (x86-64: ARCH_HAS_PTE_SPECIAL).
//
// Shared objects: the mm's VMA tree (mm.mm_mt), its page-table tree (mm.pgd: PTE pages come
// and go), each PTE page's lock (ptl, a spinlock_t) and each PTE (pte_t), the page's refcount
// and mapcount, the mm's rss counters.
//
// Not modelled: upper page-table levels (only PTE pages are allocated, a fault point), huge
// pages, anonymous memory and COW, swap entries, mmu notifiers, TLB flushing (nothing in the
// model reads through a stale TLB entry), the per-VMA lock.

import { fault, frame, type Gen, log, read, report, step, write } from '../../engine/ops.js';
import { BUG_ON } from '../include/asm-generic/bug.js';
import { get_page, page_mapcount, PageAnon, release_pages } from '../include/linux/mm.js';
import {
  address_space,
  mapcount_obj,
  MM_FILEPAGES,
  type mm_struct,
  type page,
  PG_dirty,
  PG_referenced,
  PG_slab,
  pte_t,
  pte_table,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  type vm_area_struct,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_WRITE,
} from '../include/linux/mm_types.js';
import { dump_page } from '../include/linux/mmdebug.js';
import { page_ref_count } from '../include/linux/page_ref.js';
import { spin_lock, spin_unlock } from '../include/linux/spinlock.js';
import { EBUSY, EFAULT, EINVAL, ENOMEM } from '../include/uapi/errno.js';
import { printk, hex } from '../kernel/printk.js';
import { patched } from '../machine.js';
import { memmap, PAGE_SIZE, page_to_pfn, pfn_to_page } from './memory_hotplug.js';
import { find_vma, i_mmap_lock_read, i_mmap_unlock_read, mmap_read_lock, mmap_read_unlock } from './mmap.js';

/** PTRS_PER_PTE: entries of one PTE page (each covers PMD_SIZE = 2 MiB). */
export const PTRS_PER_PTE = 512;
const PMD_SIZE = PTRS_PER_PTE * PAGE_SIZE;

function pmd_base(addr: number): number {
  return Math.floor(addr / PMD_SIZE) * PMD_SIZE;
}


// ---- mm/mmu_gather.c ----

/** struct mmu_gather: the pages whose references a zap drops once the TLB is flushed. */
export class mmu_gather {
  readonly pages: page[] = [];
  fullmm = false;
  constructor(readonly mm: mm_struct) {}
}

/** tlb_gather_mmu(tlb, mm): a local structure, no shared state. */
export const tlb_gather_mmu = frame('tlb_gather_mmu', function* (_tlb: mmu_gather, _mm: mm_struct): Gen<void> {});

/**
 * tlb_finish_mmu(tlb) → tlb_flush_mmu() → tlb_flush_mmu_free() → free_pages_and_swap_cache()
 * → release_pages() (folios_put_refs() in v6.9+): drop the references the zapped PTEs held.
 */
export const tlb_finish_mmu = frame('tlb_finish_mmu', function* (tlb: mmu_gather): Gen<void> {
  if (tlb.pages.length === 0) return;
  const pages = tlb.pages.splice(0);
  yield* release_pages(pages, tlb.mm.comm);
});

// ---- page tables ----

/**
 * __pte_alloc(mm, pmd) (mm/memory.c): pte_alloc_one() (a fault point), then under the pmd lock
 * install it unless another thread did first (then free ours). Returns -ENOMEM or 0.
 */
const __pte_alloc = frame('__pte_alloc', function* (mm: mm_struct, addr: number): Gen<number> {
  if (yield* fault(`pte_alloc_one(mm ${mm.comm}, ${hex(pmd_base(addr))})`)) return -ENOMEM;
  yield* step('pmd_lock(mm, pmd); if (likely(pmd_none(*pmd))) pmd_populate(mm, pmd, new)', write(mm.pgd));
  const base = pmd_base(addr);
  if (!mm.pgtables.has(base)) mm.pgtables.set(base, new pte_table(base));
  return 0;
});

/**
 * get_locked_pte(mm, addr, &ptl) → __get_locked_pte(): walk_to_pmd(), pte_alloc_map_lock():
 * allocate the PTE page if needed, then take its lock. null when the allocation fails.
 */
export const get_locked_pte = frame('get_locked_pte', function* (mm: mm_struct, addr: number): Gen<{ pte: pte_t; table: pte_table } | null> {
  yield* step('walk_to_pmd(mm, addr); pmd_none(*pmd)', read(mm.pgd));
  if (!mm.pgtables.has(pmd_base(addr))) {
    if (yield* __pte_alloc(mm, addr)) return null;
  }
  const table = mm.pgtables.get(pmd_base(addr))!;
  yield* spin_lock(table.ptl);
  return { pte: table.pte(addr), table };
});

/**
 * free_pgtables() for a range (mm/memory.c free_pgd_range): the PTE pages of [start, end) are
 * freed. Their entries must be none by now (zapped); a PTE page still holding an entry
 * is freed with it, as the kernel would (that is a leak of the page reference, not modelled
 * further).
 */
export const free_pgtables_range = frame('free_pgtables_range', function* (tlb: mmu_gather, start: number, end: number): Gen<void> {
  const mm = tlb.mm;
  yield* step('free_pgd_range(tlb, floor, ceiling)', write(mm.pgd));
  for (const base of [...mm.pgtables.keys()]) if (base >= pmd_base(start) && base < end) mm.pgtables.delete(base);
});

// ---- mm/rmap.c ----

/**
 * page_add_file_rmap(page, false) (v5.1/v5.2) / folio_add_file_rmap_pte(folio, page, vma)
 * (v6.x): atomic_inc_and_test(&page->_mapcount) (the first mapping also counts NR_FILE_MAPPED,
 * not modelled).
 */
export const page_add_file_rmap = frame('page_add_file_rmap', function* (p: page): Gen<void> {
  yield* step(patched('zone-device-folio') ? 'folio_add_file_rmap_pte: atomic_inc_and_test(&page->_mapcount)' : 'atomic_inc_and_test(&page->_mapcount)', write(mapcount_obj(p)));
  p._mapcount.counter++;
});

/** page_remove_rmap(page, false) (v5.1/v5.2) / folio_remove_rmap_pte() (v6.x): atomic_add_negative(-1, &page->_mapcount). */
export const page_remove_rmap = frame('page_remove_rmap', function* (p: page): Gen<void> {
  yield* step(patched('zone-device-folio') ? 'folio_remove_rmap_pte: atomic_add_negative(-1, &page->_mapcount)' : 'atomic_add_negative(-1, &page->_mapcount)', write(mapcount_obj(p)));
  p._mapcount.counter--;
});

// ---- vm_insert_page ----

/**
 * validate_page_before_insert(vma, page) (v5.8+; inline checks of insert_page() before):
 * rejects a page with a zero refcount (-EINVAL) since patched('mm-page-count-check-in-validate')
 * (v6.11; vm_insert_page() itself checked it first before),
 * then anon, slab (and typed) pages (-EINVAL); flush_dcache_page (no-op on x86).
 */
const validate_page_before_insert = frame('validate_page_before_insert', function* (p: page): Gen<number> {
  if (patched('mm-page-count-check-in-validate') && (yield* page_ref_count(p)) === 0) return -EINVAL;
  yield* step('PageAnon(page) || PageSlab(page)', read(p));
  if (PageAnon(p) || (p.flags & PG_slab) !== 0) return -EINVAL;
  return 0;
});

/**
 * insert_page_into_pte_locked(vma, pte, addr, page, prot) (v5.8+; inline before): -EBUSY when the
 * PTE is in use; else get_page() (folio_get()), inc_mm_counter(mm, mm_counter_file(page)),
 * page_add_file_rmap(), set_pte_at(mk_pte(page, prot)).
 */
const insert_page_into_pte_locked = frame('insert_page_into_pte_locked', function* (vma: vm_area_struct, pte: pte_t, addr: number, p: page): Gen<number> {
  yield* step('pte_none(*pte)', read(pte));
  if (pte.pfn !== null) return -EBUSY;
  // Ok, finally just insert the thing..
  yield* get_page(p);
  const mm = vma.vm_mm;
  yield* step('inc_mm_counter_fast(mm, MM_FILEPAGES)', write(mm.rss_stat[MM_FILEPAGES]));
  mm.rss_stat[MM_FILEPAGES]!.counter++;
  yield* page_add_file_rmap(p);
  yield* step(`set_pte_at(mm, ${hex(addr)}, pte, mk_pte(page, prot))`, write(pte));
  pte.pfn = page_to_pfn(p);
  pte.special = false;
  pte.young = false;
  pte.dirty = false;
  return 0;
});

/**
 * insert_page(vma, addr, page, prot) (mm/memory.c): validate the page (-EINVAL), take the PTE
 * lock (allocating the PTE page: -ENOMEM), insert (-EBUSY if the slot is used), unlock.
 */
const insert_page = frame('insert_page', function* (vma: vm_area_struct, addr: number, p: page): Gen<number> {
  let retval = yield* validate_page_before_insert(p);
  if (retval) return retval;
  retval = -ENOMEM;
  const locked = yield* get_locked_pte(vma.vm_mm, addr);
  if (!locked) return retval;
  retval = yield* insert_page_into_pte_locked(vma, locked.pte, addr, p);
  yield* spin_unlock(locked.table.ptl);
  return retval;
});

/**
 * vm_insert_page(vma, addr, page) (mm/memory.c): insert a single page into a user VMA, taking a
 * page reference and a mapcount. -EFAULT outside the VMA; -EINVAL for a page with a zero
 * refcount (checked here first until v6.10, in validate_page_before_insert() since) or an anon or
 * slab page; -ENOMEM when the page table cannot be allocated; -EBUSY when the PTE is in use.
 * The first insert into a VMA sets VM_MIXEDMAP, which needs the mmap lock held for write:
 * BUG_ON(mmap_read_trylock(vma->vm_mm)) and BUG_ON(vma->vm_flags & VM_PFNMAP).
 */
export const vm_insert_page = frame('vm_insert_page', function* (vma: vm_area_struct, addr: number, p: page): Gen<number> {
  const where = 'mm/memory.c vm_insert_page';
  if (addr < vma.vm_start || addr >= vma.vm_end) return -EFAULT;
  if (!patched('mm-page-count-check-in-validate') && (yield* page_ref_count(p)) === 0) return -EINVAL;
  if (!(vma.vm_flags & VM_MIXEDMAP)) {
    const mm = vma.vm_mm;
    yield* step(patched('memremap-pgmap-owned-ref') ? 'BUG_ON(mmap_read_trylock(vma->vm_mm))' : 'BUG_ON(down_read_trylock(&vma->vm_mm->mmap_sem))', read(mm.mmap_lock));
    BUG_ON(!mm.mmap_lock.writer, where, patched('memremap-pgmap-owned-ref') ? 'BUG_ON(mmap_read_trylock(vma->vm_mm))' : 'BUG_ON(down_read_trylock(&vma->vm_mm->mmap_sem))');
    BUG_ON((vma.vm_flags & VM_PFNMAP) !== 0, where, 'BUG_ON(vma->vm_flags & VM_PFNMAP)');
    vma.vm_flags |= VM_MIXEDMAP;
  }
  return yield* insert_page(vma, addr, p);
});

// ---- zap ----

/**
 * print_bad_pte(vma, addr, pte, page) (mm/memory.c): "BUG: Bad page map in process ..." with
 * dump_page(), a taint, and the kernel carries on (a non-fatal finding).
 */
const print_bad_pte = frame('print_bad_pte', function* (vma: vm_area_struct, addr: number, pte: { pfn: number | null }, p: page | null): Gen<void> {
  const title = `BUG: Bad page map in process ${vma.vm_mm.comm}  pte:${hex((pte.pfn ?? 0) * PAGE_SIZE)} addr:${hex(addr)}`;
  yield* printk('<1>', title);
  if (p) yield* dump_page(p, 'bad pte');
  yield* report('bug', title);
});

/**
 * vm_normal_page(vma, addr, pte) (mm/memory.c, x86: ARCH_HAS_PTE_SPECIAL): NULL for a special
 * PTE; a pfn above highest_memmap_pfn is a bad PTE (NULL); else pfn_to_page(pfn). It does not
 * check that the pfn still has a memmap.
 */
const vm_normal_page = frame('vm_normal_page', function* (vma: vm_area_struct, addr: number, pte: { pfn: number | null; special: boolean }): Gen<page | null> {
  if (pte.special || pte.pfn === null) return null;
  const highest = memmap().highest_memmap_pfn;
  yield* step('pfn > highest_memmap_pfn', read(highest));
  if (pte.pfn > highest.pfn) {
    yield* print_bad_pte(vma, addr, pte, null);
    return null;
  }
  return pfn_to_page(pte.pfn);
});

/**
 * zap_pte_range(tlb, vma, pmd, addr, end) (mm/memory.c; zap_present_ptes() etc. in v6.x): under
 * the PTE lock, for each present PTE: clear it, find the page (vm_normal_page), set it dirty /
 * accessed from the PTE bits, decrement the rss counter, page_remove_rmap(), print_bad_pte() if
 * the mapcount went negative, and queue the page on the mmu_gather (its reference is dropped by
 * tlb_finish_mmu()).
 */
const zap_pte_range = frame('zap_pte_range', function* (tlb: mmu_gather, vma: vm_area_struct, table: pte_table, addr: number, end: number): Gen<void> {
  const mm = vma.vm_mm;
  yield* spin_lock(table.ptl);
  for (; addr < end; addr += PAGE_SIZE) {
    const pte = table.ptes.get(addr);
    if (!pte) continue;
    yield* step(`ptent = ptep_get_and_clear_full(mm, ${hex(addr)}, pte)`, write(pte));
    if (pte.pfn === null) continue;
    const ptent = { pfn: pte.pfn, special: pte.special, young: pte.young, dirty: pte.dirty };
    pte.pfn = null;
    pte.special = false;
    pte.young = false;
    pte.dirty = false;
    const p = yield* vm_normal_page(vma, addr, ptent);
    if (!p) continue;
    yield* step('PageAnon(page); set_page_dirty(page) / mark_page_accessed(page) from the PTE bits', write(p));
    if (!PageAnon(p)) {
      if (ptent.dirty) p.flags |= PG_dirty;
      if (ptent.young) p.flags |= PG_referenced;
    }
    yield* step('rss[mm_counter(page)]--', write(mm.rss_stat[MM_FILEPAGES]));
    mm.rss_stat[MM_FILEPAGES]!.counter--;
    yield* page_remove_rmap(p);
    if ((yield* page_mapcount(p)) < 0) yield* print_bad_pte(vma, addr, ptent, p);
    tlb.pages.push(p);
  }
  yield* spin_unlock(table.ptl);
});

/** unmap_single_vma(tlb, vma, start, end, details): zap the VMA's part of [start, end). */
const unmap_single_vma = frame('unmap_single_vma', function* (tlb: mmu_gather, vma: vm_area_struct, start_addr: number, end_addr: number): Gen<void> {
  const start = Math.max(vma.vm_start, start_addr);
  const end = Math.min(vma.vm_end, end_addr);
  if (start >= end) return;
  const mm = vma.vm_mm;
  for (let base = pmd_base(start); base < end; base += PMD_SIZE) {
    yield* step('pmd_none_or_clear_bad(pmd)', read(mm.pgd));
    const table = mm.pgtables.get(base);
    if (!table) continue;
    yield* zap_pte_range(tlb, vma, table, Math.max(start, base), Math.min(end, base + PMD_SIZE));
  }
});

/** unmap_vmas(tlb, vma, start_addr, end_addr) (mm/memory.c). */
export const unmap_vmas = frame('unmap_vmas', function* (tlb: mmu_gather, vmas: readonly vm_area_struct[], start: number, end: number): Gen<void> {
  for (const v of vmas) yield* unmap_single_vma(tlb, v, start, end);
});

/**
 * zap_page_range_single(vma, address, size, details) (v5.1: zap_page_range(vma, start, size)
 * for the whole range): tlb_gather_mmu(); unmap_single_vma(); tlb_finish_mmu().
 */
export const zap_page_range_single = frame('zap_page_range_single', function* (vma: vm_area_struct, address: number, size: number): Gen<void> {
  const tlb = new mmu_gather(vma.vm_mm);
  yield* tlb_gather_mmu(tlb, vma.vm_mm);
  yield* unmap_single_vma(tlb, vma, address, address + size);
  yield* tlb_finish_mmu(tlb);
});

/** zap_page_range(vma, start, size) (v5.1 .. v6.2). */
export const zap_page_range = frame('zap_page_range', function* (vma: vm_area_struct, start: number, size: number): Gen<void> {
  yield* zap_page_range_single(vma, start, size);
});

/** zap_vma_ptes(vma, address, size): only for VM_PFNMAP VMAs and whole-VMA-contained ranges. */
export const zap_vma_ptes = frame('zap_vma_ptes', function* (vma: vm_area_struct, address: number, size: number): Gen<void> {
  if (address < vma.vm_start || address + size > vma.vm_end || !(vma.vm_flags & VM_PFNMAP)) return;
  yield* zap_page_range_single(vma, address, size);
});

/**
 * unmap_mapping_range(mapping, holebegin, holelen, even_cows) (mm/memory.c): under
 * i_mmap_lock_read(mapping), zap every VMA of the file that maps a page of the hole
 * (holelen 0: to the end of the file) — unmap_mapping_range_tree() → unmap_mapping_range_vma()
 * → zap_page_range_single(). The processes' mmap locks are not taken.
 */
export const unmap_mapping_range = frame('unmap_mapping_range', function* (mapping: address_space, holebegin: number, holelen: number, _even_cows: number): Gen<void> {
  const first_index = Math.floor(holebegin / PAGE_SIZE);
  const last_index = holelen ? first_index + Math.ceil(holelen / PAGE_SIZE) - 1 : Number.MAX_SAFE_INTEGER;
  yield* i_mmap_lock_read(mapping);
  yield* step('RB_EMPTY_ROOT(&mapping->i_mmap.rb_root); vma_interval_tree_foreach', read(mapping.i_mmap));
  const vmas = [...mapping.i_mmap];
  for (const vma of vmas) {
    const vba = vma.vm_pgoff;
    const vea = vba + (vma.vm_end - vma.vm_start) / PAGE_SIZE - 1;
    if (vea < first_index || vba > last_index) continue;
    const zba = Math.max(first_index, vba);
    const zea = Math.min(last_index, vea);
    const start = (zba - vba) * PAGE_SIZE + vma.vm_start;
    const end = (zea - vba + 1) * PAGE_SIZE + vma.vm_start;
    yield* zap_page_range_single(vma, start, end - start);
  }
  yield* i_mmap_unlock_read(mapping);
});

// ---- user access and page faults ----

export type user_access_result = 'ok' | 'SIGSEGV' | 'SIGBUS';

/** Delivers sig to the process owning mm (force_sig_fault): recorded on the mm, not a kernel finding. */
function* deliver(mm: mm_struct, sig: 'SIGSEGV' | 'SIGBUS', addr: number): Gen<user_access_result> {
  mm.signals.push(`${sig} at ${hex(addr)}`);
  yield* log(`${mm.comm}: ${sig} at ${hex(addr)}`);
  return sig;
}

/**
 * The CPU's access through a present PTE: the access reaches the page frame. The model treats
 * it as touching the struct page (a read of page->flags), so that an access to a page whose
 * memmap has been removed under a live mapping is found. (The kernel's CPU would reach device
 * memory that no longer has a struct page, which faults nothing by itself.)
 */
/** The access through a present PTE: it reaches the struct page's memory (the pfn's page). */
function access_present(pte: pte_t, is_write: boolean): void {
  void pfn_to_page(pte.pfn!).flags;
  pte.young = true;
  if (is_write) pte.dirty = true;
}

/**
 * handle_mm_fault(vma, address, flags) (mm/memory.c), reduced to a PTE that is none in a
 * non-anonymous VMA: do_fault() — without vm_ops->fault, VM_FAULT_SIGBUS; else the handler's
 * result. Anonymous VMAs (no vm_ops) are not modelled: the fault returns 0 and the access is
 * retried without a page.
 */
const handle_mm_fault = frame('handle_mm_fault', function* (vma: vm_area_struct, addr: number): Gen<number> {
  if (!vma.vm_ops && !vma.vm_file) return 0;
  const f = vma.vm_ops?.fault;
  if (!f) return VM_FAULT_SIGBUS;
  return yield* f({ vma, address: addr, pgoff: vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE });
});

/**
 * user_access(mm, addr, is_write): a load (or store) by the process at addr. The CPU walks the
 * page table (one step reading the PTE); a present PTE reaches the page. Otherwise the page
 * fault of arch/x86/mm/fault.c: mmap_read_lock(); find_vma(); no VMA (or a write to a VMA
 * without VM_WRITE) is bad_area → SIGSEGV; else handle_mm_fault(): VM_FAULT_SIGBUS → SIGBUS,
 * VM_FAULT_SIGSEGV → SIGSEGV; after a handled fault the access is retried once. Signals are the
 * process's business: recorded on the mm (mm.signals), never kernel findings.
 */
export const user_access = frame('user_access', function* (mm: mm_struct, addr: number, is_write: boolean = false): Gen<user_access_result> {
  const page_addr = addr - (addr % PAGE_SIZE);
  for (let attempt = 0; attempt < 2; attempt++) {
    // The hardware page-table walk.
    yield* step(`${mm.comm}: page-table walk for ${hex(addr)}`, read(mm.pgd));
    const table = mm.pgtables.get(pmd_base(page_addr));
    if (table) {
      const pte = table.pte(page_addr);
      // The TLB fill and the access are one instruction: a zap clears the PTE and flushes the
      // TLB before the page is released, so the access cannot go through a stale translation.
      const mapped = pte.pfn !== null ? pfn_to_page(pte.pfn) : null;
      yield* step(`${mm.comm}: ${is_write ? 'store to' : 'load from'} ${hex(addr)} through its PTE`, write(pte), ...(mapped ? [read(mapped)] : []));
      if (pte.pfn !== null) {
        access_present(pte, is_write);
        return 'ok';
      }
    }
    if (attempt === 1) return 'ok';
    // do_user_addr_fault()
    yield* mmap_read_lock(mm);
    const vma = yield* find_vma(mm, addr);
    if (!vma || vma.vm_start > addr || (is_write && !(vma.vm_flags & VM_WRITE))) {
      yield* mmap_read_unlock(mm);
      return yield* deliver(mm, 'SIGSEGV', addr);
    }
    const fault_ret = yield* handle_mm_fault(vma, page_addr);
    yield* mmap_read_unlock(mm);
    if (fault_ret & VM_FAULT_SIGBUS) return yield* deliver(mm, 'SIGBUS', addr);
    if (fault_ret & VM_FAULT_SIGSEGV) return yield* deliver(mm, 'SIGSEGV', addr);
    if (fault_ret & VM_FAULT_OOM) throw new Error('user_access: VM_FAULT_OOM (pagefault_out_of_memory) is not modelled');
  }
  return 'ok';
});
