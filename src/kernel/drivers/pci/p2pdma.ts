// drivers/pci/p2pdma.c: PCI peer-to-peer DMA — publishing a BAR as p2pmem (ZONE_DEVICE pages
// of type MEMORY_DEVICE_PCI_P2PDMA in a genalloc pool), allocating from it in the kernel
// (pci_alloc_p2pmem) and, from v6.2, from user space through the sysfs "allocate" file
// (p2pmem_alloc_mmap), DMA-mapping it, and the teardown at driver unbind.
//
// Sources read (torvalds/linux and the patch mails):
// - v5.1: drivers/pci/p2pdma.c @ 02917e9f86 (one percpu_ref devmap_ref per device).
// - v5.2: seed 001, "[PATCH v2 3/6] PCI/P2PDMA: Fix the gen_pool_add_virt() failure path",
//   "[PATCH v2 5/6] PCI/P2PDMA: Track pgmap references per resource, not globally" (read),
//   "[PATCH v2 6/6] mm/devm_memremap_pages: Fix final page put race" (pgmap->cleanup).
// - "PCI/P2PDMA: finish RCU conversion of pdev->p2pdma" (Eric Dumazet, 2021; read).
// - v6.2..v6.14: the p2pdma.c of 7e9c7ef83d78 and later (the allocate file, page_free, pgmap
//   first in pci_p2pdma_pagemap); v6.15: seed 000 (b7e282378773).
// - later fixes: cb500023a752 (inverted VM_WARN), 6220694c52a5 (percpu_ref_put when
//   vm_insert_page fails), Sungho Kim 2025-08 (devm_kfree(p2p_pgmap)), Alistair Popple
//   2026-01 (set_page_count(page, 0) when vm_insert_page fails).
// - newest: the mainline p2pdma.c with pcim_p2pdma_init(), a p2pdma_provider per BAR,
//   pci_p2pdma_setup_pool(), p2pdma_folio_free(), devm_add_action() + mappings_remove.
//
// Tree differences, each hunk branching on its patch (see src/history/patches.ts):
// - 'p2pdma-fix-gen-pool-add-failure' (seed 001 3/6): the gen_pool_add failure unmaps the pages
//   (pages_free: devm_memunmap_pages) before freeing the pgmap.
// - 'p2pdma-per-resource-ref' (seed 001 5/6): struct p2pdma_pagemap with its own percpu_ref and
//   completion per add_resource() call, recorded as the genalloc chunk owner; pci_alloc_p2pmem()
//   under rcu_read_lock(), ref taken on the chunk's owner after the allocation; release clears
//   pdev->p2pdma and synchronize_rcu()s. On that series point alone the cleanup is a devm action
//   (FIXME in the patch) and a memremap failure goes to `ref_exit` (a label the patch does not
//   define: modelled as its ref_cleanup).
// - 'memremap-fix-final-page-put-race' (seed 001 6/6): pgmap->cleanup = pci_p2pdma_percpu_cleanup.
// - 'memremap-pgmap-owned-ref' (consolidated v5.3+): the pgmap owns its ref; struct
//   pci_p2pdma_pagemap { pgmap, provider, bus_offset }; the chunk owner is &pgmap->ref;
//   map_types xarray; DMA mapping through pci_p2pdma_map_segment() (dma-direct).
// - 'p2pdma-rcu-pdev': pdev->p2pdma is __rcu; readers under rcu_read_lock() with NULL checks;
//   setup publishes the pointer after the sysfs group exists.
// - 'p2pdma-allocate-mmap' (7e9c7ef83d78, v6.2): the "allocate" bin attribute and
//   p2pmem_alloc_mmap(), pgmap->ops->page_free = p2pdma_page_free, pci_p2pdma_unmap_mappings().
// - 'zone-device-folio' (consolidated v6.x): stands here also for 4a7ce8334965 (v6.7), which
//   moved pgmap to the third member of pci_p2pdma_pagemap, so that devm_kfree(pgmap) no longer
//   frees the allocation (no patch id covers that commit; said in the report).
// - 'p2pdma-refcount-init-to-p2pdma' (seed 000): set_page_count(page, 1) and the (inverted)
//   VM_WARN_ON_ONCE_PAGE before vm_insert_page().
// - 'p2pdma-fix-inverted-vm-warn', 'p2pdma-put-ref-on-insert-failure',
//   'p2pdma-reset-count-on-insert-failure', 'p2pdma-devm-kfree-p2p-pgmap': as their names say.
// - 'mm-zone-device-folio-free-op': p2pdma_folio_free() as ops->folio_free.
// - 'p2pdma-provider-per-bar' (newest): pcim_p2pdma_init(), pcim_p2pdma_provider(),
//   pci_p2pdma_setup_pool(), pci_p2pdma_pagemap { pgmap, mem }, unmap_mappings registered with
//   devm_add_action() and removed on the error path.
//
// Shared objects: pdev (pdev->p2pdma), the pci_p2pdma (its pool pointer and published flag),
// the pci_p2pdma_pagemap / dev_pagemap (their fields), the pool's chunks (lib/genalloc.ts), the
// percpu_refs (include/linux/percpu-refcount.ts), the struct pages (mm/).
//
// Embedded structs. struct dev_pagemap inside pci_p2pdma_pagemap, the percpu_refs inside
// pci_p2pdma / p2pdma_pagemap and the providers inside pci_p2pdma are separate JS objects here;
// member() below makes each of them report a use-after-free once its containing allocation is
// freed, as KASAN would for the containing object's memory. (&pgmap->ref of the v5.3+ pgmap is
// created by include/linux/memremap.ts and is not covered: see the report.)
//
// Not modelled: the ACS / host-bridge-whitelist part of the distance calculation (the model's
// PCI topology has no ACS capabilities: a common upstream bridge means PCI_P2PDMA_MAP_BUS_ADDR,
// none means NOT_SUPPORTED), pci_p2pdma_enable_store/show, pci_p2pmem_find_many's random pick
// (the first of the closest), dma_virt_ops, the newest tree's TLP-class map types.

import { Failure, frame, type Gen, read, step, write } from '../../../engine/ops.js';
import { panic, WARN_ON, WARN_ON_ONCE } from '../../include/asm-generic/bug.js';
import { IS_ERR, PTR_ERR } from '../../include/linux/err.js';
import { GFP_KERNEL } from '../../include/linux/gfp.js';
import { gen_pool_add_virt, gen_pool_alloc, gen_pool_alloc_owner, type gen_pool, type gen_pool_chunk, gen_pool_free, type ptr_ref } from '../../include/linux/genalloc.js';
import { dev_pagemap, MEMORY_DEVICE_PCI_P2PDMA, type dev_pagemap_ops } from '../../include/linux/memremap.js';
import { type page, type folio, type vm_area_struct, VM_MAYSHARE, type file } from '../../include/linux/mm_types.js';
import { page_to_virt, PAGE_SIZE, put_page, virt_to_page } from '../../include/linux/mm.js';
import { VM_WARN_ON_ONCE_PAGE } from '../../include/linux/mmdebug.js';
import { page_ref_count, set_page_count } from '../../include/linux/page_ref.js';
import { percpu_ref, percpu_ref_func, percpu_ref_get, percpu_ref_is_dying, percpu_ref_kill, percpu_ref_put, percpu_ref_tryget_live, percpu_ref_tryget_live_rcu } from '../../include/linux/percpu-refcount.js';
import { EINVAL, ENODEV, ENOMEM, EOPNOTSUPP } from '../../include/uapi/errno.js';
import { type Access } from '../../../engine/ops.js';
import { current_task, rcu_assign_pointer, rcu_dereference_protected, RCU_INIT_POINTER, rcu_read_lock_in_step, rcu_read_unlock, rcu_read_unlock_in_step, synchronize_rcu, task_access } from '../../kernel/rcu/tree.js';
import { complete, complete_all, completion, init_completion, wait_for_completion } from '../../kernel/sched/completion.js';
import { kref, kref_get, kref_init, kref_put, kref_read } from '../../include/linux/kref.js';
import { xa_destroy, xa_get, xa_set, xa_store_alloc, xarray } from '../../lib/xarray.js';
import { scatterlist, sg_page, sg_phys, sg_set_buf, sg_virt } from '../../include/linux/scatterlist.js';
import { gen_pool_add_owner, gen_pool_create, gen_pool_destroy, gen_pool_for_each_chunk, gen_pool_free_owner, gen_pool_avail, gen_pool_size, gen_pool_virt_to_phys } from '../../lib/genalloc.js';
import { percpu_ref_exit, percpu_ref_init } from '../../lib/percpu-refcount.js';
import { patched } from '../../machine.js';
import { alloc_free_tracks, embedMember, isPoisoned, tracked } from '../../mm/kasan.js';
import { devm_memremap_pages, devm_memunmap_pages } from '../../mm/memremap.js';
import { vm_insert_page } from '../../mm/memory.js';
import { kfree, kmalloc, kzalloc } from '../../mm/slab.js';
import { attribute, attribute_group, bin_attribute, DEVICE_ATTR_RO, dev_kobj, type device_attribute, kobj_to_dev, type kobject, sysfs_create_group, sysfs_remove_file_from_group, sysfs_remove_group } from '../../fs/sysfs.js';
import type { device } from '../base/core.js';
import { devm_add_action, devm_add_action_or_reset, devm_kfree, devm_kzalloc, devm_remove_action } from '../base/devres.js';
import {
  dev_is_pci,
  IORESOURCE_MEM,
  PCI_STD_NUM_BARS,
  pci_bus_address,
  type pci_dev,
  pci_dev_get,
  pci_dev_put,
  pci_get_device,
  pci_info,
  pci_info_ratelimited,
  pci_warn,
  pci_name,
  pci_resource_flags,
  pci_resource_len,
  pci_resource_start,
  pci_upstream_bridge,
  to_pci_dev,
} from './pci.js';

const FILE = 'drivers/pci/p2pdma.c';
const PAGE_SHIFT = 12;

// ---- embedded members ----

/**
 * A struct embedded in another allocation: every access of `member` after `container` has been
 * freed is KASAN's use-after-free of the container's memory (the member is part of it).
 */
function member<T extends object>(container: object, obj: T, what: string): T {
  const check = (prop: string | symbol, access: 'read' | 'write'): void => {
    // `name` is the model's label for messages, not kernel memory.
    if (typeof prop === 'symbol' || prop === 'name') return;
    const t = tracked(container);
    if (t && isPoisoned(container) && t.poison === 'freed') {
      throw new Failure('kasan', `BUG: KASAN: use-after-free: ${access} of ${what}.${prop} (in ${t.what}, allocated by ${t.allocatedBy})`, alloc_free_tracks(t));
    }
  };
  const proxy = new Proxy(obj, {
    get(target, prop, receiver) {
      check(prop, 'read');
      return Reflect.get(target, prop, receiver) as unknown;
    },
    set(target, prop, value, receiver) {
      check(prop, 'write');
      return Reflect.set(target, prop, value, receiver);
    },
  });
  embedMember(container, proxy, obj);
  return proxy;
}

/**
 * The allocation holding a percpu_ref the pool hands out as a chunk owner (the pci_p2pdma of
 * v5.1's devmap_ref, the p2pdma_pagemap of v5.2's ref, the pci_p2pdma_pagemap of a v5.3+
 * &pgmap->ref).
 */
const ref_container = new WeakMap<object, object>();

