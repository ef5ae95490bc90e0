// mm/mmap.c (mmap_region, do_mmap, do_munmap/vm_munmap, exit_mmap, find_vma, remove_vma,
// unmap_region, free_pgtables' unlinking of file VMAs), with the lock helpers it uses: the
// mmap lock of include/linux/mmap_lock.h (mm->mmap_sem up to v5.7), the i_mmap lock of
// include/linux/fs.h, and the rw-semaphore underneath (kernel/locking/rwsem.c, reduced to
// blocking readers/writer). Trees: v5.1 .. newest. v6.1+ keep VMAs in a maple tree and split
// munmap into gather/complete phases (vms_*), v6.3+ have per-VMA locks; the model keeps the
// v5.1 order of operations, which the later code preserves: detach the VMAs, unmap_region()
// (zap, free page tables and unlink from the file's i_mmap, release the pages), then
// remove_vma() (->close()).
//
// The model's process address space: no VMA splitting or merging (munmap of part of a VMA is
// a model error), no anonymous memory, MAP_FIXED-style placement (the caller chooses the
// address; overlapping an existing VMA is a model error), no rlimits or accounting. The
// task owning an mm is folded into the mm (mm_types.ts).

import { block, fault, frame, type Gen, log, read, report, step, write } from '../../engine/ops.js';
import {
  address_space,
  type file,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  MM_SWAPENTS,
  mm_struct,
  type rw_semaphore,
  vm_area_struct,
  VM_SHARED,
} from '../include/linux/mm_types.js';
import { EINVAL, ENODEV, ENOMEM } from '../include/uapi/errno.js';
import { might_sleep } from '../kernel/rcu/tree.js';
import { patched } from '../machine.js';
import { free_pgtables_range, mmu_gather, tlb_finish_mmu, tlb_gather_mmu, unmap_vmas } from './memory.js';
import { PAGE_SIZE } from './memory_hotplug.js';

// ---- kernel/locking/rwsem.c (reduced) ----

/** down_read(sem): sleeps while a writer holds it. */
export function* down_read(sem: rw_semaphore): Gen<void> {
  yield* might_sleep('kernel/locking/rwsem.c');
  yield* block(`down_read(&${sem.name})`, `${sem.name} (read)`, () => !sem.writer, write(sem));
  sem.readers++;
}

/** up_read(sem). */
export function* up_read(sem: rw_semaphore): Gen<void> {
  yield* step(`up_read(&${sem.name})`, write(sem));
  if (sem.readers > 0) sem.readers--;
}

/** down_write(sem): sleeps while anyone holds it. */
export function* down_write(sem: rw_semaphore): Gen<void> {
  yield* might_sleep('kernel/locking/rwsem.c');
  yield* block(`down_write(&${sem.name})`, `${sem.name} (write)`, () => !sem.writer && sem.readers === 0, write(sem));
  sem.writer = true;
}

/** up_write(sem). */
export function* up_write(sem: rw_semaphore): Gen<void> {
  yield* step(`up_write(&${sem.name})`, write(sem));
  sem.writer = false;
}

// ---- include/linux/mmap_lock.h (v5.8+; down_read(&mm->mmap_sem) before) ----

export const mmap_read_lock = frame('mmap_read_lock', function* (mm: mm_struct): Gen<void> {
  yield* down_read(mm.mmap_lock);
});
export const mmap_read_unlock = frame('mmap_read_unlock', function* (mm: mm_struct): Gen<void> {
  yield* up_read(mm.mmap_lock);
});
export const mmap_write_lock = frame('mmap_write_lock', function* (mm: mm_struct): Gen<void> {
  yield* down_write(mm.mmap_lock);
});
export const mmap_write_unlock = frame('mmap_write_unlock', function* (mm: mm_struct): Gen<void> {
  yield* up_write(mm.mmap_lock);
});

// ---- include/linux/fs.h ----

export const i_mmap_lock_read = frame('i_mmap_lock_read', function* (mapping: address_space): Gen<void> {
  yield* down_read(mapping.i_mmap_rwsem);
});
export const i_mmap_unlock_read = frame('i_mmap_unlock_read', function* (mapping: address_space): Gen<void> {
  yield* up_read(mapping.i_mmap_rwsem);
});
export const i_mmap_lock_write = frame('i_mmap_lock_write', function* (mapping: address_space): Gen<void> {
  yield* down_write(mapping.i_mmap_rwsem);
});
export const i_mmap_unlock_write = frame('i_mmap_unlock_write', function* (mapping: address_space): Gen<void> {
  yield* up_write(mapping.i_mmap_rwsem);
});

// ---- kernel/fork.c ----

/** mm_alloc() for a new process (a scenario's setup: plain, not a step). */
export function mm_alloc(comm: string): mm_struct {
  return new mm_struct(comm);
}

/**
 * vm_area_alloc(mm) (kernel/fork.c): kmem_cache_zalloc(vm_area_cachep) — a fault point. The
 * VMA is a plain object (the model does not track VMAs for leaks: an mm still holding its VMAs
 * when a scenario ends is not a leak).
 */
