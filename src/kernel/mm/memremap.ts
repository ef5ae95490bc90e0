// mm/memremap.c — and kernel/memremap.c, its path up to v5.2: this one TS file models both
// (the code moved to mm/ in v5.3). ZONE_DEVICE setup and teardown: devm_memremap_pages(),
// memremap_pages(), memunmap_pages(), devm_memunmap_pages(), get_dev_pagemap(), the pgmap_array
// xarray, and the ZONE_DEVICE page free paths (__put_devmap_managed_page(),
// __put_devmap_managed_folio_refs(), free_zone_device_folio()) and zone_device_page_init().
//
// Trees (sources read: torvalds/linux a95c90f1 kernel/memremap.c for v5.1, the seed 001
// patches for v5.2, mm/memremap.c of v6.15, linux-mm 163177a5 mm/memremap.c for newest):
//
// - v5.1: devm_memremap_pages(dev, pgmap) with the caller's ref and kill; its release
//   devm_memremap_pages_release() does kill → put_page() of every device pfn →
//   arch_remove_memory() with no wait: a page still referenced loses its memmap (seed 002).
//   The driver waits for its ref only in a devm action registered before, which runs after.
// - v5.2 (seed 001): "Missing reference count teardown definition" check (ref, kill, cleanup);
//   the conflict path and err_array kill and clean up; the release calls pgmap->cleanup(ref)
//   (wait for the last reference, exit the ref) before arch_remove_memory()
//   (patched('memremap-fix-final-page-put-race')); devm_memunmap_pages()
//   (patched('devm-memunmap-pages')).
// - v6.14/v6.15/newest (patched('memremap-pgmap-owned-ref'), consolidated from v5.3): the
//   pgmap owns its ref (percpu_ref_init in memremap_pages(), dev_pagemap_percpu_release()
//   completes pgmap->done); per-range pagemap_range(); memunmap_pages() = kill → drop the bulk
//   references → wait_for_completion(&pgmap->done) → pageunmap_range() (memmap removal, xarray
//   erase) → percpu_ref_exit(). Later patches of their own: the page refcount that is 0 when
//   free, the bulk references dropped with percpu_ref_put_many() instead of a put_page() loop
//   (patched('zone-device-no-extra-refcount'), 27674ef6c73f, v5.18); percpu_ref_exit() after
//   pageunmap_range() (patched('memremap-fix-memunmap-race'), 1e57ffb6e3fd, v6.0);
//   percpu_ref_tryget_live_rcu() in get_dev_pagemap() (patched('memremap-get-dev-pagemap-rcu'),
//   v6.1); no bulk references for PRIVATE/COHERENT (patched('zone-device-refcount-0-private'),
//   v6.1). dev_pagemap_kill()/dev_pagemap_cleanup() existed only in v5.3..v5.16 (the
//   caller-supplied ref era, until b80892ca022e) and are in none of the modelled trees.
//
// What memremap calls in other kernel files is at their paths: the pgmap_array xarray in
// lib/xarray.ts, region_intersects() in kernel/resource.ts, track_pfn_remap()/untrack_pfn() in
// arch/x86/mm/pat/memtype.ts, kasan_add_zero_shadow()/kasan_remove_zero_shadow() in
// mm/kasan/init.ts; dev_to_node() and numa_mem_id() are the one-node machine's, here.
//
// Every call that can fail is a fault point (xa_store_range, track_pfn_remap,
// kasan_add_zero_shadow, the memmap allocation in arch_add_memory/add_pages, percpu_ref_init,
// devm_add_action_or_reset) and the error paths unwind in the kernel's order.

import { frame, type Gen, log, read, step, write } from '../../engine/ops.js';
import { WARN, WARN_ON_ONCE, WARN_ONCE, panic } from '../include/asm-generic/bug.js';
import { ERR_PTR, type ErrPtr, IS_ERR } from '../include/linux/err.js';
import { GFP_KERNEL } from '../include/linux/gfp.js';
import {
  dev_pagemap,
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PCI_P2PDMA,
  MEMORY_DEVICE_PRIVATE,
  memory_type_value,
  memory_type_exists,
  pgmap_altmap,
  pgmap_of_ref,
  pgmap_ref,
  put_dev_pagemap,
  type range,
  type resource,
  resource_size,
  type vmem_altmap,
} from '../include/linux/memremap.js';
import { __put_page, __va, is_zone_device_page, lock_page, PageAnon, put_page } from '../include/linux/mm.js';
import { type folio, type page, PG_active, PG_anon_exclusive, PG_waiters } from '../include/linux/mm_types.js';
import { VM_WARN_ON_FOLIO, VM_WARN_ON_ONCE, VM_BUG_ON_FOLIO } from '../include/linux/mmdebug.js';
import { folio_ref_count, folio_ref_sub_return, folio_set_count, page_ref_dec_return, set_page_count } from '../include/linux/page_ref.js';
import {
  percpu_ref,
  percpu_ref_func,
  percpu_ref_get_many,
  percpu_ref_kill,
  percpu_ref_put_many,
  percpu_ref_tryget_live,
  percpu_ref_tryget_live_rcu,
  percpu_ref_tryget_many,
} from '../include/linux/percpu-refcount.js';
import { EINVAL, ENOMEM, ENXIO } from '../include/uapi/errno.js';
import { percpu_ref_exit, percpu_ref_init } from '../lib/percpu-refcount.js';
import { type device, dev_name } from '../drivers/base/core.js';
import { devm_add_action_or_reset, devm_release_action } from '../drivers/base/devres.js';
import { complete, init_completion, wait_for_completion } from '../kernel/sched/completion.js';
import { rcu_read_lock, rcu_read_unlock, synchronize_rcu } from '../kernel/rcu/tree.js';
import { machine, patched } from '../machine.js';
import {
  __remove_pages,
  add_pages,
  arch_add_memory,
  arch_remove_memory,
  mem_hotplug_begin,
  mem_hotplug_done,
  type mhp_params,
  move_pfn_range_to_zone,
  page_zone,
  PFN_PHYS,
  PHYS_PFN,
  pfn_to_page,
  remove_pfn_range_from_zone,
  SECTION_SIZE,
  zone_of,
} from './memory_hotplug.js';
import { memmap_init_zone_device } from './mm_init.js';
import { kasan_add_zero_shadow, kasan_remove_zero_shadow, kasan_shadow_leftovers } from './kasan/init.js';
import { memtype_leftovers, track_pfn_remap, untrack_pfn } from '../arch/x86/mm/pat/memtype.js';
import { REGION_DISJOINT, REGION_MIXED, region_intersects } from '../kernel/resource.js';
import { xa_entries, xa_load, xa_store_range, xarray } from '../lib/xarray.js';
import { hex } from '../kernel/printk.js';

// ---- state ----