/**
 * The first access of percpu_ref_tryget_live(ref) reads the ref's memory, which is part of the
 * allocation holding it: a step reading that allocation (so that exploration orders it against
 * the allocation's kfree), and KASAN's report when it has been freed. The percpu_ref object of
 * a v5.3+ pgmap belongs to include/linux/memremap.ts and does not report by itself.
 */
function* read_ref_memory(ref: percpu_ref, field: string): Gen<void> {
  const c = ref_container.get(ref);
  if (!c) return;
  yield* step(`READ_ONCE(${field}->percpu_count_ptr)`, read(c));
  const t = tracked(c);
  if (t && t.poison === 'freed') throw new Failure('kasan', `BUG: KASAN: use-after-free: read of ${field}.percpu_count_ptr (in ${t.what}, allocated by ${t.allocatedBy})`, alloc_free_tracks(t));
}

/** Dereferencing a NULL pointer: the oops of the kernel. */
function deref<T>(p: T | null | undefined, what: string, where: string): T {
  if (p === null || p === undefined) panic(`BUG: kernel NULL pointer dereference: ${what} in ${where}`);
  return p;
}

/**
 * rcu_read_lock(); p = rcu_dereference(holder->field): one step. The read-side nesting change is
 * thread-local; it is fused into the section's first shared access (as lib/percpu-refcount.ts
 * does), which moves no shared access and loses no behaviour: a grace period that starts between
 * the two in the kernel orders the same way against the dereference.
 */
function* rcu_lock_deref<T extends object, K extends keyof T & string>(holder: T, field: K, label: string): Gen<T[K]> {
  const t = yield* current_task();
  yield* step(`rcu_read_lock(); ${label}`, read(holder), ...task_access(t, 'rcu_read_lock'));
  rcu_read_lock_in_step(t);
  return holder[field];
}

/** The section's last shared access fused with rcu_read_unlock(): `body` runs inside the step. */
function* rcu_last_unlock<R>(label: string, access: readonly Access[], body: () => R): Gen<R> {
  const t = yield* current_task();
  yield* step(`${label}; rcu_read_unlock()`, ...access, ...task_access(t, 'rcu_read_unlock'));
  const r = body();
  rcu_read_unlock_in_step(t);
  return r;
}

/** dev_to_node(dev): NUMA_NO_NODE in the model's single-node machine. */
function dev_to_node(_dev: device): number {
  return -1;
}

// ---- structs ----

/** struct p2pdma_provider (include/linux/pci-p2pdma.h, newest): owner device and bus offset. */
export class p2pdma_provider {
  owner: device | null = null;
  bus_offset = 0;
}

/**
 * struct pci_p2pdma, the union of the trees' fields: v5.1 devmap_ref + devmap_ref_done; pool
 * and p2pmem_published in every tree; map_types (v5.3+ era); mem[] (newest).
 */
export class pci_p2pdma {
  devmap_ref: percpu_ref = new percpu_ref('p2pdma->devmap_ref');
  devmap_ref_done: completion = new completion('p2pdma->devmap_ref_done');
  /** What-if p2pdma-device-kref (v5.1): the pgmaps whose kill has not run yet. */
  kref: kref = new kref(0);
  pool: gen_pool | null = null;
  p2pmem_published = false;
  map_types = new xarray<number>('p2pdma->map_types');
  mem: p2pdma_provider[] = [];
}

/**
 * struct p2pdma_pagemap (v5.2: pgmap, ref, ref_done) / struct pci_p2pdma_pagemap (v5.3+:
 * pgmap, provider, bus_offset; newest: pgmap, mem). The union of the fields.
 */
export class pci_p2pdma_pagemap {
  pgmap: dev_pagemap = new dev_pagemap();
  /** v5.2 only. */
  ref: percpu_ref = new percpu_ref('p2p_pgmap->ref');
  /** v5.2 only. */
  ref_done: completion = new completion('p2p_pgmap->ref_done');
  /** v5.3 .. v6.x. */
  provider: pci_dev | null = null;
  bus_offset = 0;
  /** newest. */
  mem: p2pdma_provider | null = null;
}
export type p2pdma_pagemap = pci_p2pdma_pagemap;

/** container_of(): embedded member → its container (pointer arithmetic, reads no memory). */
const p2pdma_of_ref = new WeakMap<object, pci_p2pdma>();
const p2pdma_of_kref = new WeakMap<object, pci_p2pdma>();
const p2p_pgmap_of = new WeakMap<object, pci_p2pdma_pagemap>();

/** Makes a devm_kzalloc'ed pci_p2pdma's members die with it. */
function embed_p2pdma(p2p: pci_p2pdma): void {
  p2p.devmap_ref = member(p2p, p2p.devmap_ref, 'struct pci_p2pdma.devmap_ref');
  p2p.devmap_ref_done = member(p2p, p2p.devmap_ref_done, 'struct pci_p2pdma.devmap_ref_done');
  p2p.kref = member(p2p, p2p.kref, 'struct pci_p2pdma.kref');
  p2p.map_types = member(p2p, p2p.map_types, 'struct pci_p2pdma.map_types');
  p2pdma_of_kref.set(p2p.kref, p2p);
  p2pdma_of_ref.set(p2p.devmap_ref, p2p);
  ref_container.set(p2p.devmap_ref, p2p);
  if (patched('p2pdma-provider-per-bar')) {
    for (let i = 0; i < PCI_STD_NUM_BARS; i++) p2p.mem.push(member(p2p, new p2pdma_provider(), `struct pci_p2pdma.mem[${i}]`));
  }
}

/** Makes a devm_kzalloc'ed pci_p2pdma_pagemap's members die with it. */
function embed_p2p_pgmap(p: pci_p2pdma_pagemap): void {
  p.pgmap = member(p, p.pgmap, 'struct dev_pagemap (in pci_p2pdma_pagemap)');
  p.ref = member(p, p.ref, 'struct p2pdma_pagemap.ref');
  p.ref_done = member(p, p.ref_done, 'struct p2pdma_pagemap.ref_done');
  p2p_pgmap_of.set(p.pgmap, p);
  p2p_pgmap_of.set(p.ref, p);
  ref_container.set(p.ref, p);
}

/** to_p2p_pgmap(pgmap) (v5.3+) / to_p2p_pgmap(ref) (v5.2): container_of. */
function to_p2p_pgmap(x: dev_pagemap | percpu_ref): pci_p2pdma_pagemap {
  const p = p2p_pgmap_of.get(x);
  if (!p) throw new Error('to_p2p_pgmap: not a member of a pci_p2pdma_pagemap');
  return p;
}

// ---- the sysfs group "p2pmem" ----

/**
 * The v5.1/v5.2 show functions read pdev->p2pdma->pool (or ->p2pmem_published) with plain loads
 * and no NULL check; from the RCU conversion under rcu_read_lock() with a NULL check.
 */
function* old_p2pdma_field<K extends 'pool' | 'p2pmem_published'>(pdev: pci_dev, field: K, where: string): Gen<pci_p2pdma[K]> {
  yield* step('pdev->p2pdma', read(pdev));
  const p2pdma = deref(pdev.p2pdma, `pdev->p2pdma->${field}`, where);
  yield* step(`pdev->p2pdma->${field}`, read(p2pdma));
  return p2pdma[field];
}

/** size_show (v5.1/v5.2: pdev->p2pdma->pool unchecked; rcu era: under RCU with NULL checks). */
const size_show = frame('size_show', function* (dev: device, _attr: device_attribute): Gen<string> {
  const pdev = to_pci_dev(dev);
  let size = 0;
  if (patched('p2pdma-rcu-pdev')) {
    const p2pdma = yield* rcu_lock_deref(pdev, 'p2pdma', 'p2pdma = rcu_dereference(pdev->p2pdma)');
    if (p2pdma) {
      yield* step('if (p2pdma && p2pdma->pool)', read(p2pdma));
      const pool = p2pdma.pool;
      if (pool) size = yield* gen_pool_size(pool);
    }
    yield* rcu_read_unlock();
  } else {
    if (yield* old_p2pdma_field(pdev, 'pool', 'size_show')) size = yield* gen_pool_size(deref(yield* old_p2pdma_field(pdev, 'pool', 'size_show'), 'pool', 'size_show'));
  }
  return `${size}\n`;
});

/** available_show: as size_show with gen_pool_avail(). */
const available_show = frame('available_show', function* (dev: device, _attr: device_attribute): Gen<string> {
  const pdev = to_pci_dev(dev);
  let avail = 0;
  if (patched('p2pdma-rcu-pdev')) {
    const p2pdma = yield* rcu_lock_deref(pdev, 'p2pdma', 'p2pdma = rcu_dereference(pdev->p2pdma)');
    if (p2pdma) {
      yield* step('if (p2pdma && p2pdma->pool)', read(p2pdma));
      const pool = p2pdma.pool;
      if (pool) avail = yield* gen_pool_avail(pool);
    }
    yield* rcu_read_unlock();
  } else {
    if (yield* old_p2pdma_field(pdev, 'pool', 'available_show')) avail = yield* gen_pool_avail(deref(yield* old_p2pdma_field(pdev, 'pool', 'available_show'), 'pool', 'available_show'));
  }
  return `${avail}\n`;
});

/** published_show. */
const published_show = frame('published_show', function* (dev: device, _attr: device_attribute): Gen<string> {
  const pdev = to_pci_dev(dev);
  let published = false;
  if (patched('p2pdma-rcu-pdev')) {
    const p2pdma = yield* rcu_lock_deref(pdev, 'p2pdma', 'p2pdma = rcu_dereference(pdev->p2pdma)');
    if (p2pdma) published = yield* rcu_last_unlock('published = p2pdma->p2pmem_published', [read(p2pdma)], () => p2pdma.p2pmem_published);
    else yield* rcu_read_unlock();
  } else {
    published = yield* old_p2pdma_field(pdev, 'p2pmem_published', 'published_show');
  }
  return `${published ? 1 : 0}\n`;
});

const dev_attr_size = DEVICE_ATTR_RO('size', size_show);
const dev_attr_available = DEVICE_ATTR_RO('available', available_show);
const dev_attr_published = DEVICE_ATTR_RO('published', published_show);

/**
 * p2pmem_alloc_mmap(filp, kobj, attr, vma) (patched('p2pdma-allocate-mmap'), v6.2+): the
 * ->mmap of the sysfs "allocate" file. Shared mappings at offset 0 only; under RCU allocate
 * the whole length from the pool, take a reference on the chunk owner's pgmap ref
 * (percpu_ref_tryget_live_rcu); then insert each page: (v6.15+) VM_WARN_ON_ONCE_PAGE and
 * set_page_count(page, 1), vm_insert_page(), percpu_ref_get(ref) and put_page(page), so that
 * each mapped page holds one pgmap reference and its mapping holds the page.
 * On a vm_insert_page() failure: gen_pool_free() of the rest, and from the later fixes
 * set_page_count(page, 0) and percpu_ref_put(ref).
 */
