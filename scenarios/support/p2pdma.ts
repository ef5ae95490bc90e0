// What the p2pdma scenarios share: the machine (a PCI switch with a p2pmem provider and a DMA
// client behind it), the provider driver, the actors (driver bind/unbind, an in-kernel DMA
// client, a user process mapping p2pmem through sysfs, a sysfs reader) and the
// end-of-scenario checks.
//
// The provider driver is modelled on nvme's controller memory buffer (drivers/nvme/host/pci.c
// nvme_map_cmb()): probe gives each BAR to pci_p2pdma_add_resource() — on a failure it warns
// "failed to register the CMB" and stops there — and publishes the memory with
// pci_p2pmem_publish(pdev, true) when at least one BAR was added; the probe itself succeeds.
// remove() does nothing: devres tears the p2pmem down after it.
//
// The client is modelled on an in-kernel p2pmem user (nvmet with a p2pmem namespace):
// pci_p2pmem_find_many(), or a configured provider and pci_p2pdma_distance() →
// pci_p2pmem_alloc_sgl() → DMA-map the scatterlist (v5.1/v5.2: pci_p2pdma_map_sg(); v5.4..v5.19:
// pci_p2pdma_map_sg_attrs(); v6.0+: dma-direct's pci_p2pdma_map_segment(); newest:
// __pci_p2pdma_update_state()) → pci_p2pmem_free_sgl() → pci_dev_put().
//
// Actors wait for the provider's probe to have returned (the client module is loaded after
// the provider was bound): a precondition of the scenario, not a schedule; everything after
// the probe — the client's work and the unbind — runs concurrently.