/** The static key devmap_managed_key (atomic count of enables; on while > 0). */
export class static_key {
  enabled = 0;
  constructor(readonly name: string) {}
}

class memremap_state {
  /** static DEFINE_XARRAY(pgmap_array): pfn → the dev_pagemap of the range. */
  readonly pgmap_array = new xarray<dev_pagemap>('pgmap_array', 'pgmap');
  readonly devmap_managed_key = new static_key('devmap_managed_key');
}

function state(): memremap_state {
  return machine().global('memremap', () => new memremap_state());
}

/** DEFINE_STATIC_KEY_FALSE(devmap_managed_key) (v5.1..v6.15; gone in newest). */
export function devmap_managed_key(): static_key {
  return state().devmap_managed_key;
}

/** For the state a debugger shows (kernel/inspect.ts): the distinct dev_pagemaps pgmap_array holds, by index. */
export function pgmap_array_entries(): dev_pagemap[] {
  const out: dev_pagemap[] = [];
  for (const slot of xa_entries(state().pgmap_array)) if (!out.includes(slot.entry!)) out.push(slot.entry!);
  return out;
}

/**
 * For tests and end-of-scenario checks: what memremap has set up and not torn down (the
 * pgmap_array entries, the memtype reservations, the KASAN zero shadow).
 */
export function memremap_leftovers(): string[] {
  return [...xa_entries(state().pgmap_array).map((slot) => `pgmap_array[0x${slot.index.toString(16)}]`), ...memtype_leftovers(), ...kasan_shadow_leftovers()];
}

/** pgmap_array_delete(res/range): xa_store_range(..., NULL); synchronize_rcu(). */
const pgmap_array_delete = frame('pgmap_array_delete', function* (r: resource | range): Gen<void> {
  yield* xa_store_range(state().pgmap_array, PHYS_PFN(r.start), PHYS_PFN(r.end), null);
  yield* synchronize_rcu();
});

// ---- NUMA ----

/** dev_to_node(dev): the model's devices have no NUMA node (NUMA_NO_NODE). */
function dev_to_node(_dev: device): number {
  return -1;
}

/** numa_mem_id(): node 0. */
function numa_mem_id(): number {
  return 0;
}