const p2pmem_alloc_mmap = frame('p2pmem_alloc_mmap', function* (_filp: file, kobj: kobject, _attr: bin_attribute, vma: vm_area_struct): Gen<number> {
  const pdev = to_pci_dev(kobj_to_dev(kobj));
  let len = vma.vm_end - vma.vm_start;
  let ret: number;

  // prevent private mappings from being established
  if ((vma.vm_flags & VM_MAYSHARE) !== VM_MAYSHARE) {
    yield* pci_info_ratelimited(pdev, `${vma.vm_mm.comm}: fail, attempted private mapping`);
    return -EINVAL;
  }
  if (vma.vm_pgoff) {
    yield* pci_info_ratelimited(pdev, `${vma.vm_mm.comm}: fail, attempted mapping with non-zero offset`);
    return -EINVAL;
  }

  const p2pdma = yield* rcu_lock_deref(pdev, 'p2pdma', 'p2pdma = rcu_dereference(pdev->p2pdma)');
  out: {
    if (!p2pdma) {
      ret = -ENODEV;
      break out;
    }
    yield* step('p2pdma->pool', read(p2pdma));
    const pool = deref(p2pdma.pool, 'p2pdma->pool', 'p2pmem_alloc_mmap');
    const owner: ptr_ref<percpu_ref> = { value: null };
    let kaddr = yield* gen_pool_alloc_owner(pool, len, owner);
    if (!kaddr) {
      ret = -ENOMEM;
      break out;
    }
    const ref = owner.value!;

    // vm_insert_page() can sleep, so a reference is taken to mapping such that
    // rcu_read_unlock() can be done before inserting the pages
    yield* read_ref_memory(ref, 'struct pci_p2pdma_pagemap.pgmap.ref');
    if (!(yield* percpu_ref_tryget_live_rcu(ref))) {
      ret = -ENODEV;
      // out_free_mem:
      yield* gen_pool_free(pool, kaddr, len);
      break out;
    }
    yield* rcu_read_unlock();

    for (let vaddr = vma.vm_start; vaddr < vma.vm_end; vaddr += PAGE_SIZE) {
      const p = virt_to_page(kaddr);
      if (patched('p2pdma-refcount-init-to-p2pdma')) {
        // Initialise the refcount for the freshly allocated page. As we have just allocated
        // the page no one else should be using it.
        const count = yield* page_ref_count(p);
        if (patched('p2pdma-fix-inverted-vm-warn')) yield* VM_WARN_ON_ONCE_PAGE(count !== 0, p, `${FILE} p2pmem_alloc_mmap`, 'page_ref_count(page)');
        else yield* VM_WARN_ON_ONCE_PAGE(count === 0, p, `${FILE} p2pmem_alloc_mmap`, '!page_ref_count(page)');
        yield* set_page_count(p, 1);
      }
      ret = yield* vm_insert_page(vma, vaddr, p);
      if (ret) {
        yield* gen_pool_free(pool, kaddr, len);
        // Reset the page count. We don't use put_page() because we don't want to trigger the
        // p2pdma_folio_free() path.
        if (patched('p2pdma-reset-count-on-insert-failure')) yield* set_page_count(p, 0);
        if (patched('p2pdma-put-ref-on-insert-failure')) yield* percpu_ref_put(ref);
        return ret;
      }
      yield* percpu_ref_get(ref);
      yield* put_page(p);
      kaddr += PAGE_SIZE;
      len -= PAGE_SIZE;
    }
    yield* percpu_ref_put(ref);
    return 0;
  }
  // out:
  yield* rcu_read_unlock();
  return ret;
});

/** SZ_1T: the allocate file's size ("python checks the file size before mmap"). */
const SZ_1T = 2 ** 40;

/** p2pmem_alloc_attr: bin attribute "allocate", 0660, .mmap = p2pmem_alloc_mmap. */
const p2pmem_alloc_attr = new bin_attribute(new attribute('allocate', 0o660), SZ_1T, p2pmem_alloc_mmap);

/** p2pmem_group: "p2pmem" with size, available, published (and, v6.2+, the bin attr allocate). */
function p2pmem_group(): attribute_group {
  const attrs = [dev_attr_size.attr, dev_attr_available.attr, dev_attr_published.attr];
  return patched('p2pdma-allocate-mmap') ? group_with_mmap(attrs) : group_plain(attrs);
}
let group_plain_cache: attribute_group | null = null;
let group_mmap_cache: attribute_group | null = null;
function group_plain(attrs: attribute[]): attribute_group {
  return (group_plain_cache ??= new attribute_group('p2pmem', attrs));
}
function group_with_mmap(attrs: attribute[]): attribute_group {
  return (group_mmap_cache ??= new attribute_group('p2pmem', attrs, [p2pmem_alloc_attr]));
}

// ---- page free (v6.2+) ----

/**
 * p2pdma_page_free(page) (patched('p2pdma-allocate-mmap') until 'mm-zone-device-folio-free-op'):
 * ops->page_free, called when a p2pdma page's refcount drops to 0 (its last user mapping gone):
 * give the page back to the pool and drop the pgmap reference its mapping held.
 * "safe to dereference while a reference is held to the percpu ref".
 */
export const p2pdma_page_free = frame('p2pdma_page_free', function* (p: page): Gen<void> {
  yield* step('pgmap = to_p2p_pgmap(page->pgmap)', read(p));
  const p2p_pgmap = to_p2p_pgmap(deref(p.pgmap, 'page->pgmap', 'p2pdma_page_free'));
  yield* free_page_to_pool(p, p2p_pgmap, 'p2pdma_page_free');
});

/** p2pdma_folio_free(folio) (newest, ops->folio_free): the same for the folio's page. */
export const p2pdma_folio_free = frame('p2pdma_folio_free', function* (f: folio): Gen<void> {
  const p = f;
  yield* step('pgmap = to_p2p_pgmap(page_pgmap(page))', read(p));
  const p2p_pgmap = to_p2p_pgmap(deref(p.pgmap, 'page_pgmap(page)', 'p2pdma_folio_free'));
  yield* free_page_to_pool(p, p2p_pgmap, 'p2pdma_folio_free');
});

function* free_page_to_pool(p: page, p2p_pgmap: pci_p2pdma_pagemap, where: string): Gen<void> {
  let provider: pci_dev;
  if (patched('p2pdma-provider-per-bar')) {
    yield* step('to_pci_dev(pgmap->mem->owner)', read(p2p_pgmap));
    const mem = deref(p2p_pgmap.mem, 'pgmap->mem', where);
    provider = to_pci_dev(deref(mem.owner, 'pgmap->mem->owner', where));
  } else {
    yield* step('pgmap->provider', read(p2p_pgmap));
    provider = deref(p2p_pgmap.provider, 'pgmap->provider', where);
  }
  const p2pdma = deref(yield* rcu_dereference_protected(provider, 'p2pdma'), 'p2pdma', where);
  yield* step('p2pdma->pool', read(p2pdma));
  const pool = deref(p2pdma.pool, 'p2pdma->pool', where);
  const owner: ptr_ref<percpu_ref> = { value: null };
  yield* gen_pool_free_owner(pool, page_to_virt(p), PAGE_SIZE, owner);
  yield* percpu_ref_put(deref(owner.value, 'ref', where));
}

/** p2pdma_pgmap_ops: .page_free (v6.2+) or .folio_free (newest). */
function p2pdma_pgmap_ops(): dev_pagemap_ops {
  return patched('mm-zone-device-folio-free-op') ? OPS_FOLIO : OPS_PAGE;
}
const OPS_PAGE: dev_pagemap_ops = { page_free: p2pdma_page_free };
const OPS_FOLIO: dev_pagemap_ops = { folio_free: p2pdma_folio_free };

// ---- percpu_ref callbacks ----

/**
 * pci_p2pdma_percpu_release(ref): v5.1 complete_all(&p2p->devmap_ref_done) of the device;
 * v5.2 complete(&p2p_pgmap->ref_done) of the resource.
 */
const pci_p2pdma_percpu_release = percpu_ref_func(
  'pci_p2pdma_percpu_release',
  frame('pci_p2pdma_percpu_release', function* (ref: percpu_ref): Gen<void> {
    if (patched('p2pdma-per-resource-ref')) {
      const p2p_pgmap = to_p2p_pgmap(ref);
      yield* complete(p2p_pgmap.ref_done);
    } else {
      const p2p = p2pdma_of_ref.get(ref);
      if (!p2p) throw new Error('pci_p2pdma_percpu_release: not a pci_p2pdma devmap_ref');
      yield* complete_all(p2p.devmap_ref_done);
    }
  }),
);

/**
 * pci_p2pdma_percpu_kill(ref) (pgmap->kill, v5.1/v5.2). v5.1: "pci_p2pdma_add_resource() may
 * be called multiple times by a driver and may register the percpu_kill devm action multiple
 * times. We only want the first action to actually kill the percpu_ref." — return when dying.
 * v5.2: percpu_ref_kill(ref).
 * What-if p2pdma-wait-in-kill: then wait_for_completion(&p2p->devmap_ref_done).
 * What-if p2pdma-device-kref: kref_put(&p2p->kref, pci_p2pdma_kref_release) instead: the
 * last pgmap's kill kills the ref.
 */
const pci_p2pdma_percpu_kill = frame('pci_p2pdma_percpu_kill', function* (ref: percpu_ref): Gen<void> {
  if (patched('p2pdma-device-kref')) {
    const p2p = p2pdma_of_ref.get(ref)!;
    yield* kref_put(p2p.kref, pci_p2pdma_kref_release);
    return;
  }
  if (!patched('p2pdma-per-resource-ref')) {
    if (yield* percpu_ref_is_dying(ref)) return;
  }
  yield* percpu_ref_kill(ref);
  if (patched('p2pdma-wait-in-kill')) yield* wait_for_completion(p2pdma_of_ref.get(ref)!.devmap_ref_done);
});

/** What-if p2pdma-device-kref: pci_p2pdma_kref_release(kref): percpu_ref_kill(&p2p->devmap_ref). */
const pci_p2pdma_kref_release = frame('pci_p2pdma_kref_release', function* (k: kref): Gen<void> {
  yield* percpu_ref_kill(p2pdma_of_kref.get(k)!.devmap_ref);
});

/**
 * pci_p2pdma_percpu_cleanup(ref) (v5.2: pgmap->cleanup; on the 5/6 series point a devm action):
 * wait_for_completion(&p2p_pgmap->ref_done); percpu_ref_exit(&p2p_pgmap->ref).
 */
const pci_p2pdma_percpu_cleanup = frame('pci_p2pdma_percpu_cleanup', function* (ref: percpu_ref): Gen<void> {
  const p2p_pgmap = to_p2p_pgmap(ref);
  yield* wait_for_completion(p2p_pgmap.ref_done);
  yield* percpu_ref_exit(p2p_pgmap.ref);
});

// ---- setup and release ----

/**
 * pci_p2pdma_release(data) (the devm action of setup / pcim_p2pdma_init).
 * v5.1: if (!pdev->p2pdma) return; wait_for_completion(&devmap_ref_done); percpu_ref_exit;
 *   gen_pool_destroy(pool); sysfs_remove_group(p2pmem); pdev->p2pdma = NULL.
 * v5.2: p2pdma = pdev->p2pdma; if (!p2pdma) return; "Flush and disable pci_alloc_p2p_mem()":
 *   pdev->p2pdma = NULL; synchronize_rcu(); gen_pool_destroy(); sysfs_remove_group().
 * v5.3+ era: then xa_destroy(&p2pdma->map_types).
 * newest: RCU_INIT_POINTER(NULL); synchronize_rcu(); xa_destroy(); if (!pool) return;
 *   gen_pool_destroy(); sysfs_remove_group().
 */