const vm_area_alloc = frame('vm_area_alloc', function* (mm: mm_struct, start: number, end: number, vm_flags: number): Gen<vm_area_struct | null> {
  if (yield* fault('vm_area_alloc: kmem_cache_zalloc(vm_area_cachep)')) return null;
  return new vm_area_struct(mm, start, end, vm_flags);
});

// ---- mm/mmap.c ----

/** find_vma(mm, addr): the first VMA with vm_end > addr (the caller holds the mmap lock). */
export const find_vma = frame('find_vma', function* (mm: mm_struct, addr: number): Gen<vm_area_struct | null> {
  yield* step(`find_vma(mm, 0x${addr.toString(16)})`, read(mm.mm_mt));
  let best: vm_area_struct | null = null;
  for (const v of mm.mm_mt) if (v.vm_end > addr && (best === null || v.vm_start < best.vm_start)) best = v;
  return best;
});

/** vma_link(mm, vma): insert into the mm's VMA tree, then (__vma_link_file) the file's i_mmap. */
const vma_link = frame('vma_link', function* (mm: mm_struct, vma: vm_area_struct): Gen<void> {
  const mapping = vma.vm_file?.f_mapping ?? null;
  if (mapping) yield* i_mmap_lock_write(mapping);
  yield* step('__vma_link(mm, vma); __vma_link_file(vma)', write(mm.mm_mt), ...(mapping ? [write(mapping.i_mmap)] : []));
  mm.mm_mt.push(vma);
  if (mapping) mapping.i_mmap.push(vma);
  if (mapping) yield* i_mmap_unlock_write(mapping);
});

/** unlink_file_vma(vma) (called by free_pgtables()): remove the VMA from its file's i_mmap. */
export const unlink_file_vma = frame('unlink_file_vma', function* (vma: vm_area_struct): Gen<void> {
  const mapping = vma.vm_file?.f_mapping ?? null;
  if (!mapping) return;
  yield* i_mmap_lock_write(mapping);
  yield* step('__remove_shared_vm_struct(vma, file, mapping)', write(mapping.i_mmap));
  const i = mapping.i_mmap.indexOf(vma);
  if (i >= 0) mapping.i_mmap.splice(i, 1);
  yield* i_mmap_unlock_write(mapping);
});

/**
 * unmap_region(mm, vmas, start, end) (mm/mmap.c; vms_clear_ptes() in v6.12+):
 * tlb_gather_mmu(); unmap_vmas(); free_pgtables() (unlink_file_vma() of each VMA and the page
 * tables of the range); tlb_finish_mmu() — which releases the pages the zap collected.
 */
export const unmap_region = frame('unmap_region', function* (mm: mm_struct, vmas: readonly vm_area_struct[], start: number, end: number): Gen<void> {
  const tlb = new mmu_gather(mm);
  yield* tlb_gather_mmu(tlb, mm);
  yield* unmap_vmas(tlb, vmas, start, end);
  yield* free_pgtables(tlb, vmas, start, end);
  yield* tlb_finish_mmu(tlb);
});

/** free_pgtables(tlb, vma, floor, ceiling) (mm/memory.c): unlink the VMAs from their files, free the page tables. */
const free_pgtables = frame('free_pgtables', function* (tlb: mmu_gather, vmas: readonly vm_area_struct[], start: number, end: number): Gen<void> {
  for (const v of vmas) yield* unlink_file_vma(v);
  yield* free_pgtables_range(tlb, start, end);
});

/**
 * remove_vma(vma) (mm/mmap.c): vma->vm_ops->close(vma); fput(vma->vm_file); vm_area_free(vma).
 */
const remove_vma = frame('remove_vma', function* (vma: vm_area_struct): Gen<void> {
  if (vma.vm_ops?.close) yield* vma.vm_ops.close(vma);
  vma.vm_file = null;
});

/**
 * mmap_region(file, addr, len, vm_flags, pgoff) (mm/mmap.c; __mmap_region() in v6.12+):
 * vm_area_alloc() (a fault point); for a file mapping call_mmap(file, vma) (the driver's
 * ->mmap, e.g. p2pmem_alloc_mmap(), which may insert pages); on its failure
 * `unmap_and_free_vma`: drop the file and unmap_region() over the VMA to undo any partial
 * mapping done by the driver, then free the VMA; else vma_link(). Returns addr or -errno.
 */
export const mmap_region = frame('mmap_region', function* (mm: mm_struct, f: file | null, addr: number, len: number, vm_flags: number, pgoff: number): Gen<number> {
  const end = addr + len;
  yield* step('find_vma_links(mm, addr, addr + len)', read(mm.mm_mt));
  if (mm.mm_mt.some((v) => v.vm_start < end && v.vm_end > addr)) throw new Error('mmap_region: mapping over an existing VMA (MAP_FIXED unmapping) is not modelled');
  const vma = yield* vm_area_alloc(mm, addr, end, vm_flags);
  if (!vma) return -ENOMEM;
  vma.vm_pgoff = pgoff;
  vma.vm_page_prot = vm_flags & VM_SHARED ? 'PAGE_SHARED' : 'PAGE_COPY';
  if (f) {
    vma.vm_file = f;
    const error: number = f.mmap ? yield* f.mmap(f, vma) : -ENODEV;
    if (error) {
      // unmap_and_free_vma: vma->vm_file = NULL; fput(file); undo any partial mapping done by
      // a device driver.
      vma.vm_file = null;
      yield* unmap_region(mm, [vma], vma.vm_start, vma.vm_end);
      return error;
    }
  }
  yield* vma_link(mm, vma);
  return addr;
});