import type { FinalReport, ThreadSpec } from '../../src/engine/execution.js';
import type { ModelState } from '../../src/engine/state.js';
import { block, frame, type Gen, read, step, write } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import { device_driver_attach, device_release_driver } from '../../src/kernel/drivers/base/dd.js';
import {
  pci_p2pdma_add_resource,
  pci_p2pdma_distance,
  pci_p2pmem_alloc_sgl,
  pci_p2pmem_find_many,
  pci_p2pmem_free_sgl,
  pci_p2pmem_publish,
} from '../../src/kernel/drivers/pci/p2pdma.js';
import { dma_map_sg } from '../../src/kernel/kernel/dma/direct.js';
import type { scatterlist } from '../../src/kernel/include/linux/scatterlist.js';
import { pci_add_device, pci_dev, pci_dev_put, pci_driver, pci_setup_mem_bar } from '../../src/kernel/drivers/pci/pci.js';
import { dev_kobj, kernfs_fop_read, kernfs_fop_release, sysfs_open } from '../../src/kernel/fs/sysfs.js';
import { VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from '../../src/kernel/include/linux/mm_types.js';
import { zone_device_state } from '../../src/kernel/inspect.js';
import { dev_warn } from '../../src/kernel/kernel/printk.js';
import { machine } from '../../src/kernel/machine.js';
import { set_cpus_allowed_ptr } from '../../src/kernel/kernel/sched/core.js';
import { memmap_present, PAGE_SIZE, PHYS_PFN } from '../../src/kernel/mm/memory_hotplug.js';
import { backtrace_lines } from '../../src/kernel/mm/kasan.js';
import { memremap_leftovers } from '../../src/kernel/mm/memremap.js';
import { user_access } from '../../src/kernel/mm/memory.js';
import { mm_alloc, vm_mmap, vm_munmap } from '../../src/kernel/mm/mmap.js';

/** Where the provider's BARs are: 4 GiB up, 16 MiB apart (section aligned for any section size the model uses). */
export const BAR_BASE = 0x1_0000_0000;
export const BAR_STRIDE = 0x100_0000;

/** The scenario's own synchronisation: the provider's probe has returned (and what it left). */
export class probe_done {
  done = false;
  /** The driver is bound. */
  ok = false;
  /** The provider has published p2pmem (what a client's configuration checks). */
  published = false;
}

export interface p2pdma_world {
  readonly provider: pci_dev;
  readonly client: pci_dev;
  readonly drv: pci_driver;
  readonly probed: probe_done;
  readonly bars: number;
  readonly pages: number;
}

/**
 * Boots `tree` and builds the PCI topology: a switch port (0000:01:00.0) with the provider
 * (0000:02:00.0, `bars` memory BARs of `pages` pages each) and the client (0000:03:00.0)
 * behind it, and the provider's driver (not bound yet). The BARs are seen at bus address CPU
 * address + bus_offset (0: as on x86).
 */
export function build_world(tree: string, bars: number, pages: number, bus_offset = 0): p2pdma_world {
  bootTree(tree);
  const bridge = pci_add_device(new pci_dev('0000:01:00.0', 0x10b5, 0x8747));
  const provider = pci_add_device(new pci_dev('0000:02:00.0', 0x144d, 0xa824));
  const client = pci_add_device(new pci_dev('0000:03:00.0', 0x8086, 0x0b60));
  provider.upstream = bridge;
  client.upstream = bridge;
  for (let bar = 0; bar < bars; bar++) pci_setup_mem_bar(provider, bar * 2, BAR_BASE + bar * BAR_STRIDE, pages * PAGE_SIZE, bus_offset);
  const probed = new probe_done();
  const drv = provider_driver(bars);
  return { provider, client, drv, probed, bars, pages };
}

/** The BAR numbers the provider has (0, 2, 4: 64-bit BARs take two slots). */
export function bar_numbers(bars: number): number[] {
  return Array.from({ length: bars }, (_, i) => i * 2);
}

/**
 * The provider's PCI driver (nvme_map_cmb()-like): each BAR to pci_p2pdma_add_resource(pdev,
 * bar, 0, 0); on a failure dev_warn "failed to register the CMB" and stop; publish when one
 * was added. Probe returns 0.
 */
function provider_driver(bars: number): pci_driver {
  const probe = frame('p2pmem_provider_probe', function* (pdev: pci_dev): Gen<number> {
    let added = 0;
    for (const bar of bar_numbers(bars)) {
      const ret = yield* pci_p2pdma_add_resource(pdev, bar, 0, 0);
      if (ret) {
        yield* dev_warn(pdev.dev, `failed to register the CMB (BAR ${bar}): ${ret}`);
        break;
      }
      added++;
    }
    if (added) yield* pci_p2pmem_publish(pdev, true);
    return 0;
  });
  const remove = frame('p2pmem_provider_remove', function* (_pdev: pci_dev): Gen<void> {});
  return new pci_driver('p2pmem-provider', [{ vendor: 0x144d, device: 0xa824 }], probe, remove);
}

/** The driver actor: bind the provider's driver (probe), say so, then unbind it. */
export function driver_actor(w: p2pdma_world, unbind = true): ThreadSpec {
  return {
    name: 'driver',
    *body(): Gen<void> {
      const bound = yield* device_driver_attach(w.drv.driver, w.provider.dev);
      // The scenario's precondition for the other actors, observed by the harness (not kernel
      // code): the probe has returned, and whether it published p2pmem (pci_has_p2pmem()).
      const p2pdma = w.provider.p2pdma;
      yield* step('(scenario) the provider probe has returned', write(w.probed), read(w.provider), ...(p2pdma ? [read(p2pdma)] : []));
      w.probed.done = true;
      w.probed.ok = bound === 1;
      w.probed.published = p2pdma !== null && p2pdma.pool !== null && p2pdma.p2pmem_published;
      if (unbind) yield* device_release_driver(w.provider.dev);
    },
  };
}

/** Waits until the provider's probe has returned (the scenario's precondition for the other actors). */
export function* wait_probed(w: p2pdma_world): Gen<void> {
  yield* block('(scenario) wait for the provider probe', 'the provider probe', () => w.probed.done, read(w.probed));
}

/**
 * An in-kernel DMA client: `allocs` times allocate `bytes` of p2pmem from the provider (each a
 * one-entry scatterlist), DMA-map them, and free them all; `rounds` times over (the memory a
 * round frees goes back to the pool, and the next round is handed it again). With `find`, the
 * client first looks the provider up with pci_p2pmem_find_many(); without, it was configured
 * with the provider before (as nvmet's p2pmem=<device> namespace attribute does, which checks
 * pci_has_p2pmem() when it is written) and holds a reference to it.
 *
 * With `symmetric`, the client is one of a class of identical clients (ThreadSpec.symmetric):
 * they are pinned to CPU 1 (`taskset -c 1`), away from the driver's CPU 0, so that nothing but
 * their order tells them apart, and the checker explores their interleavings once per
 * permutation of them.
 */
export function client_actor(w: p2pdma_world, name: string, allocs: number, bytes: number, find = false, rounds = 1, symmetric?: string): ThreadSpec {
  return {
    name,
    ...(symmetric ? { symmetric } : {}),
    *body(): Gen<void> {
      if (symmetric) yield* set_cpus_allowed_ptr(1);
      yield* wait_probed(w);
      // Configuration: the client uses the provider only if it published p2pmem (nvmet checks
      // pci_has_p2pmem() when its p2pmem attribute is written, after the provider's probe;
      // pci_p2pmem_find_many() checks it for each device).
      const pdev = find ? yield* pci_p2pmem_find_many([w.client.dev]) : w.probed.published ? w.provider : null;
      if (!pdev) return;
      // A configured provider: nvmet_p2pmem_ns_add_p2p() checks the distance, verbosely, which
      // also caches the map type the mapping looks up (pci_p2pdma_map_sg_attrs() before v6.0).
      if (!find && (yield* pci_p2pdma_distance(pdev, w.client.dev, true)) < 0) return;
      for (let round = 0; round < rounds; round++) {
        const sgls: scatterlist[] = [];
        for (let i = 0; i < allocs; i++) {
          const sg = yield* pci_p2pmem_alloc_sgl(pdev, bytes);
          if (!sg) break;
          sgls.push(sg);
        }
        if (sgls.length) yield* dma_map_sg(w.client, sgls);
        for (const sg of sgls) yield* pci_p2pmem_free_sgl(pdev, sg);
      }
      pci_dev_put(pdev);
    },
  };
}

/** The user VA where the process maps p2pmem. */
export const USER_ADDR = 0x7f00_0000_0000;

/**
 * A user process: open /sys/bus/pci/devices/<provider>/p2pmem/allocate, mmap `pages` pages of
 * it MAP_SHARED read/write, touch every page, munmap; `rounds` times in turn (the pages a
 * munmap frees go back to the pool, and the next mmap is handed them again); then close the
 * file and exit.
 */
export function process_actor(w: p2pdma_world, pages: number, rounds = 1): ThreadSpec {
  return {
    name: 'process',
    *body(): Gen<void> {
      yield* wait_probed(w);
      const filp = yield* sysfs_open(dev_kobj(w.provider.dev), ['p2pmem', 'allocate']);
      if (typeof filp === 'number') return;
      const mm = mm_alloc('p2pmem-user');
      const len = pages * PAGE_SIZE;
      const flags = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE;
      for (let round = 0; round < rounds; round++) {
        const addr = yield* vm_mmap(mm, filp, USER_ADDR, len, flags, 0);
        if (addr < 0) continue;
        for (let a = addr; a < addr + len; a += PAGE_SIZE) yield* user_access(mm, a, true);
        yield* vm_munmap(mm, addr, len);
      }
      // close(): the process keeps running; its mm holds nothing of the device any more.
      yield* kernfs_fop_release(filp);
    },
  };
}

/** A user process reading the p2pmem sysfs attributes (size, available, published). */
export function sysfs_reader_actor(w: p2pdma_world, attrs: readonly string[]): ThreadSpec {
  return {
    name: 'reader',
    *body(): Gen<void> {
      yield* wait_probed(w);
      for (const a of attrs) {
        const filp = yield* sysfs_open(dev_kobj(w.provider.dev), ['p2pmem', a]);
        if (typeof filp === 'number') continue;
        yield* kernfs_fop_read(filp);
        yield* kernfs_fop_release(filp);
      }
    },
  };
}

/**
 * The end-of-scenario checks after the unbind: kmemleak's unreferenced objects; ZONE_DEVICE
 * state memremap left behind; struct pages of the provider's BARs still present; the device
 * still having p2pdma state or a driver.
 */
export function final_checks(w: p2pdma_world): () => FinalReport[] {
  return () => {
    const out: FinalReport[] = [];
    // mm/kmemleak.c print_unreferenced(): the object, then its allocation backtrace.
    for (const l of machine().slab.leaks()) out.push({ kind: 'leak', title: `kmemleak: unreferenced object ${l.what} (allocated by ${l.allocatedBy})`, details: l.allocated ? [`comm "${l.allocated.thread}", step ${l.allocated.step}`, 'backtrace:', ...backtrace_lines(l.allocated.stack)] : [] });
    for (const x of memremap_leftovers()) out.push({ kind: 'leak', title: `after unbind: ${x} still set up` });
    for (let bar = 0; bar < w.bars; bar++) {
      const start = BAR_BASE + bar * BAR_STRIDE;
      for (let i = 0; i < w.pages; i++) {
        if (memmap_present(PHYS_PFN(start) + i)) {
          out.push({ kind: 'leak', title: `after unbind: the memmap of BAR ${bar * 2} (pfn 0x${(PHYS_PFN(start) + i).toString(16)}) is still present` });
          break;
        }
      }
    }
    if (w.provider.p2pdma !== null) out.push({ kind: 'leak', title: 'after unbind: pdev->p2pdma is still set' });
    return out;
  };
}

/** The state the trace viewer shows at each step (kernel/inspect.ts), for the provider and the client. */
export function state(w: p2pdma_world): () => ModelState {
  return () => zone_device_state([w.provider, w.client]);
}

/** A summary of the final state for comparing strategies. */
export function outcome(w: p2pdma_world): () => string {
  return () => `probe:${w.probed.ok ? 'bound' : 'failed'} driver:${w.provider.dev.driver ? 'bound' : 'none'} p2pdma:${w.provider.p2pdma ? 'set' : 'null'} dmesg:${machine().dmesg.length}`;
}