export const pci_p2pdma_release = frame('pci_p2pdma_release', function* (pdev: pci_dev): Gen<void> {
  const where = 'pci_p2pdma_release';
  if (!patched('p2pdma-per-resource-ref')) {
    yield* step('if (!pdev->p2pdma)', read(pdev));
    const p2pdma = pdev.p2pdma;
    if (!p2pdma) return;
    if (!patched('p2pdma-wait-in-kill')) yield* wait_for_completion(p2pdma.devmap_ref_done);
    yield* percpu_ref_exit(p2pdma.devmap_ref);
    yield* step('pdev->p2pdma->pool', read(pdev), read(p2pdma));
    yield* gen_pool_destroy(deref(p2pdma.pool, 'pool', where));
    yield* sysfs_remove_group(dev_kobj(pdev.dev), p2pmem_group());
    yield* step('pdev->p2pdma = NULL', write(pdev));
    pdev.p2pdma = null;
    return;
  }

  const p2pdma = patched('p2pdma-rcu-pdev') ? yield* rcu_dereference_protected(pdev, 'p2pdma') : yield* plain_read_p2pdma(pdev);
  if (!p2pdma) return;

  // Flush and disable pci_alloc_p2p_mem()
  if (patched('p2pdma-provider-per-bar')) yield* RCU_INIT_POINTER(pdev, 'p2pdma', null);
  else {
    yield* step('pdev->p2pdma = NULL', write(pdev));
    pdev.p2pdma = null;
  }
  yield* synchronize_rcu();

  if (patched('p2pdma-provider-per-bar')) {
    yield* xa_destroy(p2pdma.map_types);
    yield* step('if (!p2pdma->pool)', read(p2pdma));
    const pool = p2pdma.pool;
    if (!pool) return;
    if (patched('p2pdma-free-pagemap-with-pool')) yield* gen_pool_for_each_chunk(pool, pci_p2pdma_free_pagemap);
    yield* gen_pool_destroy(pool);
    yield* sysfs_remove_group(dev_kobj(pdev.dev), p2pmem_group());
    return;
  }
  if (patched('p2pdma-per-resource-ref-v1')) {
    // v1 of the patch: gen_pool_destroy(pdev->p2pdma->pool), pdev->p2pdma set to NULL above.
    yield* step('pdev->p2pdma->pool', read(pdev));
    yield* gen_pool_destroy(deref(deref(pdev.p2pdma, 'pdev->p2pdma->pool', where).pool, 'pdev->p2pdma->pool', where));
  } else {
    yield* step('p2pdma->pool', read(p2pdma));
    yield* gen_pool_destroy(deref(p2pdma.pool, 'p2pdma->pool', where));
  }
  yield* sysfs_remove_group(dev_kobj(pdev.dev), p2pmem_group());
  if (patched('memremap-pgmap-owned-ref')) yield* xa_destroy(p2pdma.map_types);
});

function* plain_read_p2pdma(pdev: pci_dev): Gen<pci_p2pdma | null> {
  yield* step('p2pdma = pdev->p2pdma', read(pdev));
  return pdev.p2pdma;
}


/**
 * pci_p2pdma_setup(pdev) (before the newest tree): devm_kzalloc the pci_p2pdma; (v5.3+ era)
 * xa_init; gen_pool_create(PAGE_SHIFT); (v5.1) init_completion + percpu_ref_init(devmap_ref);
 * devm_add_action_or_reset(pci_p2pdma_release, pdev); (before the RCU conversion)
 * pdev->p2pdma = p2p; sysfs_create_group(p2pmem); (RCU conversion) rcu_assign_pointer.
 * Error labels: out_pool_destroy: ((before RCU) pdev->p2pdma = NULL;) gen_pool_destroy;
 * out: devm_kfree(p2p).
 */
const pci_p2pdma_setup = frame('pci_p2pdma_setup', function* (pdev: pci_dev): Gen<number> {
  let error = -ENOMEM;
  const p2p = yield* devm_kzalloc(pdev.dev, 'struct pci_p2pdma', () => new pci_p2pdma());
  if (!p2p) return -ENOMEM;
  embed_p2pdma(p2p);

  out: {
    // xa_init(&p2p->map_types): the zeroed xarray (v5.3+ era), no step.
    const pool = yield* gen_pool_create(PAGE_SHIFT, dev_to_node(pdev.dev));
    yield* step('p2p->pool = gen_pool_create()', write(p2p));
    p2p.pool = pool;
    if (!pool) break out;

    out_pool_destroy: {
      if (!patched('p2pdma-per-resource-ref')) {
        yield* init_completion(p2p.devmap_ref_done);
        error = yield* percpu_ref_init(p2p.devmap_ref, pci_p2pdma_percpu_release, 0, GFP_KERNEL);
        if (error) break out_pool_destroy;
      }

      error = yield* devm_add_action_or_reset(pdev.dev, pci_p2pdma_release, pdev);
      if (error) break out_pool_destroy;

      if (!patched('p2pdma-rcu-pdev')) {
        yield* step('pdev->p2pdma = p2p', write(pdev));
        pdev.p2pdma = p2p;
      }

      error = yield* sysfs_create_group(dev_kobj(pdev.dev), p2pmem_group());
      if (error) break out_pool_destroy;

      if (patched('p2pdma-rcu-pdev')) yield* rcu_assign_pointer(pdev, 'p2pdma', p2p);
      return 0;
    }
    // out_pool_destroy:
    if (!patched('p2pdma-rcu-pdev')) {
      yield* step('pdev->p2pdma = NULL', write(pdev));
      pdev.p2pdma = null;
    }
    yield* step('p2p->pool', read(p2p));
    yield* gen_pool_destroy(deref(p2p.pool, 'p2p->pool', 'pci_p2pdma_setup'));
  }
  // out:
  yield* devm_kfree(pdev.dev, p2p);
  return error;
});

/**
 * pcim_p2pdma_init(pdev) (newest): -EOPNOTSUPP for non-mappable BARs; 0 when already set up;
 * devm_kzalloc the pci_p2pdma; xa_init; a provider (owner, bus_offset) for every memory BAR;
 * devm_add_action_or_reset(pci_p2pdma_release, pdev) (out_p2p: devm_kfree); then
 * rcu_assign_pointer(pdev->p2pdma, p2p). No pool, no sysfs group.
 */
export const pcim_p2pdma_init = frame('pcim_p2pdma_init', function* (pdev: pci_dev): Gen<number> {
  if (pdev.non_mappable_bars) return -EOPNOTSUPP;
  const existing = yield* rcu_dereference_protected(pdev, 'p2pdma');
  if (existing) return 0;

  const p2p = yield* devm_kzalloc(pdev.dev, 'struct pci_p2pdma', () => new pci_p2pdma());
  if (!p2p) return -ENOMEM;
  embed_p2pdma(p2p);

  // Iterate over all standard PCI BARs and record only those that correspond to MMIO regions.
  for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
    if (!(pci_resource_flags(pdev, i) & IORESOURCE_MEM)) continue;
    const mem = p2p.mem[i]!;
    mem.owner = pdev.dev;
    mem.bus_offset = pci_bus_address(pdev, i) - pci_resource_start(pdev, i);
  }

  const ret = yield* devm_add_action_or_reset(pdev.dev, pci_p2pdma_release, pdev);
  if (ret) {
    // out_p2p:
    yield* devm_kfree(pdev.dev, p2p);
    return ret;
  }
  yield* rcu_assign_pointer(pdev, 'p2pdma', p2p);
  return 0;
});

/**
 * pcim_p2pdma_provider(pdev, bar) (newest): &p2p->mem[bar], NULL for a non-memory BAR;
 * WARN_ON(!p2p) "Someone forgot to call to pcim_p2pdma_init() before".
 */
export const pcim_p2pdma_provider = frame('pcim_p2pdma_provider', function* (pdev: pci_dev, bar: number): Gen<p2pdma_provider | null> {
  if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) || pdev.non_mappable_bars) return null;
  const p2p = yield* rcu_dereference_protected(pdev, 'p2pdma');
  if (yield* WARN_ON(!p2p, `${FILE} pcim_p2pdma_provider`, 'WARN_ON(!p2p)')) return null;
  return p2p!.mem[bar]!;
});

/**
 * pci_p2pdma_setup_pool(pdev) (newest): nothing if the pool exists; gen_pool_create;
 * sysfs_create_group (out_pool_destroy: gen_pool_destroy, p2pdma->pool = NULL).
 */
const pci_p2pdma_setup_pool = frame('pci_p2pdma_setup_pool', function* (pdev: pci_dev): Gen<number> {
  const p2pdma = deref(yield* rcu_dereference_protected(pdev, 'p2pdma'), 'p2pdma', 'pci_p2pdma_setup_pool');
  yield* step('if (p2pdma->pool)', read(p2pdma));
  if (p2pdma.pool) return 0; // We already setup pools, do nothing

  const pool = yield* gen_pool_create(PAGE_SHIFT, dev_to_node(pdev.dev));
  yield* step('p2pdma->pool = gen_pool_create()', write(p2pdma));
  p2pdma.pool = pool;
  if (!pool) return -ENOMEM;

  const ret = yield* sysfs_create_group(dev_kobj(pdev.dev), p2pmem_group());
  if (!ret) return 0;
  // out_pool_destroy:
  yield* gen_pool_destroy(pool);
  yield* step('p2pdma->pool = NULL', write(p2pdma));
  p2pdma.pool = null;
  return ret;
});

/**
 * pci_p2pdma_unmap_mappings(data) (patched('p2pdma-allocate-mmap')): a devm action registered
 * per add_resource. "Removing the alloc attribute from sysfs will call unmap_mapping_range() on
 * the inode, teardown any existing userspace mappings and prevent new ones from being created."
 * data: the pci_dev (v6.2..v6.x), the pci_p2pdma_pagemap (newest: &p2p_pgmap->mem->owner->kobj).
 */
export const pci_p2pdma_unmap_mappings = frame('pci_p2pdma_unmap_mappings', function* (data: pci_dev | pci_p2pdma_pagemap): Gen<void> {
  let dev: device;
  if (patched('p2pdma-provider-per-bar')) {
    const p2p_pgmap = data as pci_p2pdma_pagemap;
    yield* step('p2p_pgmap->mem->owner', read(p2p_pgmap));
    const mem = deref(p2p_pgmap.mem, 'p2p_pgmap->mem', 'pci_p2pdma_unmap_mappings');
    dev = deref(mem.owner, 'p2p_pgmap->mem->owner', 'pci_p2pdma_unmap_mappings');
  } else {
    dev = (data as pci_dev).dev;
  }
  yield* sysfs_remove_file_from_group(dev_kobj(dev), p2pmem_alloc_attr.attr, 'p2pmem');
});

// ---- pci_p2pdma_add_resource ----

/**
 * pci_p2pdma_add_resource(pdev, bar, size, offset): give BAR `bar` (size bytes from offset; 0:
 * the rest of the BAR) ZONE_DEVICE struct pages and add them to the device's p2pmem pool. The
 * argument checks (-EINVAL), the device setup on first use, then per tree (see the file
 * comment) the pagemap, devm_memremap_pages(), (v6.2+) the unmap_mappings action, and the pool
 * chunk; each failure unwinds through the tree's labels.
 */
export const pci_p2pdma_add_resource = frame('pci_p2pdma_add_resource', function* (pdev: pci_dev, bar: number, size: number, offset: number): Gen<number> {
  if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) return -EINVAL;
  if (offset >= pci_resource_len(pdev, bar)) return -EINVAL;
  if (!size) size = pci_resource_len(pdev, bar) - offset;
  if (size + offset > pci_resource_len(pdev, bar)) return -EINVAL;

  if (patched('p2pdma-provider-per-bar')) return yield* add_resource_newest(pdev, bar, size, offset);

  yield* step('if (!pdev->p2pdma)', read(pdev));
  if (!pdev.p2pdma) {
    const error = yield* pci_p2pdma_setup(pdev);
    if (error) return error;
  }
  if (!patched('p2pdma-per-resource-ref')) return yield* add_resource_before_per_resource_ref(pdev, bar, size, offset);
  if (!patched('memremap-pgmap-owned-ref')) return yield* add_resource_per_resource_ref(pdev, bar, size, offset);
  return yield* add_resource_since_pgmap_owned_ref(pdev, bar, size, offset);
});