/**
 * vm_mmap(file, addr, len, prot, flag, offset) → vm_mmap_pgoff(): mmap_write_lock(mm);
 * do_mmap() → mmap_region(); mmap_write_unlock(mm). `vm_flags` stands for what do_mmap()
 * computes from prot and flags (e.g. VM_READ|VM_WRITE|VM_SHARED|VM_MAYREAD|VM_MAYWRITE|
 * VM_MAYSHARE for PROT_READ|PROT_WRITE, MAP_SHARED). Returns addr or -errno.
 */
export const vm_mmap = frame('vm_mmap', function* (mm: mm_struct, f: file | null, addr: number, len: number, vm_flags: number, pgoff: number = 0): Gen<number> {
  if (len <= 0 || addr % PAGE_SIZE !== 0 || len % PAGE_SIZE !== 0) return -EINVAL;
  yield* mmap_write_lock(mm);
  const ret = yield* mmap_region(mm, f, addr, len, vm_flags, pgoff);
  yield* mmap_write_unlock(mm);
  return ret;
});

/**
 * do_munmap(mm, start, len) (mm/mmap.c; do_vmi_munmap() in v6.x): detach the VMAs of the range
 * from the mm, unmap_region() over them, remove_vma() each. The caller holds the mmap lock for
 * write.
 */
export const do_munmap = frame('do_munmap', function* (mm: mm_struct, start: number, len: number): Gen<number> {
  if (start % PAGE_SIZE !== 0 || len <= 0) return -EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  yield* step('detach_vmas_to_be_unmapped()', write(mm.mm_mt));
  const vmas = mm.mm_mt.filter((v) => v.vm_start < end && v.vm_end > start);
  if (vmas.some((v) => v.vm_start < start || v.vm_end > end)) throw new Error('do_munmap: splitting a VMA is not modelled');
  for (const v of vmas) mm.mm_mt.splice(mm.mm_mt.indexOf(v), 1);
  if (vmas.length === 0) return 0;
  yield* unmap_region(mm, vmas, start, end);
  for (const v of vmas) yield* remove_vma(v);
  return 0;
});

/** vm_munmap(start, len) / the munmap() syscall: mmap_write_lock(); do_munmap(); unlock. */
export const vm_munmap = frame('vm_munmap', function* (mm: mm_struct, start: number, len: number): Gen<number> {
  yield* mmap_write_lock(mm);
  const ret = yield* do_munmap(mm, start, len);
  yield* mmap_write_unlock(mm);
  return ret;
});

const RSS_NAMES = ['MM_FILEPAGES', 'MM_ANONPAGES', 'MM_SWAPENTS', 'MM_SHMEMPAGES'];

/**
 * exit_mmap(mm) (mm/mmap.c), as process exit (mmput() of the last user) runs it: unmap every
 * VMA (tlb_gather_mmu(); unmap_vmas(); free_pgtables(); tlb_finish_mmu()), then remove_vma()
 * each. v6.x takes the mmap lock (read, then write) around this; v5.1 does not. Then the
 * check_mm() of __mmdrop(): "BUG: Bad rss-counter state" for a counter left non-zero.
 */
export const exit_mmap = frame('exit_mmap', function* (mm: mm_struct): Gen<void> {
  const locked = patched('memremap-pgmap-owned-ref');
  if (locked) yield* mmap_write_lock(mm);
  yield* step('vma = mm->mmap (the whole VMA tree)', write(mm.mm_mt));
  const vmas = [...mm.mm_mt];
  const tlb = new mmu_gather(mm);
  yield* tlb_gather_mmu(tlb, mm);
  yield* unmap_vmas(tlb, vmas, 0, Number.MAX_SAFE_INTEGER);
  yield* free_pgtables(tlb, vmas, 0, Number.MAX_SAFE_INTEGER);
  yield* tlb_finish_mmu(tlb);
  for (const v of vmas) yield* remove_vma(v);
  yield* step('mm->mmap = NULL', write(mm.mm_mt));
  mm.mm_mt.length = 0;
  mm.exited = true;
  if (locked) yield* mmap_write_unlock(mm);
  // __mmdrop() → check_mm(mm)
  yield* step('check_mm(mm)', ...mm.rss_stat.map((c) => read(c)));
  for (const i of [MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES]) {
    const v = mm.rss_stat[i]!.counter;
    if (v !== 0) {
      yield* log(`BUG: Bad rss-counter state mm:${mm.comm} type:${RSS_NAMES[i]} val:${v}`);
      yield* report('bug', `BUG: Bad rss-counter state mm:${mm.comm} type:${RSS_NAMES[i]} val:${v}`);
    }
  }
});