/** ALIGN(x, a) for a power-of-two-free model: round up to a multiple of a. */
function ALIGN(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** dev_WARN(dev, fmt, ...): WARN(1, "%s %s: " fmt, dev_driver_string(dev), dev_name(dev), ...). */
function* dev_WARN(dev: device | null, where: string, what: string): Gen<void> {
  yield* WARN(true, where, `${dev ? dev_name(dev) : '(NULL device *)'}: ${what}`);
}

// ---- devmap_managed_key ----

/**
 * dev_pagemap_get_ops() (kernel/memremap.c, v5.1/v5.2, exported; called by hmm and fsdax
 * users): if (atomic_inc_return(&devmap_enable) == 1) static_branch_enable(&devmap_managed_key).
 */
export const dev_pagemap_get_ops = frame('dev_pagemap_get_ops', function* (): Gen<void> {
  const key = devmap_managed_key();
  yield* step('atomic_inc_return(&devmap_enable); static_branch_enable(&devmap_managed_key)', write(key));
  key.enabled++;
});

/** dev_pagemap_put_ops() (v5.1/v5.2). */
export const dev_pagemap_put_ops = frame('dev_pagemap_put_ops', function* (): Gen<void> {
  const key = devmap_managed_key();
  yield* step('atomic_dec_and_test(&devmap_enable); static_branch_disable(&devmap_managed_key)', write(key));
  if (key.enabled > 0) key.enabled--;
});

/**
 * devmap_managed_enable_get(pgmap) (v5.3+ mm/memremap.c; gone in newest). v5.3..v5.x: for
 * devmap-managed types (all but DEVDAX/GENERIC and P2PDMA) WARN(1, "Missing page_free method")
 * and -EINVAL without ops->page_free, else count up the key. Since
 * patched('zone-device-no-extra-refcount') (27674ef6c73f, v5.18): static_branch_inc() for
 * FS_DAX only.
 */
const devmap_managed_enable_get = frame('devmap_managed_enable_get', function* (pgmap: dev_pagemap): Gen<number> {
  const key = devmap_managed_key();
  if (!patched('zone-device-no-extra-refcount')) {
    if (pgmap.type === MEMORY_DEVICE_GENERIC || pgmap.type === MEMORY_DEVICE_PCI_P2PDMA) return 0;
    if (!pgmap.ops || !pgmap.ops.page_free) {
      yield* WARN(true, 'mm/memremap.c devmap_managed_enable_get', 'Missing page_free method');
      return -EINVAL;
    }
  } else if (pgmap.type !== MEMORY_DEVICE_FS_DAX) return 0;
  yield* step('static_branch_inc(&devmap_managed_key)', write(key));
  key.enabled++;
  return 0;
});

/** devmap_managed_enable_put(pgmap) (v5.3+; gone in newest): the inverse. */
const devmap_managed_enable_put = frame('devmap_managed_enable_put', function* (pgmap: dev_pagemap): Gen<void> {
  if (!patched('zone-device-no-extra-refcount')) {
    if (pgmap.type === MEMORY_DEVICE_GENERIC || pgmap.type === MEMORY_DEVICE_PCI_P2PDMA) return;
  } else if (pgmap.type !== MEMORY_DEVICE_FS_DAX) return;
  const key = devmap_managed_key();
  yield* step('static_branch_dec(&devmap_managed_key)', write(key));
  if (key.enabled > 0) key.enabled--;
});

// ---- pfn ranges ----

/** vmem_altmap_offset(altmap): reserve + free (0 for no altmap, v5.3+). */
export function vmem_altmap_offset(altmap: vmem_altmap | null): number {
  return altmap ? altmap.reserve + altmap.free : 0;
}

/** vmem_altmap_free(altmap, nr_pfns): altmap->alloc -= nr_pfns. */
export function vmem_altmap_free(altmap: vmem_altmap, nr_pfns: number): void {
  altmap.alloc -= nr_pfns;
}

/** v5.1/v5.2 pfn_first(pgmap): res->start >> PAGE_SHIFT, plus the altmap offset when valid. */
function pfn_first_before_pgmap_owned_ref(pgmap: dev_pagemap): number {
  return PHYS_PFN(pgmap.res.start) + (pgmap.altmap_valid ? vmem_altmap_offset(pgmap.altmap) : 0);
}

/** v5.1/v5.2 pfn_end(pgmap): (res->start + resource_size(res)) >> PAGE_SHIFT. */
function pfn_end_before_pgmap_owned_ref(pgmap: dev_pagemap): number {
  return PHYS_PFN(pgmap.res.start + resource_size(pgmap.res));
}

/** v5.3+ pfn_first(pgmap, range_id): the altmap offset only for range 0. */
function pfn_first(pgmap: dev_pagemap, range_id: number): number {
  const r = pgmap.ranges[range_id]!;
  const pfn = PHYS_PFN(r.start);
  return range_id ? pfn : pfn + vmem_altmap_offset(pgmap_altmap(pgmap));
}

/** v5.3+ pfn_end(pgmap, range_id). */
function pfn_end(pgmap: dev_pagemap, range_id: number): number {
  const r = pgmap.ranges[range_id]!;
  return PHYS_PFN(r.start + resource_size(r));
}

/** v5.3+ pfn_len(pgmap, range_id): (pfn_end - pfn_first) >> vmemmap_shift: one per folio. */
function pfn_len(pgmap: dev_pagemap, range_id: number): number {
  return (pfn_end(pgmap, range_id) - pfn_first(pgmap, range_id)) >> pgmap.vmemmap_shift;
}

/** pgmap_pfn_valid(pgmap, pfn) (v5.10+). */
export function pgmap_pfn_valid(pgmap: dev_pagemap, pfn: number): boolean {
  for (let i = 0; i < pgmap.nr_range; i++) {
    const r = pgmap.ranges[i]!;
    if (pfn >= PHYS_PFN(r.start) && pfn <= PHYS_PFN(r.end)) return pfn >= pfn_first(pgmap, i);
  }
  return false;
}

// ---- v5.1 / v5.2: kernel/memremap.c ----

/**
 * devm_memremap_pages_release(data) — the devres action.
 * v5.1: kill(ref); put_page() on every device pfn (what-if p2pdma-wait-in-kill: the kill after
 * the loop); then, with NO wait, mem_hotplug_begin();
 * arch_remove_memory(); kasan_remove_zero_shadow(); mem_hotplug_done(); untrack_pfn();
 * pgmap_array_delete(); dev_WARN_ONCE(altmap.alloc). A page whose count the put_page() loop
 * did not take to 0 is still referenced when its struct page goes away (seed 002).
 * v5.2 (seed 001): pgmap->cleanup(ref) — wait for the ref to go idle and exit it — between the
 * put_page() loop and the memmap removal.
 * v5.3+: memunmap_pages(pgmap).
 */
export const devm_memremap_pages_release = frame('devm_memremap_pages_release', function* (data: dev_pagemap): Gen<void> {
  if (patched('memremap-pgmap-owned-ref')) {
    yield* memunmap_pages(data);
    return;
  }
  const pgmap = data;
  yield* step('pgmap->kill(pgmap->ref)', read(pgmap));
  const dev = pgmap.dev;
  const res = pgmap.res;
  const kill = pgmap.kill;
  const ref = pgmap.ref;
  if (!kill || !ref) panic(`BUG: kernel NULL pointer dereference: pgmap->kill in devm_memremap_pages_release`);
  // What-if p2pdma-wait-in-kill: the kill (which then waits) after the put_page() loop.
  if (!patched('p2pdma-wait-in-kill')) yield* kill(ref);
  for (let pfn = pfn_first_before_pgmap_owned_ref(pgmap); pfn < pfn_end_before_pgmap_owned_ref(pgmap); pfn++) yield* put_page(pfn_to_page(pfn));
  if (patched('p2pdma-wait-in-kill')) yield* kill(ref);

  if (patched('memremap-fix-final-page-put-race')) {
    yield* step('pgmap->cleanup(pgmap->ref)', read(pgmap));
    const cleanup = pgmap.cleanup;
    if (!cleanup) panic(`BUG: kernel NULL pointer dereference: pgmap->cleanup in devm_memremap_pages_release`);
    yield* cleanup(ref);
  }

  // pages are dead and unused, undo the arch mapping
  const align_start = Math.floor(res.start / SECTION_SIZE()) * SECTION_SIZE();
  const align_size = ALIGN(res.start + resource_size(res), SECTION_SIZE()) - align_start;

  yield* mem_hotplug_begin();
  yield* arch_remove_memory(align_start, align_size, pgmap.altmap_valid ? pgmap.altmap : null);
  yield* kasan_remove_zero_shadow(__va(align_start), align_size);
  yield* mem_hotplug_done();

  yield* untrack_pfn(PHYS_PFN(align_start), align_size);
  yield* pgmap_array_delete(res);
  yield* step('dev_WARN_ONCE(dev, pgmap->altmap.alloc, ...)', read(pgmap));
  if (pgmap.altmap.alloc) yield* WARN_ONCE(true, 'kernel/memremap.c devm_memremap_pages_release', `${dev ? dev_name(dev) : '(NULL device *)'}: devm_memremap_pages_release: failed to free all reserved pages`);
});

/**
 * devm_memremap_pages(dev, pgmap) (v5.1/v5.2 kernel/memremap.c): the caller initialises res,
 * ref (live), kill (and v5.2 cleanup) and type. Returns __va(res->start) or an ERR_PTR.
 * On failure v5.1 kills the ref (and does not on the conflicting-section paths, which return
 * directly); v5.2 kills and cleans it up.
 */
function* devm_memremap_pages_before_pgmap_owned_ref(dev: device, pgmap: dev_pagemap): Gen<number | ErrPtr> {
  const where = 'kernel/memremap.c devm_memremap_pages';
  const altmap = pgmap.altmap_valid ? pgmap.altmap : null;
  const res = pgmap.res;
  const v52 = patched('memremap-fix-final-page-put-race');
  let error = 0;

  if (v52) {
    if (!pgmap.ref || !pgmap.kill || !pgmap.cleanup) {
      yield* WARN(true, where, 'Missing reference count teardown definition');
      return ERR_PTR(-EINVAL);
    }
  } else if (!pgmap.ref || !pgmap.kill) {
    return ERR_PTR(-EINVAL);
  }

  const align_start = Math.floor(res.start / SECTION_SIZE()) * SECTION_SIZE();
  const align_size = ALIGN(res.start + resource_size(res), SECTION_SIZE()) - align_start;
  const align_end = align_start + align_size - 1;
  const zone_device = zone_of('ZONE_DEVICE', 0);
  let nid = 0;

  // Stages reached, unwound in reverse by the error labels.
  type Label = 'err_array' | 'err_pfn_remap' | 'err_kasan' | 'err_add_memory';
  let label: Label | null = null;

  setup: {
    for (const addr of [align_start, align_end]) {
      const conflict_pgmap = yield* get_dev_pagemap(PHYS_PFN(addr), null);
      if (conflict_pgmap) {
        yield* dev_WARN(dev, where, 'Conflicting mapping in same section');
        yield* put_dev_pagemap(conflict_pgmap);
        if (!v52) return ERR_PTR(-ENOMEM);
        error = -ENOMEM;
        label = 'err_array';
        break setup;
      }
    }

    const is_ram = yield* region_intersects(align_start, align_size);
    if (is_ram !== REGION_DISJOINT) {
      yield* WARN_ONCE(true, where, `devm_memremap_pages attempted on ${is_ram === REGION_MIXED ? 'mixed' : 'ram'} region [mem ${hex(res.start)}-${hex(res.end)}]`);
      error = -ENXIO;
      label = 'err_array';
      break setup;
    }

    yield* step('pgmap->dev = dev', write(pgmap));
    pgmap.dev = dev;

    error = yield* xa_store_range(state().pgmap_array, PHYS_PFN(res.start), PHYS_PFN(res.end), pgmap);
    if (error) {
      label = 'err_array';
      break setup;
    }

    nid = dev_to_node(dev);
    if (nid < 0) nid = numa_mem_id();

    error = yield* track_pfn_remap(PHYS_PFN(align_start), align_size);
    if (error) {
      label = 'err_pfn_remap';
      break setup;
    }

    yield* mem_hotplug_begin();
    error = yield* kasan_add_zero_shadow(__va(align_start), align_size);
    if (error) {
      yield* mem_hotplug_done();
      label = 'err_kasan';
      break setup;
    }

    error = yield* arch_add_memory(nid, align_start, align_size, { altmap, pgprot: 'PAGE_KERNEL' });
    if (!error) yield* move_pfn_range_to_zone(zone_device, PHYS_PFN(align_start), PHYS_PFN(align_size));
    yield* mem_hotplug_done();
    if (error) {
      label = 'err_add_memory';
      break setup;
    }

    // Initialization of the pages has been deferred until now in order to allow us to do the
    // work while not holding the hotplug lock.
    yield* memmap_init_zone_device(zone_device, PHYS_PFN(align_start), PHYS_PFN(align_size), pgmap);
    yield* percpu_ref_get_many(pgmap.ref, pfn_end_before_pgmap_owned_ref(pgmap) - pfn_first_before_pgmap_owned_ref(pgmap));

    error = yield* devm_add_action_or_reset(dev, devm_memremap_pages_release, pgmap);
    if (error) return ERR_PTR(error);

    return __va(res.start);
  }

  // The error labels, falling through in the kernel's order.
  const at = (['err_array', 'err_pfn_remap', 'err_kasan', 'err_add_memory'] as const).indexOf(label ?? 'err_array');
  if (at >= 3) yield* kasan_remove_zero_shadow(__va(align_start), align_size); // err_add_memory:
  if (at >= 2) yield* untrack_pfn(PHYS_PFN(align_start), align_size); // err_kasan:
  if (at >= 1) yield* pgmap_array_delete(res); // err_pfn_remap:
  // err_array:
  yield* pgmap.kill!(pgmap.ref);
  if (v52) yield* pgmap.cleanup!(pgmap.ref);
  return ERR_PTR(error);
}

// ---- v5.3+ (the modelled v6.x trees): mm/memremap.c ----

/** dev_pagemap_percpu_release(ref): container_of(ref, struct dev_pagemap, ref); complete(&pgmap->done). */
export const dev_pagemap_percpu_release = percpu_ref_func(
  'dev_pagemap_percpu_release',
  frame('dev_pagemap_percpu_release', function* (ref: percpu_ref): Gen<void> {
    const pgmap = pgmap_of_ref(ref);
    yield* complete(pgmap.done);
  }),
);

/**
 * pageunmap_range(pgmap, range_id): remove the range's memmap under the hotplug lock
 * (remove_pfn_range_from_zone, then __remove_pages() for PRIVATE or arch_remove_memory() +
 * kasan_remove_zero_shadow()), untrack_pfn() (pfnmap_untrack()), then erase the xarray range.
 */
const pageunmap_range = frame('pageunmap_range', function* (pgmap: dev_pagemap, range_id: number): Gen<void> {
  const r = pgmap.ranges[range_id]!;
  // make sure to access a memmap that was actually initialized
  const first_page = pfn_to_page(pfn_first(pgmap, range_id));

  // pages are dead and unused, undo the arch mapping
  yield* mem_hotplug_begin();
  yield* step('page_zone(first_page)', read(first_page));
  const z = page_zone(first_page);
  yield* remove_pfn_range_from_zone(z, PHYS_PFN(r.start), PHYS_PFN(resource_size(r)));
  if (pgmap.type === MEMORY_DEVICE_PRIVATE) {
    yield* __remove_pages(PHYS_PFN(r.start), PHYS_PFN(resource_size(r)), null);
  } else {
    yield* arch_remove_memory(r.start, resource_size(r), pgmap_altmap(pgmap), pgmap);
    yield* kasan_remove_zero_shadow(__va(r.start), resource_size(r));
  }
  yield* mem_hotplug_done();

  yield* untrack_pfn(PHYS_PFN(r.start), resource_size(r));
  yield* pgmap_array_delete(r);
});

/**
 * memunmap_pages(pgmap) (v5.3+): percpu_ref_kill(&pgmap->ref); drop the bulk references
 * (a put_page() of every device page before patched('zone-device-no-extra-refcount'), 27674ef6c73f,
 * v5.18; percpu_ref_put_many() since, skipping PRIVATE/COHERENT with
 * patched('zone-device-refcount-0-private')); wait_for_completion(&pgmap->done) — until the last page and
 * pgmap reference is gone; pageunmap_range() for every range; percpu_ref_exit() (before the
 * pageunmap_range() calls until patched('memremap-fix-memunmap-race'), 1e57ffb6e3fd, v6.0);
 * WARN_ONCE(altmap.alloc); devmap_managed_enable_put() (not newest).
 */
export const memunmap_pages = frame('memunmap_pages', function* (pgmap: dev_pagemap): Gen<void> {
  if (!patched('memremap-pgmap-owned-ref')) throw new Error('memunmap_pages() does not exist on this tree (v5.3+)');
  yield* step('percpu_ref_kill(&pgmap->ref)', read(pgmap));
  const ref = pgmap_ref(pgmap);
  const nr_range = pgmap.nr_range;
  yield* percpu_ref_kill(ref);
  if (patched('zone-device-no-extra-refcount')) {
    if ((pgmap.type !== MEMORY_DEVICE_PRIVATE && pgmap.type !== MEMORY_DEVICE_COHERENT) || !patched('zone-device-refcount-0-private'))
      for (let i = 0; i < nr_range; i++) yield* percpu_ref_put_many(ref, pfn_len(pgmap, i));
  } else {
    for (let i = 0; i < nr_range; i++) for (let pfn = pfn_first(pgmap, i); pfn < pfn_end(pgmap, i); pfn++) yield* put_page(pfn_to_page(pfn));
  }

  yield* wait_for_completion(pgmap.done);
  // Before patched('memremap-fix-memunmap-race') the ref is exited while pgmap_array still
  // maps the range: a get_dev_pagemap() in between takes a reference on freed per-CPU
  // counters (1e57ffb6e3fd's commit message).
  if (!patched('memremap-fix-memunmap-race')) yield* percpu_ref_exit(ref);

  for (let i = 0; i < nr_range; i++) yield* pageunmap_range(pgmap, i);
  if (patched('memremap-fix-memunmap-race')) yield* percpu_ref_exit(ref);

  yield* WARN_ONCE(pgmap.altmap.alloc !== 0, 'mm/memremap.c memunmap_pages', 'failed to free all reserved pages');
  if (!patched('mm-zone-device-folio-free-op')) yield* devmap_managed_enable_put(pgmap);
});

/**
 * pagemap_range(pgmap, params, range_id, nid) (v5.10+; the body of memremap_pages() in
 * v5.3..v5.9): conflict checks, xarray insert, track_pfn_remap, hotplug the memmap
 * (add_pages() for PRIVATE, kasan_add_zero_shadow() + arch_add_memory() for the others),
 * memmap_init_zone_device(), then the bulk pgmap references (non-PRIVATE/COHERENT with
 * patched('zone-device-refcount-0-private'), every type before). The error labels undo in
 * reverse: err_add_memory (kasan), err_kasan (untrack), err_pfn_remap (xarray).
 */
const pagemap_range = frame('pagemap_range', function* (pgmap: dev_pagemap, params: mhp_params, range_id: number, nid: number): Gen<number> {
  const where = 'mm/memremap.c pagemap_range';
  const is_private = pgmap.type === MEMORY_DEVICE_PRIVATE;
  const r = pgmap.ranges[range_id]!;
  const start = r.start;
  const len = resource_size(r);
  let error = 0;

  if (yield* WARN_ONCE(pgmap_altmap(pgmap) !== null && range_id > 0, where, 'altmap not supported for multiple ranges')) return -EINVAL;

  for (const addr of [r.start, r.end]) {
    const conflict_pgmap = yield* get_dev_pagemap(PHYS_PFN(addr), null);
    if (conflict_pgmap) {
      yield* WARN(true, where, 'Conflicting mapping in same section');
      yield* put_dev_pagemap(conflict_pgmap);
      return -ENOMEM;
    }
  }

  const is_ram = yield* region_intersects(start, len);
  if (is_ram !== REGION_DISJOINT) {
    yield* WARN_ONCE(true, where, `attempted on ${is_ram === REGION_MIXED ? 'mixed' : 'ram'} region ${hex(r.start)}-${hex(r.end)}`);
    return -ENXIO;
  }

  error = yield* xa_store_range(state().pgmap_array, PHYS_PFN(r.start), PHYS_PFN(r.end), pgmap);
  if (error) return error;

  if (nid < 0) nid = numa_mem_id();

  type Label = 'err_pfn_remap' | 'err_kasan' | 'err_add_memory';
  let label: Label | null = null;
  setup: {
    error = yield* track_pfn_remap(PHYS_PFN(start), len);
    if (error) {
      label = 'err_pfn_remap';
      break setup;
    }
    // mhp_range_allowed(): the model's ranges are always addressable.

    yield* mem_hotplug_begin();
    // For device private memory we call add_pages() as we only need to allocate and
    // initialize struct page for the device memory (no linear mapping).
    if (is_private) {
      error = yield* add_pages(nid, PHYS_PFN(start), PHYS_PFN(len), params);
    } else {
      error = yield* kasan_add_zero_shadow(__va(start), len);
      if (error) {
        yield* mem_hotplug_done();
        label = 'err_kasan';
        break setup;
      }
      error = yield* arch_add_memory(nid, start, len, params);
    }
    if (!error) yield* move_pfn_range_to_zone(zone_of('ZONE_DEVICE', nid), PHYS_PFN(start), PHYS_PFN(len));
    yield* mem_hotplug_done();
    if (error) {
      label = 'err_add_memory';
      break setup;
    }

    // Initialization of the pages has been deferred until now in order to allow us to do the
    // work while not holding the hotplug lock.
    yield* memmap_init_zone_device(zone_of('ZONE_DEVICE', nid), PHYS_PFN(start), PHYS_PFN(len), pgmap);
    if ((pgmap.type !== MEMORY_DEVICE_PRIVATE && pgmap.type !== MEMORY_DEVICE_COHERENT) || !patched('zone-device-refcount-0-private'))
      yield* percpu_ref_get_many(pgmap_ref(pgmap), pfn_len(pgmap, range_id));
    return 0;
  }

  // The error labels, falling through in the kernel's order.
  const at = (['err_pfn_remap', 'err_kasan', 'err_add_memory'] as const).indexOf(label ?? 'err_pfn_remap');
  if (at >= 2 && !is_private) yield* kasan_remove_zero_shadow(__va(start), len); // err_add_memory:
  if (at >= 1) yield* untrack_pfn(PHYS_PFN(start), len); // err_kasan:
  yield* pgmap_array_delete(r); // err_pfn_remap:
  return error;
});

/**
 * memremap_pages(pgmap, nid) (v5.3+): per-type checks, init_completion(&pgmap->done),
 * percpu_ref_init(&pgmap->ref, dev_pagemap_percpu_release) (a fault point),
 * devmap_managed_enable_get() (not newest), pagemap_range() for each range; on a failure
 * memunmap_pages() of the ranges done so far. Returns __va(ranges[0].start) or an ERR_PTR.
 */
export const memremap_pages = frame('memremap_pages', function* (pgmap: dev_pagemap, nid: number): Gen<number | ErrPtr> {
  if (!patched('memremap-pgmap-owned-ref')) throw new Error('memremap_pages() does not exist on this tree (v5.3+); use devm_memremap_pages()');
  const where = 'mm/memremap.c memremap_pages';
  const newest = patched('mm-zone-device-folio-free-op');
  const params: mhp_params = { altmap: pgmap_altmap(pgmap), pgmap, pgprot: 'PAGE_KERNEL' };
  const nr_range = pgmap.nr_range;
  let error = 0;

  if (yield* WARN_ONCE(!nr_range, where, 'nr_range must be specified')) return ERR_PTR(-EINVAL);
  if (newest && (yield* WARN_ONCE(pgmap.vmemmap_shift > 0, where, 'requested folio size unsupported'))) return ERR_PTR(-EINVAL);

  const free_name = newest ? 'folio_free' : 'page_free';
  const has_free = (): boolean => !!(newest ? pgmap.ops?.folio_free : pgmap.ops?.page_free);
  const type = pgmap.type;
  if (type !== 0 && !memory_type_exists(type)) {
    yield* WARN(true, where, `Invalid pgmap type ${memory_type_value(type) || type}`);
  } else {
    switch (type) {
      case MEMORY_DEVICE_PRIVATE:
        if (!pgmap.ops || !pgmap.ops.migrate_to_ram) {
          yield* WARN(true, where, 'Missing migrate_to_ram method');
          return ERR_PTR(-EINVAL);
        }
        if (patched('zone-device-refcount-0-private')) {
          if (!has_free()) {
            yield* WARN(true, where, `Missing ${free_name} method`);
            return ERR_PTR(-EINVAL);
          }
          if (!pgmap.owner) {
            yield* WARN(true, where, 'Missing owner');
            return ERR_PTR(-EINVAL);
          }
        }
        break;
      case MEMORY_DEVICE_COHERENT:
        if (!pgmap.ops) panic(`BUG: kernel NULL pointer dereference: pgmap->ops->${free_name} in memremap_pages`);
        if (!has_free()) {
          yield* WARN(true, where, `Missing ${free_name} method`);
          return ERR_PTR(-EINVAL);
        }
        if (!pgmap.owner) {
          yield* WARN(true, where, 'Missing owner');
          return ERR_PTR(-EINVAL);
        }
        break;
      case MEMORY_DEVICE_FS_DAX:
        // v6.14/v6.15: IS_ENABLED(CONFIG_FS_DAX_LIMITED) is off on x86;
        // params.pgprot = pgprot_decrypted(params.pgprot)
        break;
      case MEMORY_DEVICE_GENERIC:
        break;
      case MEMORY_DEVICE_PCI_P2PDMA:
        // params.pgprot = pgprot_noncached(params.pgprot)
        break;
      default:
        yield* WARN(true, where, `Invalid pgmap type ${memory_type_value(type)}`);
        break;
    }
  }

  yield* step('&pgmap->ref, &pgmap->done', read(pgmap));
  const ref = pgmap_ref(pgmap);
  yield* init_completion(pgmap.done);
  error = yield* percpu_ref_init(ref, dev_pagemap_percpu_release, 0, GFP_KERNEL);
  if (error) return ERR_PTR(error);

  if (!newest) {
    error = yield* devmap_managed_enable_get(pgmap);
    if (error) {
      // v5.3..v5.x: dev_pagemap_kill(); dev_pagemap_cleanup() at err_array.
      yield* percpu_ref_kill(ref);
      yield* wait_for_completion(pgmap.done);
      yield* percpu_ref_exit(ref);
      return ERR_PTR(error);
    }
  }

  // Clear the pgmap nr_range as it will be incremented for each successfully processed range.
  // This communicates how many regions to unwind in the abort case.
  yield* step('pgmap->nr_range = 0', write(pgmap));
  pgmap.nr_range = 0;
  let i = 0;
  for (; i < nr_range; i++) {
    error = yield* pagemap_range(pgmap, params, i, nid);
    if (error) break;
    yield* step('pgmap->nr_range++', write(pgmap));
    pgmap.nr_range++;
  }

  if (i < nr_range) {
    yield* memunmap_pages(pgmap);
    yield* step('pgmap->nr_range = nr_range', write(pgmap));
    pgmap.nr_range = nr_range;
    return ERR_PTR(error);
  }

  return __va(pgmap.ranges[0]!.start);
});

/**
 * devm_memremap_pages(dev, pgmap). v5.1/v5.2: the whole setup (devm_memremap_pages_before_pgmap_owned_ref above).
 * v5.3+: memremap_pages(pgmap, dev_to_node(dev)); then devm_add_action_or_reset(dev,
 * devm_memremap_pages_release, pgmap), whose failure runs memunmap_pages() at once.
 */
export const devm_memremap_pages = frame('devm_memremap_pages', function* (dev: device, pgmap: dev_pagemap): Gen<number | ErrPtr> {
  if (!patched('memremap-pgmap-owned-ref')) return yield* devm_memremap_pages_before_pgmap_owned_ref(dev, pgmap);
  const ret = yield* memremap_pages(pgmap, dev_to_node(dev));
  if (IS_ERR(ret)) return ret;
  const error = yield* devm_add_action_or_reset(dev, devm_memremap_pages_release, pgmap);
  if (error) return ERR_PTR(error);
  return ret;
});

/**
 * devm_memunmap_pages(dev, pgmap) (patched('devm-memunmap-pages'), v5.2+):
 * devm_release_action(dev, devm_memremap_pages_release, pgmap): the release runs now.
 */
export const devm_memunmap_pages = frame('devm_memunmap_pages', function* (dev: device, pgmap: dev_pagemap): Gen<void> {
  if (!patched('devm-memunmap-pages')) throw new Error('devm_memunmap_pages() does not exist on this tree (it comes with patch devm-memunmap-pages, v5.2)');
  yield* devm_release_action(dev, devm_memremap_pages_release, pgmap);
});

/**
 * get_dev_pagemap(pfn, pgmap) — a new live reference on the pgmap of pfn, or NULL.
 * v5.1..v6.15: with a cached `pgmap` that covers pfn (res / range), return it as is (the
 * caller already holds a reference); otherwise put the cached one, then the slow path.
 * newest: get_dev_pagemap(pfn) (pass no cached pgmap: a second argument is a model error).
 * Slow path: rcu_read_lock(); xa_load(&pgmap_array, pfn); percpu_ref_tryget_live(pgmap->ref)
 * (v5.x), percpu_ref_tryget_live_rcu(&pgmap->ref) since patched('memremap-get-dev-pagemap-rcu')
 * (e7b72c48d677, v6.1); NULL if the ref is dead;
 * rcu_read_unlock(). Fails once the ref has been killed, though the xarray entry stays until
 * the end of the unmap.
 */
export const get_dev_pagemap = frame('get_dev_pagemap', function* (pfn: number, cached: dev_pagemap | null = null): Gen<dev_pagemap | null> {
  const phys = PFN_PHYS(pfn);
  if (patched('mm-zone-device-folio-free-op')) {
    if (cached !== null) throw new Error('get_dev_pagemap(pfn) takes one argument in this tree');
  } else if (cached) {
    // In the cached case we're already holding a live reference.
    yield* step(patched('memremap-pgmap-owned-ref') ? 'phys >= pgmap->range.start && phys <= pgmap->range.end' : 'phys >= pgmap->res.start && phys <= pgmap->res.end', read(cached));
    const r = patched('memremap-pgmap-owned-ref') ? cached.range : cached.res;
    if (phys >= r.start && phys <= r.end) return cached;
    yield* put_dev_pagemap(cached);
  }

  // fall back to slow path lookup
  yield* rcu_read_lock();
  let pgmap = yield* xa_load(state().pgmap_array, PHYS_PFN(phys));
  if (pgmap) {
    if (patched('memremap-get-dev-pagemap-rcu')) {
      yield* step('percpu_ref_tryget_live_rcu(&pgmap->ref)', read(pgmap));
      if (!(yield* percpu_ref_tryget_live_rcu(pgmap_ref(pgmap)))) pgmap = null;
    } else if (patched('memremap-pgmap-owned-ref')) {
      yield* step('percpu_ref_tryget_live(&pgmap->ref)', read(pgmap));
      if (!(yield* percpu_ref_tryget_live(pgmap_ref(pgmap)))) pgmap = null;
    } else {
      yield* step('percpu_ref_tryget_live(pgmap->ref)', read(pgmap));
      const ref = pgmap.ref;
      if (!ref) panic('BUG: kernel NULL pointer dereference: pgmap->ref in get_dev_pagemap');
      if (!(yield* percpu_ref_tryget_live(ref))) pgmap = null;
    }
  }
  yield* rcu_read_unlock();
  return pgmap;
});

// ---- the ZONE_DEVICE free paths ----

/** Reads page->pgmap (a step on the page) then the pgmap's fields (a step on the pgmap). */
function* pgmap_of_page(p: page, what: string): Gen<dev_pagemap> {
  yield* step(`${what}: page->pgmap`, read(p));
  const pgmap = p.pgmap;
  if (!pgmap) panic(`BUG: kernel NULL pointer dereference: page->pgmap in ${what}`);
  yield* step(`${what}: pgmap->type, pgmap->ops`, read(pgmap));
  return pgmap;
}

/**
 * __put_devmap_managed_page(page) (kernel/memremap.c v5.1/v5.2; mm/memremap.c in the v5.3 era
 * before patched('zone-device-no-extra-refcount')): devmap-managed pages are 1-based.
 * count = page_ref_dec_return(page); at 1 the page is free: __ClearPageActive,
 * __ClearPageWaiters, mem_cgroup_uncharge, (v5.3+: clear ->mapping of a device-private page)
 * and the driver's page_free — v5.x pgmap->page_free(page, pgmap->data), v5.3+
 * pgmap->ops->page_free(page); at 0 (the teardown loop, or a refcount bug) __put_page().
 */
export const __put_devmap_managed_page = frame('__put_devmap_managed_page', function* (p: page): Gen<void> {
  const count = yield* page_ref_dec_return(p);
  if (count === 1) {
    yield* step('__ClearPageActive(page); __ClearPageWaiters(page); mem_cgroup_uncharge(page)', write(p));
    p.flags &= ~(PG_active | PG_waiters);
    const pgmap = yield* pgmap_of_page(p, '__put_devmap_managed_page');
    if (!patched('memremap-pgmap-owned-ref')) {
      const page_free = pgmap.page_free;
      if (!page_free) panic('BUG: kernel NULL pointer dereference: page->pgmap->page_free in __put_devmap_managed_page');
      yield* page_free(p, pgmap.data);
      return;
    }
    if (pgmap.type === MEMORY_DEVICE_PRIVATE) {
      yield* step('page->mapping = NULL', write(p));
      p.mapping = null;
    }
    const page_free = pgmap.ops?.page_free;
    if (!page_free) panic('BUG: kernel NULL pointer dereference: page->pgmap->ops->page_free in __put_devmap_managed_page');
    yield* page_free(p);
  } else if (count === 0) {
    yield* __put_page(p);
  }
});

/**
 * __put_devmap_managed_folio_refs(folio, refs) (mm/memremap.c, v6.x until the fs-dax rework;
 * __put_devmap_managed_page_refs() before folios): only FS_DAX folios are devmap-managed:
 * folio_ref_sub_return(folio, refs) and, at 1, wake_up_var(&folio->_refcount); true. Other
 * types: false (the caller does folio_put()).
 */
export const __put_devmap_managed_folio_refs = frame('__put_devmap_managed_folio_refs', function* (f: folio, refs: number): Gen<boolean> {
  const pgmap = yield* pgmap_of_page(f, '__put_devmap_managed_folio_refs');
  if (pgmap.type !== MEMORY_DEVICE_FS_DAX) return false;
  // refcount of a fsdax page is 1-based: 1 means idle.
  if ((yield* folio_ref_sub_return(f, refs)) === 1) yield* log('wake_up_var(&folio->_refcount)');
  return true;
});

/**
 * free_zone_device_folio(folio) (mm/memremap.c; free_zone_device_page() before folios): the
 * count of a ZONE_DEVICE folio reached 0.
 * - v5.18..v6.0 (patched('zone-device-no-extra-refcount'), read at torvalds/linux 27674ef6c73f
 *   and in a v5.19 copy): WARN_ON_ONCE(!ops || !ops->page_free); mem_cgroup_uncharge; clear
 *   anon-exclusive (patched('mm-anon-exclusive'), 78fbe906cc90, v5.19); mapping = NULL;
 *   ops->page_free(page); set_page_count(page, 1) for every type.
 * - v6.14 (patched('zone-device-refcount-0-private')): WARN_ON_ONCE(!ops || !ops->page_free);
 *   mem_cgroup_uncharge; clear anon-exclusive; mapping = NULL; ops->page_free(page); then
 *   PRIVATE/COHERENT put_dev_pagemap(), every other type folio_set_count(folio, 1).
 * - v6.15 (+ seed 000, patched('p2pdma-refcount-init-to-p2pdma')): the same, but a switch:
 *   PRIVATE/COHERENT put_dev_pagemap; FS_DAX/GENERIC set the count to 1; PCI_P2PDMA nothing
 *   (the count stays 0).
 * - newest (patched('mm-zone-device-folio-free-op')): WARN_ON_ONCE(!pgmap); mapping = NULL
 *   except FS_DAX/GENERIC; PRIVATE/COHERENT ops->folio_free + percpu_ref_put_many(&pgmap->ref,
 *   nr); GENERIC folio_set_count(1) only; FS_DAX wake_up_var; PCI_P2PDMA ops->folio_free only.
 */
function* free_zone_device_body(f: folio): Gen<void> {
  const name = patched('zone-device-folio') ? 'free_zone_device_folio' : 'free_zone_device_page';
  const where = `mm/memremap.c ${name}`;
  yield* step('pgmap = folio->pgmap', read(f));
  const pgmap = f.pgmap;
  if (patched('mm-zone-device-folio-free-op')) {
    if (yield* WARN_ON_ONCE(!pgmap, where, 'WARN_ON_ONCE(!pgmap)')) return;
  }
  if (!pgmap) panic(`BUG: kernel NULL pointer dereference: folio->pgmap in ${name}`);
  yield* step('pgmap->type, pgmap->ops', read(pgmap));
  const type = pgmap.type;
  const ops = pgmap.ops;

  if (!patched('mm-zone-device-folio-free-op')) {
    if (yield* WARN_ON_ONCE(!ops || !ops.page_free, where, 'WARN_ON_ONCE(!folio->page.pgmap->ops || !folio->page.pgmap->ops->page_free)')) return;
  }

  // mem_cgroup_uncharge(folio): the model's device pages are never charged.
  if (patched('mm-anon-exclusive')) yield* step('folio_test_anon(folio)', read(f));
  if (patched('mm-anon-exclusive') && PageAnon(f)) {
    yield* VM_BUG_ON_FOLIO(false, f, where, 'folio_test_large(folio)');
    yield* step('__ClearPageAnonExclusive(folio_page(folio, 0))', write(f));
    f.flags &= ~PG_anon_exclusive;
  }

  if (!patched('mm-zone-device-folio-free-op') || (type !== MEMORY_DEVICE_FS_DAX && type !== MEMORY_DEVICE_GENERIC)) {
    yield* step('folio->mapping = NULL', write(f));
    f.mapping = null;
  }

  if (patched('mm-zone-device-folio-free-op')) {
    switch (type) {
      case MEMORY_DEVICE_PRIVATE:
      case MEMORY_DEVICE_COHERENT: {
        if (yield* WARN_ON_ONCE(!ops || !ops.folio_free, where, 'WARN_ON_ONCE(!pgmap->ops || !pgmap->ops->folio_free)')) break;
        yield* ops!.folio_free!(f);
        yield* step('percpu_ref_put_many(&pgmap->ref, nr)', read(pgmap));
        yield* percpu_ref_put_many(pgmap_ref(pgmap), 1);
        break;
      }
      case MEMORY_DEVICE_GENERIC:
        // Reset the refcount to 1 to prepare for handing out the page again.
        yield* folio_set_count(f, 1);
        break;
      case MEMORY_DEVICE_FS_DAX:
        yield* log('wake_up_var(folio_page(folio, 0))');
        break;
      case MEMORY_DEVICE_PCI_P2PDMA:
        if (yield* WARN_ON_ONCE(!ops || !ops.folio_free, where, 'WARN_ON_ONCE(!pgmap->ops || !pgmap->ops->folio_free)')) break;
        yield* ops!.folio_free!(f);
        break;
    }
    return;
  }

  yield* ops!.page_free!(f);

  if (!patched('zone-device-refcount-0-private')) {
    // v5.18..v6.0: every type is reset to 1 to prepare for handing out the page again.
    yield* folio_set_count(f, 1);
    return;
  }
  if (patched('p2pdma-refcount-init-to-p2pdma')) {
    switch (type) {
      case MEMORY_DEVICE_PRIVATE:
      case MEMORY_DEVICE_COHERENT:
        yield* put_dev_pagemap(pgmap);
        break;
      case MEMORY_DEVICE_FS_DAX:
      case MEMORY_DEVICE_GENERIC:
        // Reset the refcount to 1 to prepare for handing out the page again.
        yield* folio_set_count(f, 1);
        break;
      case MEMORY_DEVICE_PCI_P2PDMA:
        break;
    }
    return;
  }
  if (type !== MEMORY_DEVICE_PRIVATE && type !== MEMORY_DEVICE_COHERENT) {
    // Reset the refcount to 1 to prepare for handing out the page again.
    yield* folio_set_count(f, 1);
  } else {
    yield* put_dev_pagemap(pgmap);
  }
}

const free_zone_device_page = frame('free_zone_device_page', free_zone_device_body);
const free_zone_device_folio_frame = frame('free_zone_device_folio', free_zone_device_body);

/** free_zone_device_folio(folio), named free_zone_device_page() before patched('zone-device-folio') (9f100e3b3759, v6.10). */
export function* free_zone_device_folio(f: folio): Gen<void> {
  yield* (patched('zone-device-folio') ? free_zone_device_folio_frame : free_zone_device_page)(f);
}

/**
 * zone_device_page_init(page[, pgmap, order]) (v6.x; a driver allocating a PRIVATE/COHERENT
 * page). v6.14/v6.15: WARN_ON_ONCE(!percpu_ref_tryget_live(&page->pgmap->ref)) ("Drivers
 * shouldn't be allocating pages after calling memunmap_pages()", and it carries on);
 * set_page_count(page, 1); lock_page(page).
 * newest (page, pgmap, order): resets flags/mapping/pgmap/share of each page,
 * VM_WARN_ON_FOLIO(folio_ref_count(folio)), VM_WARN_ON_FOLIO(!folio_is_zone_device(folio));
 * WARN_ON_ONCE(!percpu_ref_tryget_many(&page_pgmap(page)->ref, 1 << order)) — tryget_many
 * succeeds on a killed ref; set_page_count(page, 1); lock_page(page). Only order 0 is modelled.
 */
export const zone_device_page_init = frame('zone_device_page_init', function* (p: page, pgmap?: dev_pagemap, order = 0): Gen<void> {
  const where = 'mm/memremap.c zone_device_page_init';
  if (!patched('zone-device-refcount-0-private')) throw new Error('zone_device_page_init() does not exist on this tree');
  if (patched('mm-zone-device-folio-free-op')) {
    if (!pgmap) throw new Error('zone_device_page_init(page, pgmap, order) takes a pgmap in this tree');
    if (order !== 0) throw new Error('zone_device_page_init: only order 0 is modelled');
    yield* VM_WARN_ON_ONCE(order > 10, where, 'order > MAX_ORDER_NR_PAGES');
    yield* step('new_page->flags &= ~0xff; mapping = NULL; pgmap = pgmap; share = 0', write(p));
    p.flags &= ~0xff;
    p.mapping = null;
    p.pgmap = pgmap;
    p.share = 0;
    const count = yield* folio_ref_count(p);
    yield* VM_WARN_ON_FOLIO(count !== 0, p, where, 'folio_ref_count(new_folio)');
    yield* step('folio_is_zone_device(new_folio)', read(p));
    yield* VM_WARN_ON_FOLIO(!is_zone_device_page(p), p, where, '!folio_is_zone_device(new_folio)');
    yield* step('&page_pgmap(page)->ref', read(p), read(pgmap));
    const ok = yield* percpu_ref_tryget_many(pgmap_ref(p.pgmap!), 1 << order);
    yield* WARN_ON_ONCE(!ok, where, 'WARN_ON_ONCE(!percpu_ref_tryget_many(&page_pgmap(page)->ref, 1 << order))');
  } else {
    if (pgmap !== undefined) throw new Error('zone_device_page_init(page) takes one argument in this tree');
    yield* step('&page->pgmap->ref', read(p));
    const pm = p.pgmap;
    if (!pm) panic('BUG: kernel NULL pointer dereference: page->pgmap in zone_device_page_init');
    const ok = yield* percpu_ref_tryget_live(pgmap_ref(pm));
    yield* WARN_ON_ONCE(!ok, where, 'WARN_ON_ONCE(!percpu_ref_tryget_live(&page->pgmap->ref))');
  }
  yield* set_page_count(p, 1);
  yield* lock_page(p);
});