/** v5.1 (up to seed 001 4/6): a bare dev_pagemap sharing the device's devmap_ref. */
function* add_resource_before_per_resource_ref(pdev: pci_dev, bar: number, size: number, offset: number): Gen<number> {
  const pgmap = yield* devm_kzalloc(pdev.dev, 'struct dev_pagemap', () => new dev_pagemap());
  if (!pgmap) return -ENOMEM;

  yield* step('pgmap->ref = &pdev->p2pdma->devmap_ref', read(pdev));
  const p2pdma = deref(pdev.p2pdma, 'pdev->p2pdma->devmap_ref', 'pci_p2pdma_add_resource');
  pgmap.res = { start: pci_resource_start(pdev, bar) + offset, end: pci_resource_start(pdev, bar) + offset + size - 1 };
  pgmap.ref = p2pdma.devmap_ref;
  pgmap.type = MEMORY_DEVICE_PCI_P2PDMA;
  pgmap.pci_p2pdma_bus_offset = pci_bus_address(pdev, bar) - pci_resource_start(pdev, bar);
  pgmap.kill = pci_p2pdma_percpu_kill;
  // What-if p2pdma-device-kref: one reference per pgmap, which its kill (at release, or on
  // devm_memremap_pages()' failure) puts; the first pgmap initialises the kref.
  if (patched('p2pdma-device-kref')) {
    if ((yield* kref_read(p2pdma.kref)) === 0) yield* kref_init(p2pdma.kref);
    else yield* kref_get(p2pdma.kref);
  }

  let error: number;
  pgmap_free: {
    const addr = yield* devm_memremap_pages(pdev.dev, pgmap);
    if (IS_ERR(addr)) {
      error = PTR_ERR(addr);
      break pgmap_free;
    }
    yield* step('pdev->p2pdma->pool', read(pdev), read(p2pdma));
    const pool = deref(deref(pdev.p2pdma, 'pdev->p2pdma', 'pci_p2pdma_add_resource').pool, 'pool', 'pci_p2pdma_add_resource');
    error = yield* gen_pool_add_virt(pool, addr, pci_bus_address(pdev, bar) + offset, size, dev_to_node(pdev.dev));
    if (error) {
      // seed 001 3/6: goto pages_free (before it: goto pgmap_free, leaving the release action
      // of devm_memremap_pages() registered with the pgmap freed below).
      if (patched('p2pdma-fix-gen-pool-add-failure')) yield* devm_memunmap_pages(pdev.dev, pgmap);
      break pgmap_free;
    }
    yield* pci_info(pdev, `added peer-to-peer DMA memory [mem 0x${pgmap.res.start.toString(16)}-0x${pgmap.res.end.toString(16)}]`);
    return 0;
  }
  // pgmap_free:
  yield* devm_kfree(pdev.dev, pgmap);
  return error;
}

/** v5.2 (seed 001 5/6 and 6/6): a p2pdma_pagemap with its own ref per resource. */
function* add_resource_per_resource_ref(pdev: pci_dev, bar: number, size: number, offset: number): Gen<number> {
  const p2p_pgmap = yield* devm_kzalloc(pdev.dev, 'struct p2pdma_pagemap', () => new pci_p2pdma_pagemap());
  if (!p2p_pgmap) return -ENOMEM;
  embed_p2p_pgmap(p2p_pgmap);
  const cleanup_cb = patched('memremap-fix-final-page-put-race');

  let error: number;
  pgmap_free: {
    yield* init_completion(p2p_pgmap.ref_done);
    error = yield* percpu_ref_init(p2p_pgmap.ref, pci_p2pdma_percpu_release, 0, GFP_KERNEL);
    if (error) break pgmap_free;

    ref_cleanup: {
      if (!cleanup_cb) {
        // FIXME: the percpu_ref_exit needs to be coordinated internal to
        // devm_memremap_pages_release(). Duplicate the same ordering as other
        // devm_memremap_pages() users for now.
        error = yield* devm_add_action(pdev.dev, pci_p2pdma_percpu_cleanup, p2p_pgmap.ref);
        if (error) break ref_cleanup;
      }

      const pgmap = p2p_pgmap.pgmap;
      pgmap.res = { start: pci_resource_start(pdev, bar) + offset, end: pci_resource_start(pdev, bar) + offset + size - 1 };
      pgmap.ref = p2p_pgmap.ref;
      pgmap.type = MEMORY_DEVICE_PCI_P2PDMA;
      pgmap.pci_p2pdma_bus_offset = pci_bus_address(pdev, bar) - pci_resource_start(pdev, bar);
      pgmap.kill = pci_p2pdma_percpu_kill;
      if (cleanup_cb) pgmap.cleanup = pci_p2pdma_percpu_cleanup;

      const addr = yield* devm_memremap_pages(pdev.dev, pgmap);
      if (IS_ERR(addr)) {
        error = PTR_ERR(addr);
        // 6/6: goto pgmap_free (devm_memremap_pages() killed and cleaned up the ref);
        // 5/6 alone: goto ref_exit, a label it does not define — taken as ref_cleanup.
        if (cleanup_cb) break pgmap_free;
        break ref_cleanup;
      }

      yield* step('pdev->p2pdma->pool', read(pdev));
      const p2pdma = deref(pdev.p2pdma, 'pdev->p2pdma', 'pci_p2pdma_add_resource');
      yield* step('p2pdma->pool', read(p2pdma));
      error = yield* gen_pool_add_owner(deref(p2pdma.pool, 'pool', 'pci_p2pdma_add_resource'), addr, pci_bus_address(pdev, bar) + offset, size, dev_to_node(pdev.dev), p2p_pgmap.ref);
      if (error) {
        // pages_free:
        yield* devm_memunmap_pages(pdev.dev, pgmap);
        if (cleanup_cb) break pgmap_free;
        break ref_cleanup;
      }
      yield* pci_info(pdev, `added peer-to-peer DMA memory [mem 0x${pgmap.res.start.toString(16)}-0x${pgmap.res.end.toString(16)}]`);
      return 0;
    }
    // ref_cleanup: (5/6 alone)
    yield* percpu_ref_exit(p2p_pgmap.ref);
  }
  // pgmap_free:
  yield* devm_kfree(pdev.dev, p2p_pgmap);
  return error;
}

/** v5.3+ era up to the newest tree: the pgmap owns its ref; the chunk owner is &pgmap->ref. */
function* add_resource_since_pgmap_owned_ref(pdev: pci_dev, bar: number, size: number, offset: number): Gen<number> {
  const p2p_pgmap = yield* devm_kzalloc(pdev.dev, 'struct pci_p2pdma_pagemap', () => new pci_p2pdma_pagemap());
  if (!p2p_pgmap) return -ENOMEM;
  embed_p2p_pgmap(p2p_pgmap);

  const pgmap = p2p_pgmap.pgmap;
  pgmap.range = { start: pci_resource_start(pdev, bar) + offset, end: pci_resource_start(pdev, bar) + offset + size - 1 };
  pgmap.nr_range = 1;
  pgmap.type = MEMORY_DEVICE_PCI_P2PDMA;
  if (patched('p2pdma-allocate-mmap')) pgmap.ops = p2pdma_pgmap_ops();
  p2p_pgmap.provider = pdev;
  p2p_pgmap.bus_offset = pci_bus_address(pdev, bar) - pci_resource_start(pdev, bar);

  let error: number;
  pgmap_free: {
    const addr = yield* devm_memremap_pages(pdev.dev, pgmap);
    if (IS_ERR(addr)) {
      error = PTR_ERR(addr);
      break pgmap_free;
    }
    pages_free: {
      if (patched('p2pdma-allocate-mmap')) {
        error = yield* devm_add_action_or_reset(pdev.dev, pci_p2pdma_unmap_mappings, pdev);
        if (error) break pages_free;
      }
      const p2pdma = patched('p2pdma-rcu-pdev') ? yield* rcu_dereference_protected(pdev, 'p2pdma') : yield* plain_read_p2pdma(pdev);
      const p = deref(p2pdma, 'p2pdma', 'pci_p2pdma_add_resource');
      yield* step('p2pdma->pool; &pgmap->ref', read(p), read(pgmap));
      ref_container.set(pgmap_ref_of(pgmap), p2p_pgmap);
      error = yield* gen_pool_add_owner(deref(p.pool, 'p2pdma->pool', 'pci_p2pdma_add_resource'), addr, pci_bus_address(pdev, bar) + offset, size, dev_to_node(pdev.dev), pgmap_ref_of(pgmap));
      if (error) break pages_free;
      yield* pci_info(pdev, `added peer-to-peer DMA memory 0x${pgmap.range.start.toString(16)}-0x${pgmap.range.end.toString(16)}`);
      return 0;
    }
    yield* devm_memunmap_pages(pdev.dev, pgmap);
  }
  // pgmap_free: devm_kfree(&pdev->dev, pgmap) until Sungho Kim's fix. With pgmap the first
  // member (before 4a7ce8334965, v6.7) that address is the allocation's; after it, pgmap is the
  // third member and devres finds no such allocation (WARN_ON in devm_kfree; the p2p_pgmap
  // stays allocated until the driver is unbound).
  const pgmap_first = !patched('zone-device-folio');
  yield* devm_kfree(pdev.dev, patched('p2pdma-devm-kfree-p2p-pgmap') || pgmap_first ? p2p_pgmap : pgmap);
  return error;
}

/** newest: pcim_p2pdma_init, setup_pool, the BAR's provider; unmap_mappings via devm_add_action. */
function* add_resource_newest(pdev: pci_dev, bar: number, size: number, offset: number): Gen<number> {
  let error = yield* pcim_p2pdma_init(pdev);
  if (error) return error;
  error = yield* pci_p2pdma_setup_pool(pdev);
  if (error) return error;
  const mem = yield* pcim_p2pdma_provider(pdev, bar);
  // We checked validity of BAR prior to call to pcim_p2pdma_provider. It should never return NULL.
  if (yield* WARN_ON(!mem, `${FILE} pci_p2pdma_add_resource`, 'WARN_ON(!mem)')) return -EINVAL;

  // What-if 'p2pdma-free-pagemap-with-pool': the pagemap outlives the devres of the device,
  // until pci_p2pdma_release() has made the pool unreachable.
  const free_with_pool = patched('p2pdma-free-pagemap-with-pool');
  const p2p_pgmap = free_with_pool
    ? yield* kzalloc('struct pci_p2pdma_pagemap', 'pci_p2pdma_add_resource', () => new pci_p2pdma_pagemap(), GFP_KERNEL)
    : yield* devm_kzalloc(pdev.dev, 'struct pci_p2pdma_pagemap', () => new pci_p2pdma_pagemap());
  if (!p2p_pgmap) return -ENOMEM;
  embed_p2p_pgmap(p2p_pgmap);

  const pgmap = p2p_pgmap.pgmap;
  pgmap.range = { start: pci_resource_start(pdev, bar) + offset, end: pci_resource_start(pdev, bar) + offset + size - 1 };
  pgmap.nr_range = 1;
  pgmap.type = MEMORY_DEVICE_PCI_P2PDMA;
  pgmap.ops = p2pdma_pgmap_ops();
  p2p_pgmap.mem = mem;

  pgmap_free: {
    const addr = yield* devm_memremap_pages(pdev.dev, pgmap);
    if (IS_ERR(addr)) {
      error = PTR_ERR(addr);
      break pgmap_free;
    }
    pages_free: {
      error = yield* devm_add_action(pdev.dev, pci_p2pdma_unmap_mappings, p2p_pgmap);
      if (error) break pages_free;

      const p2pdma = deref(yield* rcu_dereference_protected(pdev, 'p2pdma'), 'p2pdma', 'pci_p2pdma_add_resource');
      yield* step('p2pdma->pool; &pgmap->ref', read(p2pdma), read(pgmap));
      ref_container.set(pgmap_ref_of(pgmap), p2p_pgmap);
      error = yield* gen_pool_add_owner(deref(p2pdma.pool, 'p2pdma->pool', 'pci_p2pdma_add_resource'), addr, pci_bus_address(pdev, bar) + offset, size, dev_to_node(pdev.dev), pgmap_ref_of(pgmap));
      if (error) {
        // mappings_remove:
        yield* devm_remove_action(pdev.dev, pci_p2pdma_unmap_mappings, p2p_pgmap);
        break pages_free;
      }
      yield* pci_info(pdev, `added peer-to-peer DMA memory 0x${pgmap.range.start.toString(16)}-0x${pgmap.range.end.toString(16)}`);
      return 0;
    }
    yield* devm_memunmap_pages(pdev.dev, pgmap);
  }
  if (free_with_pool) yield* kfree(p2p_pgmap);
  else yield* devm_kfree(pdev.dev, p2p_pgmap);
  return error;
}

/**
 * What-if 'p2pdma-free-pagemap-with-pool': pci_p2pdma_free_pagemap(pool, chunk, data), the
 * gen_pool_for_each_chunk() callback of pci_p2pdma_release(): kfree(container_of(chunk->owner,
 * struct pci_p2pdma_pagemap, pgmap.ref)).
 */
function* pci_p2pdma_free_pagemap(_pool: gen_pool, chunk: gen_pool_chunk): Gen<void> {
  yield* step('p2p_pgmap = container_of(chunk->owner, struct pci_p2pdma_pagemap, pgmap.ref)', read(chunk.bits));
  const owner = chunk.owner;
  const p2p_pgmap = owner !== null && typeof owner === 'object' ? ref_container.get(owner) : undefined;
  if (p2p_pgmap) yield* kfree(p2p_pgmap);
}

/** &pgmap->ref of a v5.3+ pgmap (memremap_pages() initialised it). */
function pgmap_ref_of(pgmap: dev_pagemap): percpu_ref {
  return deref(pgmap.ref, '&pgmap->ref', 'pci_p2pdma_add_resource');
}

// ---- finding providers ----

/** find_parent_pci_dev(dev): the device itself or its nearest PCI ancestor, with a reference. */
function find_parent_pci_dev(dev: device): pci_dev | null {
  for (let d: device | null = dev; d; d = d.parent) if (dev_is_pci(d)) return pci_dev_get(to_pci_dev(d));
  return null;
}

/**
 * The walk of upstream_bridge_distance() (v5.1) / calc_map_type_and_dist() (v5.x+): the
 * distance through the nearest common upstream bridge, or -1 when there is none. The model's
 * topology has no ACS redirection and no whitelisted host bridge.
 */
function upstream_distance(provider: pci_dev, client: pci_dev): number {
  let dist_a = 0;
  for (let a: pci_dev | null = provider; a; a = pci_upstream_bridge(a), dist_a++) {
    let dist_b = 0;
    for (let bb: pci_dev | null = client; bb; bb = pci_upstream_bridge(bb), dist_b++) if (a === bb) return dist_a + dist_b;
  }
  return -1;
}

/** enum pci_p2pdma_map_type (include/linux/pci-p2pdma.h, v5.5+). */
export const PCI_P2PDMA_MAP_UNKNOWN = 0;
export const PCI_P2PDMA_MAP_NOT_SUPPORTED = 1;
export const PCI_P2PDMA_MAP_BUS_ADDR = 2;
export const PCI_P2PDMA_MAP_THRU_HOST_BRIDGE = 3;

/** map_types_idx(client): domain, bus and devfn of the client (the model: its place in the device list). */
function map_types_idx(client: pci_dev): number {
  let i = 0;
  for (let d = pci_get_device(null); d; d = pci_get_device(d), i++) if (d === client) return i;
  return -1;
}

const NOT_SHARED = (provider: pci_dev): string =>
  `cannot be used for peer-to-peer DMA as the client and provider (${pci_name(provider)}) do not share an upstream bridge or whitelisted host bridge`;

/**
 * The cache of the map type in provider->p2pdma->map_types (xa_store, whose node allocation is
 * a fault point; a failed store only loses the cache entry, which the callers ignore).
 * - Before patched('p2pdma-rcu-pdev') (ae21f835a5bd): `if (provider->p2pdma)
 *   xa_store(&provider->p2pdma->map_types, ..., GFP_KERNEL)`, two plain loads of
 *   provider->p2pdma with nothing to keep pci_p2pdma_release() from clearing and freeing it in
 *   between (its synchronize_rcu() waits for no one here).
 * - Since: under rcu_read_lock(), rcu_dereference(provider->p2pdma), and the store inside the
 *   section, GFP_KERNEL until patched('p2pdma-gfp-atomic-in-rcu') (1e5c66afd4a4, v6.9): when
 *   the non-blocking node allocation fails, __xas_nomem() allocates with GFP_KERNEL and may
 *   sleep inside the RCU read-side section.
 */
function* store_map_type(provider: pci_dev, client: pci_dev, map: number, where: string): Gen<void> {
  const label = (gfp: string, p: string): string => `xa_store(&${p}->map_types, map_types_idx(client), xa_mk_value(map_type), ${gfp})`;
  if (!patched('p2pdma-rcu-pdev')) {
    yield* step('if (provider->p2pdma)', read(provider));
    if (!provider.p2pdma) return;
    yield* step('&provider->p2pdma->map_types', read(provider));
    const p2pdma = deref(provider.p2pdma, 'provider->p2pdma', where);
    const can_store = yield* xa_store_alloc(p2pdma.map_types, map_types_idx(client), 'GFP_KERNEL');
    yield* step(label('GFP_KERNEL', 'provider->p2pdma'), write(p2pdma.map_types));
    if (can_store) xa_set(p2pdma.map_types, map_types_idx(client), map);
    return;
  }
  const p2pdma = yield* rcu_lock_deref(provider, 'p2pdma', 'p2pdma = rcu_dereference(provider->p2pdma)');
  const gfp = patched('p2pdma-gfp-atomic-in-rcu') ? 'GFP_ATOMIC' : 'GFP_KERNEL';
  if (p2pdma) {
    const can_store = yield* xa_store_alloc(p2pdma.map_types, map_types_idx(client), gfp);
    yield* rcu_last_unlock(label(gfp, 'p2pdma'), [write(p2pdma.map_types)], () => {
      if (can_store) xa_set(p2pdma.map_types, map_types_idx(client), map);
    });
  } else yield* rcu_read_unlock();
}

/**
 * upstream_bridge_distance(provider, client, &dist, ...) (v5.4 series .. v5.13): the walk, the
 * map type (NOT_SUPPORTED when no bridge is shared: the model has no ACS redirection, no
 * whitelisted host bridge), then its cache in map_types.
 */
const upstream_bridge_distance = frame('upstream_bridge_distance', function* (provider: pci_dev, client: pci_dev): Gen<{ map: number; dist: number }> {
  const r = walk(provider, client);
  yield* store_map_type(provider, client, r.map, 'upstream_bridge_distance');
  return r;
});

/**
 * upstream_bridge_distance_warn(provider, client, &dist) (the verbose form, v4.20 .. v5.13):
 * seq_buf_init(&acs_list, kmalloc(PAGE_SIZE, GFP_KERNEL)) — a fault point: -ENOMEM, with no
 * distance and no map type stored — then upstream_bridge_distance() and, when not supported,
 * the pci_warn on the client; kfree(acs_list.buffer).
 */
const upstream_bridge_distance_warn = frame('upstream_bridge_distance_warn', function* (provider: pci_dev, client: pci_dev): Gen<{ map: number; dist: number } | typeof ENOMEM_RESULT> {
  const acs_list = yield* kmalloc('acs_list.buffer', 'upstream_bridge_distance_warn', () => ({}), GFP_KERNEL);
  if (!acs_list) return ENOMEM_RESULT;
  const r = patched('memremap-pgmap-owned-ref') ? yield* upstream_bridge_distance(provider, client) : walk(provider, client);
  if (r.map === PCI_P2PDMA_MAP_NOT_SUPPORTED) yield* pci_warn(client, NOT_SHARED(provider));
  yield* kfree(acs_list);
  return r;
});

/** upstream_bridge_distance_warn()'s -ENOMEM. */
const ENOMEM_RESULT = { enomem: true } as const;

/**
 * calc_map_type_and_dist(provider, client, &dist, verbose) (6389d4374522 and d1b8dc09dd71,
 * v5.14+): the walk; when not supported, pci_warn on the client if verbose; then the cache in
 * map_types.
 */
const calc_map_type_and_dist = frame('calc_map_type_and_dist', function* (provider: pci_dev, client: pci_dev, verbose: boolean): Gen<{ map: number; dist: number }> {
  const r = walk(provider, client);
  if (r.map === PCI_P2PDMA_MAP_NOT_SUPPORTED && verbose) yield* pci_warn(client, NOT_SHARED(provider));
  yield* store_map_type(provider, client, r.map, 'calc_map_type_and_dist');
  return r;
});

/**
 * The distance calculation of the tree for one client: { map, dist }, or -ENOMEM from the
 * verbose form's allocation before patched('p2pdma-acs-list-on-stack') (e4ece59abd70, v5.14).
 * v5.1/v5.2 have no map types to store (the map_types cache came with the v5.4 series, here
 * with memremap-pgmap-owned-ref).
 */
function* map_type_and_dist(provider: pci_dev, client: pci_dev, verbose: boolean): Gen<{ map: number; dist: number } | typeof ENOMEM_RESULT> {
  if (patched('p2pdma-rename-upstream-bridge-distance')) return yield* calc_map_type_and_dist(provider, client, verbose);
  if (verbose && !patched('p2pdma-acs-list-on-stack')) return yield* upstream_bridge_distance_warn(provider, client);
  if (patched('memremap-pgmap-owned-ref')) return yield* upstream_bridge_distance(provider, client);
  return walk(provider, client);
}

/** The map type and distance the walk gives (no step: the topology does not change while threads run). */
function walk(provider: pci_dev, client: pci_dev): { map: number; dist: number } {
  const dist = upstream_distance(provider, client);
  return { map: dist < 0 ? PCI_P2PDMA_MAP_NOT_SUPPORTED : PCI_P2PDMA_MAP_BUS_ADDR, dist: Math.max(dist, 0) };
}

/**
 * pci_p2pdma_distance_many(provider, clients, num_clients, verbose): the sum of the distances,
 * -1 when a client is not a PCI device or cannot reach the provider.
 */
export const pci_p2pdma_distance_many = frame('pci_p2pdma_distance_many', function* (provider: pci_dev, clients: readonly device[], verbose: boolean): Gen<number> {
  if (clients.length === 0) return -1;
  let not_supported = false;
  let distance = 0;
  for (const c of clients) {
    const pci_client = find_parent_pci_dev(c);
    if (!pci_client) return -1;
    const r = yield* map_type_and_dist(provider, pci_client, verbose);
    pci_dev_put(pci_client);
    // -ENOMEM is not PCI_P2PDMA_MAP_NOT_SUPPORTED: the client counts as supported, at the
    // distance the uninitialised local holds (the model: 0).
    if ('enomem' in r) continue;
    if (r.map === PCI_P2PDMA_MAP_NOT_SUPPORTED) not_supported = true;
    if (not_supported && !verbose) break;
    distance += r.dist;
  }
  return not_supported ? -1 : distance;
});

/** pci_p2pdma_distance(provider, client, verbose) (include/linux/pci-p2pdma.h): the distance of one client. */
export function pci_p2pdma_distance(provider: pci_dev, client: device, verbose: boolean): Gen<number> {
  return pci_p2pdma_distance_many(provider, [client], verbose);
}

/**
 * pci_has_p2pmem(pdev): p2pdma && p2pdma->p2pmem_published (newest: && p2pdma->pool), under
 * RCU in the RCU era.
 */
export const pci_has_p2pmem = frame('pci_has_p2pmem', function* (pdev: pci_dev): Gen<boolean> {
  if (patched('p2pdma-rcu-pdev')) {
    const p2pdma = yield* rcu_lock_deref(pdev, 'p2pdma', 'p2pdma = rcu_dereference(pdev->p2pdma)');
    if (!p2pdma) {
      yield* rcu_read_unlock();
      return false;
    }
    return yield* rcu_last_unlock('res = p2pdma && p2pdma->pool && p2pdma->p2pmem_published', [read(p2pdma)], () =>
      (patched('p2pdma-provider-per-bar') ? p2pdma.pool !== null : true) && p2pdma.p2pmem_published,
    );
  }
  // Two plain loads of pdev->p2pdma: pci_p2pdma_release() may clear it in between.
  yield* step('pdev->p2pdma', read(pdev));
  if (!pdev.p2pdma) return false;
  yield* step('pdev->p2pdma->p2pmem_published', read(pdev));
  const p2pdma = deref(pdev.p2pdma, 'pdev->p2pdma', 'pci_has_p2pmem');
  yield* step('p2pmem_published', read(p2pdma));
  return p2pdma.p2pmem_published;
});

/**
 * pci_p2pmem_find_many(clients, num_clients): the closest device with published p2pmem that
 * every client can reach, with a reference (the kernel picks at random among equals; the model
 * takes the first). kmalloc(PAGE_SIZE) of the candidates' array is a fault point (NULL).
 */
export const pci_p2pmem_find_many = frame('pci_p2pmem_find_many', function* (clients: readonly device[]): Gen<pci_dev | null> {
  const closest_pdevs = yield* kmalloc('closest_pdevs', 'pci_p2pmem_find_many', () => ({ list: [] as pci_dev[] }), GFP_KERNEL);
  if (!closest_pdevs) return null;
  let closest_distance = Number.MAX_SAFE_INTEGER;
  for (let pdev = pci_get_device(null); pdev; pdev = pci_get_device(pdev)) {
    if (!(yield* pci_has_p2pmem(pdev))) continue;
    const distance = yield* pci_p2pdma_distance_many(pdev, clients, false);
    if (distance < 0 || distance > closest_distance) continue;
    if (distance < closest_distance) {
      for (const d of closest_pdevs.list) pci_dev_put(d);
      closest_pdevs.list.length = 0;
      closest_distance = distance;
    }
    closest_pdevs.list.push(pci_dev_get(pdev)!);
  }
  const found = closest_pdevs.list.length ? pci_dev_get(closest_pdevs.list[0]!) : null;
  for (const d of closest_pdevs.list) pci_dev_put(d);
  yield* kfree(closest_pdevs);
  return found;
});

// ---- allocation ----

/**
 * pci_alloc_p2pmem(pdev, size): size bytes of p2pmem or NULL.
 * v5.1: if (!pdev->p2pdma) NULL; tryget_live(&pdev->p2pdma->devmap_ref) (NULL when killed);
 *   gen_pool_alloc(); on failure percpu_ref_put.
 * v5.2+: under rcu_read_lock() ("Pairs with synchronize_rcu() in pci_p2pdma_release()"):
 *   gen_pool_alloc_owner() → the chunk's ref; percpu_ref_tryget_live(ref) (v5.16+: _rcu), on
 *   failure gen_pool_free() and NULL.
 */
export const pci_alloc_p2pmem = frame('pci_alloc_p2pmem', function* (pdev: pci_dev, size: number): Gen<number> {
  const where = 'pci_alloc_p2pmem';
  if (!patched('p2pdma-per-resource-ref')) {
    yield* step('if (unlikely(!pdev->p2pdma))', read(pdev));
    if (!pdev.p2pdma) return 0;
    yield* step('&pdev->p2pdma->devmap_ref', read(pdev));
    const p2pdma = deref(pdev.p2pdma, 'pdev->p2pdma', where);
    yield* read_ref_memory(p2pdma.devmap_ref, 'struct pci_p2pdma.devmap_ref');
    if (!(yield* percpu_ref_tryget_live(p2pdma.devmap_ref))) return 0;
    yield* step('pdev->p2pdma->pool', read(pdev), read(p2pdma));
    const ret = yield* gen_pool_alloc(deref(deref(pdev.p2pdma, 'pdev->p2pdma', where).pool, 'pool', where), size);
    if (!ret) {
      yield* step('&pdev->p2pdma->devmap_ref', read(pdev));
      yield* percpu_ref_put(deref(pdev.p2pdma, 'pdev->p2pdma', where).devmap_ref);
    }
    return ret;
  }

  let ret = 0;
  out: {
    const p2pdma = yield* rcu_lock_deref(pdev, 'p2pdma', patched('p2pdma-rcu-pdev') ? 'p2pdma = rcu_dereference(pdev->p2pdma)' : 'if (unlikely(!pdev->p2pdma))');
    if (!p2pdma) break out;
    // v5.2: the later reads are pdev->p2pdma->pool again (a second plain load).
    const p2 = patched('p2pdma-rcu-pdev') ? p2pdma : deref(yield* plain_read_p2pdma(pdev), 'pdev->p2pdma', where);
    yield* step('p2pdma->pool', read(p2));
    const pool = deref(p2.pool, 'p2pdma->pool', where);
    const owner: ptr_ref<percpu_ref> = { value: null };
    ret = yield* gen_pool_alloc_owner(pool, size, owner);
    if (!ret) break out;
    const ref = owner.value!;
    yield* read_ref_memory(ref, patched('memremap-pgmap-owned-ref') ? 'struct pci_p2pdma_pagemap.pgmap.ref' : 'struct p2pdma_pagemap.ref');
    // Inside the rcu_read_lock() section: percpu_ref_tryget_live_rcu() since
    // patched('p2pdma-tryget-live-rcu') (v5.17), percpu_ref_tryget_live() (which nests one) before.
    const ok = patched('p2pdma-tryget-live-rcu') ? yield* percpu_ref_tryget_live_rcu(ref) : yield* percpu_ref_tryget_live(ref);
    if (!ok) {
      // v5.2: gen_pool_free(pdev->p2pdma->pool, ...), a third plain load.
      const p3 = patched('p2pdma-rcu-pdev') ? p2pdma : deref(yield* plain_read_p2pdma(pdev), 'pdev->p2pdma', where);
      if (p3 !== p2) yield* step('p2pdma->pool', read(p3));
      yield* gen_pool_free(deref(p3.pool, 'p2pdma->pool', where), ret, size);
      ret = 0;
    }
  }
  yield* rcu_read_unlock();
  return ret;
});

/**
 * pci_free_p2pmem(pdev, addr, size). v5.1: gen_pool_free(pdev->p2pdma->pool); percpu_ref_put(
 * &pdev->p2pdma->devmap_ref). v5.2+: gen_pool_free_owner(p2pdma->pool, addr, size, &ref);
 * percpu_ref_put(ref) (p2pdma read without RCU and without a NULL check).
 */
export const pci_free_p2pmem = frame('pci_free_p2pmem', function* (pdev: pci_dev, addr: number, size: number): Gen<void> {
  const where = 'pci_free_p2pmem';
  if (!patched('p2pdma-per-resource-ref')) {
    yield* step('pdev->p2pdma->pool', read(pdev));
    const p2pdma = deref(pdev.p2pdma, 'pdev->p2pdma->pool', where);
    yield* step('p2pdma->pool', read(p2pdma));
    yield* gen_pool_free(deref(p2pdma.pool, 'pool', where), addr, size);
    yield* step('&pdev->p2pdma->devmap_ref', read(pdev));
    yield* percpu_ref_put(deref(pdev.p2pdma, 'pdev->p2pdma->devmap_ref', where).devmap_ref);
    return;
  }
  const p2pdma = patched('p2pdma-rcu-pdev') ? yield* rcu_dereference_protected(pdev, 'p2pdma') : yield* plain_read_p2pdma(pdev);
  const p = deref(p2pdma, 'p2pdma->pool', where);
  yield* step('p2pdma->pool', read(p));
  const owner: ptr_ref<percpu_ref> = { value: null };
  yield* gen_pool_free_owner(deref(p.pool, 'pool', where), addr, size, owner);
  yield* percpu_ref_put(deref(owner.value, 'ref', where));
});

/**
 * pci_p2pmem_virt_to_bus(pdev, addr): 0 for NULL or no p2pdma; else gen_pool_virt_to_phys()
 * ("when we added the memory to the pool we used the PCI bus address as the physical address").
 */
export const pci_p2pmem_virt_to_bus = frame('pci_p2pmem_virt_to_bus', function* (pdev: pci_dev, addr: number): Gen<number> {
  if (!addr) return 0;
  const p2pdma = patched('p2pdma-rcu-pdev') ? yield* rcu_dereference_protected(pdev, 'p2pdma') : yield* plain_read_p2pdma(pdev);
  if (!p2pdma) return 0;
  yield* step('p2pdma->pool', read(p2pdma));
  return yield* gen_pool_virt_to_phys(deref(p2pdma.pool, 'pool', 'pci_p2pmem_virt_to_bus'), addr);
});

/**
 * pci_p2pmem_publish(pdev, publish): if (p2pdma) p2pdma->p2pmem_published = publish (under RCU
 * in the RCU era).
 */
export const pci_p2pmem_publish = frame('pci_p2pmem_publish', function* (pdev: pci_dev, publish: boolean): Gen<void> {
  if (patched('p2pdma-rcu-pdev')) {
    const p2pdma = yield* rcu_lock_deref(pdev, 'p2pdma', 'p2pdma = rcu_dereference(pdev->p2pdma)');
    if (p2pdma) {
      yield* rcu_last_unlock('p2pdma->p2pmem_published = publish', [write(p2pdma)], () => {
        p2pdma.p2pmem_published = publish;
      });
    } else yield* rcu_read_unlock();
    return;
  }
  yield* step('if (pdev->p2pdma)', read(pdev));
  if (!pdev.p2pdma) return;
  yield* step('pdev->p2pdma->p2pmem_published = publish', read(pdev));
  const p2pdma = deref(pdev.p2pdma, 'pdev->p2pdma', 'pci_p2pmem_publish');
  yield* step('p2pmem_published = publish', write(p2pdma));
  p2pdma.p2pmem_published = publish;
});

// ---- scatterlists ----

/**
 * pci_p2pmem_alloc_sgl(pdev, &nents, length): kzalloc one scatterlist entry (a fault point),
 * pci_alloc_p2pmem(length), sg_set_buf(); NULL on failure (out_free_sg: kfree).
 */
export const pci_p2pmem_alloc_sgl = frame('pci_p2pmem_alloc_sgl', function* (pdev: pci_dev, length: number): Gen<scatterlist | null> {
  const sg = yield* kzalloc('struct scatterlist', 'pci_p2pmem_alloc_sgl', () => new scatterlist(), GFP_KERNEL);
  if (!sg) return null;
  const addr = yield* pci_alloc_p2pmem(pdev, length);
  if (!addr) {
    yield* kfree(sg);
    return null;
  }
  sg_set_buf(sg, addr, length);
  return sg;
});

/** pci_p2pmem_free_sgl(pdev, sgl): pci_free_p2pmem(sg_virt(sg), sg->length) per entry; kfree(sgl). */
export const pci_p2pmem_free_sgl = frame('pci_p2pmem_free_sgl', function* (pdev: pci_dev, sgl: scatterlist): Gen<void> {
  yield* pci_free_p2pmem(pdev, sg_virt(sgl), sgl.length);
  yield* kfree(sgl);
});

/**
 * pci_p2pdma_map_sg(dev, sg, nents, dir) (v5.1/v5.2): for each entry, pgmap =
 * sg_page(s)->pgmap — a read of the struct page — then s->dma_address = sg_phys(s) -
 * pgmap->pci_p2pdma_bus_offset, sg_dma_len = s->length. No pgmap reference is taken. Returns
 * nents.
 */
export const pci_p2pdma_map_sg = frame('pci_p2pdma_map_sg', function* (_dev: device, sgl: readonly scatterlist[], nents: number): Gen<number> {
  for (let i = 0; i < nents; i++) {
    const s = sgl[i]!;
    const p = sg_page(s);
    yield* step('pgmap = sg_page(s)->pgmap', read(p));
    const pgmap = deref(p.pgmap, 'sg_page(s)->pgmap', 'pci_p2pdma_map_sg');
    const paddr = sg_phys(s);
    yield* step('s->dma_address = paddr - pgmap->pci_p2pdma_bus_offset', read(pgmap));
    s.dma_address = paddr - pgmap.pci_p2pdma_bus_offset;
    s.dma_length = s.length;
  }
  return nents;
});

/** struct pci_p2pdma_map_state (v6.x): the pgmap (newest: provider) last seen, its map type and bus offset. */
export class pci_p2pdma_map_state {
  pgmap: dev_pagemap | null = null;
  mem: p2pdma_provider | null = null;
  map = PCI_P2PDMA_MAP_UNKNOWN;
  bus_off = 0;
}

/**
 * pci_p2pdma_map_type() (the map_types era; v5.14 7e2faa1710c4 takes the pgmap, newest the
 * provider): the type the client's distance calculation cached in map_types.
 * - Before patched('p2pdma-rcu-pdev'): NOT_SUPPORTED when provider->p2pdma is NULL, else
 *   xa_load(&provider->p2pdma->map_types, ...): a second plain load.
 * - Since: the plain NULL test, NOT_SUPPORTED for a client that is not PCI, then the load
 *   under RCU through rcu_dereference().
 * - UNKNOWN (nothing cached) is returned as it is until patched('p2pdma-set-map-type-if-unknown')
 *   (719c98658058, v6.0), which calculates it then: calc_map_type_and_dist(..., verbose).
 */
const pci_p2pdma_map_type = frame('pci_p2pdma_map_type', function* (provider: pci_dev, dev: device): Gen<number> {
  const where = 'pci_p2pdma_map_type';
  yield* step('if (!provider->p2pdma)', read(provider));
  if (!provider.p2pdma) return PCI_P2PDMA_MAP_NOT_SUPPORTED;
  if (!dev_is_pci(dev)) return PCI_P2PDMA_MAP_NOT_SUPPORTED;
  const client = to_pci_dev(dev);
  let type = PCI_P2PDMA_MAP_NOT_SUPPORTED;
  if (!patched('p2pdma-rcu-pdev')) {
    yield* step('&provider->p2pdma->map_types', read(provider));
    const p2pdma = deref(provider.p2pdma, 'provider->p2pdma', where);
    yield* step('xa_to_value(xa_load(&provider->p2pdma->map_types, map_types_idx(client)))', read(p2pdma.map_types));
    type = xa_get(p2pdma.map_types, map_types_idx(client)) ?? PCI_P2PDMA_MAP_UNKNOWN;
  } else {
    const p2pdma = yield* rcu_lock_deref(provider, 'p2pdma', 'p2pdma = rcu_dereference(provider->p2pdma)');
    if (p2pdma) {
      type = yield* rcu_last_unlock('xa_to_value(xa_load(&p2pdma->map_types, map_types_idx(client)))', [read(p2pdma.map_types)], () =>
        xa_get(p2pdma.map_types, map_types_idx(client)) ?? PCI_P2PDMA_MAP_UNKNOWN,
      );
    } else yield* rcu_read_unlock();
  }
  if (type === PCI_P2PDMA_MAP_UNKNOWN && patched('p2pdma-set-map-type-if-unknown')) return (yield* calc_map_type_and_dist(provider, client, true)).map;
  return type;
});

/**
 * pci_p2pdma_map_sg_attrs(dev, sg, nents, dir, attrs) (the v5.4 series .. v5.19; what nvme and
 * RDMA call for a p2pdma page, until the DMA API mapped them itself, 5e180ff326b4): the
 * first entry's page gives the pgmap — sg_page(sg)->pgmap, a read of the struct page —
 * WARN_ON_ONCE(!dev_is_pci(dev)); by pci_p2pdma_map_type(): BUS_ADDR maps every entry with
 * __pci_p2pdma_map_sg(), THRU_HOST_BRIDGE (not in the model's topology) would go to
 * dma_map_sg_attrs(), and anything else — UNKNOWN, NOT_SUPPORTED — is WARN_ON_ONCE(1) and 0
 * entries mapped.
 */
export const pci_p2pdma_map_sg_attrs = frame('pci_p2pdma_map_sg_attrs', function* (dev: device, sgl: readonly scatterlist[], nents: number): Gen<number> {
  const where = 'pci_p2pdma_map_sg_attrs';
  const first = sg_page(sgl[0]!);
  yield* step('p2p_pgmap = to_p2p_pgmap(sg_page(sg)->pgmap)', read(first));
  const p2p_pgmap = to_p2p_pgmap(deref(first.pgmap, 'sg_page(sg)->pgmap', where));
  if (yield* WARN_ON_ONCE(!dev_is_pci(dev), `${FILE} pci_p2pdma_map_sg_attrs`, 'WARN_ON_ONCE(!dev_is_pci(dev))')) return 0;
  yield* step('p2p_pgmap->provider', read(p2p_pgmap));
  const map = yield* pci_p2pdma_map_type(deref(p2p_pgmap.provider, 'p2p_pgmap->provider', where), dev);
  if (map === PCI_P2PDMA_MAP_BUS_ADDR) return yield* __pci_p2pdma_map_sg(p2p_pgmap, sgl, nents);
  if (map === PCI_P2PDMA_MAP_THRU_HOST_BRIDGE) throw new Error('pci_p2pdma_map_sg_attrs(): the model has no host bridge path');
  yield* WARN_ON_ONCE(true, `${FILE} pci_p2pdma_map_sg_attrs`, 'WARN_ON_ONCE(1)');
  return 0;
});

/**
 * __pci_p2pdma_map_sg(p2p_pgmap, dev, sg, nents): every entry's dma_address = sg_phys(s) -
 * p2p_pgmap->bus_offset (the first entry's pgmap) — + bus_offset since
 * patched('p2pdma-fix-bus-offset-sign') (3a19407913e8, v5.16) — and its length. Returns nents.
 */
const __pci_p2pdma_map_sg = frame('__pci_p2pdma_map_sg', function* (p2p_pgmap: pci_p2pdma_pagemap, sgl: readonly scatterlist[], nents: number): Gen<number> {
  const add = patched('p2pdma-fix-bus-offset-sign');
  for (let i = 0; i < nents; i++) {
    const s = sgl[i]!;
    yield* step(add ? 's->dma_address = sg_phys(s) + p2p_pgmap->bus_offset' : 's->dma_address = sg_phys(s) - p2p_pgmap->bus_offset', read(p2p_pgmap));
    s.dma_address = add ? sg_phys(s) + p2p_pgmap.bus_offset : sg_phys(s) - p2p_pgmap.bus_offset;
    s.dma_length = s.length;
  }
  return nents;
});

/**
 * pci_p2pdma_map_segment(state, dev, sg) (v5.x+ until the provider rework): if the page's
 * pgmap differs from the state's — sg_page(sg)->pgmap, a read of the struct page — look up its
 * map type and bus offset; for PCI_P2PDMA_MAP_BUS_ADDR set the bus address
 * (sg_phys + bus_off) and mark it. Returns the map type.
 */
export const pci_p2pdma_map_segment = frame('pci_p2pdma_map_segment', function* (state: pci_p2pdma_map_state, dev: device, sg: scatterlist): Gen<number> {
  const p = sg_page(sg);
  yield* step('if (state->pgmap != sg_page(sg)->pgmap)', read(p));
  const pgmap = deref(p.pgmap, 'sg_page(sg)->pgmap', 'pci_p2pdma_map_segment');
  if (state.pgmap !== pgmap) {
    state.pgmap = pgmap;
    const p2p_pgmap = to_p2p_pgmap(pgmap);
    yield* step('to_p2p_pgmap(pgmap)->provider, ->bus_offset', read(p2p_pgmap));
    state.map = yield* pci_p2pdma_map_type(deref(p2p_pgmap.provider, 'provider', 'pci_p2pdma_map_type'), dev);
    state.bus_off = p2p_pgmap.bus_offset;
  }
  if (state.map === PCI_P2PDMA_MAP_BUS_ADDR) {
    sg.dma_address = sg_phys(sg) + state.bus_off;
    sg.dma_length = sg.length;
    sg.bus_address = true;
  }
  return state.map;
});

/**
 * __pci_p2pdma_update_state(state, dev, page) (newest): p2p_pgmap =
 * to_p2p_pgmap(page_pgmap(page)) — a read of the struct page; if its provider differs from the
 * state's, state->map = pci_p2pdma_map_type(provider, dev). The bus address is then
 * sg_phys + provider->bus_offset (include/linux/pci-p2pdma.h, not read: modelled so).
 */
export const __pci_p2pdma_update_state = frame('__pci_p2pdma_update_state', function* (state: pci_p2pdma_map_state, dev: device, p: page): Gen<void> {
  yield* step('p2p_pgmap = to_p2p_pgmap(page_pgmap(page))', read(p));
  const p2p_pgmap = to_p2p_pgmap(deref(p.pgmap, 'page_pgmap(page)', '__pci_p2pdma_update_state'));
  yield* step('p2p_pgmap->mem', read(p2p_pgmap));
  const mem = deref(p2p_pgmap.mem, 'p2p_pgmap->mem', '__pci_p2pdma_update_state');
  if (state.mem === mem) return;
  state.mem = mem;
  const owner = deref(mem.owner, 'provider->owner', 'pci_p2pdma_map_type');
  state.map = yield* pci_p2pdma_map_type(to_pci_dev(owner), dev);
  state.bus_off = mem.bus_offset;
});

/** For model code that needs the "allocate" attribute (tests, scenarios). */
export const P2PMEM_GROUP_NAME = 'p2pmem';
export const P2PMEM_ALLOCATE = 'allocate';
