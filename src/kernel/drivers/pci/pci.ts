// A PCI device model: struct pci_dev (include/linux/pci.h) with its struct device, its BARs as
// struct resource (include/linux/ioport.h) and their bus addresses, the accessors
// pci_resource_start/len/end/flags and pci_bus_address, to_pci_dev, pci_name, pci_info, the
// list of PCI devices (for_each_pci_dev / pci_get_device), and struct pci_driver bound through
// the driver core: pci_device_probe() / pci_device_remove() of drivers/pci/pci-driver.c wrap the
// PCI driver's probe(pdev, id) / remove(pdev) as the struct device_driver callbacks of
// drivers/base/dd.c.
//
// Trees: v5.1 .. newest; nothing here differs between the modelled trees except
// pdev->non_mappable_bars, which only the newest tree reads (pcim_p2pdma_init()).
//
// Shared objects (footprints): the pci_dev itself stands for pdev->p2pdma (a plain pointer up
// to v5.x, __rcu from "PCI/P2PDMA: finish RCU conversion", read with rcu_dereference(pdev,
// 'p2pdma')); pdev.driver_word for pdev->driver. BARs are set up before the scenario's
// threads start and never change.
//
// Not modelled: config space, capabilities (ACS), IRQs, runtime PM around probe/remove,
// pci_dev reference counting (pci_dev_get/pci_dev_put only stand for themselves), the
// resource tree, bridges (every device sits alone behind one root port).

import { frame, type Gen, read, step, write } from '../../../engine/ops.js';
import { ENODEV } from '../../include/uapi/errno.js';
import { dev_info, dev_warn } from '../../kernel/printk.js';
import { machine } from '../../machine.js';
import { dev_name, device, device as struct_device, device_initialize } from '../base/core.js';
import { device_driver } from '../base/dd.js';
import type { pci_p2pdma } from './p2pdma.js';

// ---- include/linux/ioport.h ----

/** IORESOURCE_IO / IORESOURCE_MEM / IORESOURCE_PREFETCH (include/linux/ioport.h). */
export const IORESOURCE_IO = 0x00000100;
export const IORESOURCE_MEM = 0x00000200;
export const IORESOURCE_PREFETCH = 0x00002000;

/** struct resource (include/linux/ioport.h): [start, end] inclusive, flags. */
export class resource {
  constructor(
    public start = 0,
    public end = -1,
    public flags = 0,
    readonly name = '',
  ) {}
}

/** resource_size(res) (include/linux/ioport.h). */
export function resource_size(res: resource): number {
  return res.end - res.start + 1;
}

// ---- include/linux/pci.h ----

/** PCI_STD_NUM_BARS (include/uapi/linux/pci_regs.h, v5.5+; 6 standard BARs in every tree). */
export const PCI_STD_NUM_BARS = 6;

/** struct pci_device_id: the match the probe receives (unused by the model's drivers). */
export interface pci_device_id {
  readonly vendor: number;
  readonly device: number;
}

/** struct pci_driver: probe(pdev, id) → 0 or a negative errno; remove(pdev). */
export class pci_driver {
  /** The struct device_driver embedded in it (pci_driver.driver). */
  readonly driver: device_driver;
  constructor(
    readonly name: string,
    readonly id_table: readonly pci_device_id[],
    readonly probe: (pdev: pci_dev, id: pci_device_id) => Gen<number>,
    readonly remove: ((pdev: pci_dev) => Gen<void>) | null = null,
  ) {
    this.driver = new device_driver(name, (dev) => pci_device_probe(dev), (dev) => pci_device_remove(dev));
    drivers.set(this.driver, this);
  }
}

/** to_pci_driver(drv): container_of(drv, struct pci_driver, driver). */
const drivers = new WeakMap<device_driver, pci_driver>();
export function to_pci_driver(drv: device_driver): pci_driver {
  const d = drivers.get(drv);
  if (!d) throw new Error('to_pci_driver: not the driver of a struct pci_driver');
  return d;
}

/**
 * struct pci_dev. `resource[bar]` is the BAR's CPU physical range; `bus_start[bar]` the bus
 * address of its first byte (pcibios_resource_to_bus(): the CPU address plus the host
 * bridge's window offset, 0 on x86).
 */
export class pci_dev {
  /** The struct device embedded in the pci_dev (&pdev->dev). */
  readonly dev: device;
  readonly resource: resource[] = [];
  readonly bus_start: number[] = [];
  /** pdev->driver: set by pci_device_probe() while the PCI driver's probe runs and after. */
  driver: pci_driver | null = null;
  /** The footprint object of pdev->driver (the pci_dev itself stands for pdev->p2pdma). */
  readonly driver_word = { word: 'pdev->driver' };
  /** pdev->p2pdma (drivers/pci/p2pdma.c; __rcu from "PCI/P2PDMA: finish RCU conversion"). */
  p2pdma: pci_p2pdma | null = null;
  /** pdev->non_mappable_bars (read by the newest pcim_p2pdma_init()). */
  non_mappable_bars = false;
  /** pdev->bus->self: the bridge the device sits behind (NULL on a root bus). */
  upstream: pci_dev | null = null;

  constructor(
    /** pci_name(pdev): "0000:01:00.0". */
    name: string,
    readonly vendor: number,
    readonly device: number,
  ) {
    this.dev = new struct_device(name);
    for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
      this.resource.push(new resource(0, -1, 0, `BAR ${i}`));
      this.bus_start.push(0);
    }
    devices.set(this.dev, this);
  }
}

/** to_pci_dev(dev): container_of(dev, struct pci_dev, dev). */
const devices = new WeakMap<device, pci_dev>();
export function to_pci_dev(dev: device): pci_dev {
  const p = devices.get(dev);
  if (!p) throw new Error(`to_pci_dev: ${dev.name} is not the device of a struct pci_dev`);
  return p;
}

/** dev_is_pci(dev). */
export function dev_is_pci(dev: device): boolean {
  return devices.has(dev);
}

/** pci_upstream_bridge(pdev) (include/linux/pci.h): the bridge above the device, or NULL. */
export function pci_upstream_bridge(pdev: pci_dev): pci_dev | null {
  return pdev.upstream;
}

/** pci_name(pdev): dev_name(&pdev->dev). */
export function pci_name(pdev: pci_dev): string {
  return dev_name(pdev.dev);
}

/** pci_info(pdev, fmt, ...): dev_info(&pdev->dev, ...). */
export function pci_info(pdev: pci_dev, text: string): Gen<void> {
  return dev_info(pdev.dev, text);
}

/** pci_warn(pdev, fmt, ...): dev_warn(&pdev->dev, ...). */
export function pci_warn(pdev: pci_dev, text: string): Gen<void> {
  return dev_warn(pdev.dev, text);
}

/** pci_info_ratelimited(): as pci_info (the model prints every time). */
export const pci_info_ratelimited = pci_info;

/** pci_resource_start(dev, bar). BARs never change while threads run: no step. */
export function pci_resource_start(pdev: pci_dev, bar: number): number {
  return pdev.resource[bar]!.start;
}

/** pci_resource_end(dev, bar). */
export function pci_resource_end(pdev: pci_dev, bar: number): number {
  return pdev.resource[bar]!.end;
}

/** pci_resource_flags(dev, bar). */
export function pci_resource_flags(pdev: pci_dev, bar: number): number {
  return pdev.resource[bar]!.flags;
}

/** pci_resource_len(dev, bar): 0 for an unassigned BAR (start == end == 0), else end - start + 1. */
export function pci_resource_len(pdev: pci_dev, bar: number): number {
  const r = pdev.resource[bar]!;
  return r.start === 0 && r.end === r.start ? 0 : resource_size(r);
}

/** pci_bus_address(pdev, bar) (drivers/pci/host-bridge.c via pcibios_resource_to_bus). */
export function pci_bus_address(pdev: pci_dev, bar: number): number {
  return pdev.bus_start[bar]!;
}

// ---- building devices (a scenario's setup) ----

/**
 * Sets up BAR `bar` of `pdev` as memory: `len` bytes at CPU physical address `start`, seen at
 * bus address `start + bus_offset`. For a scenario's setup, before any thread runs.
 */
export function pci_setup_mem_bar(pdev: pci_dev, bar: number, start: number, len: number, bus_offset = 0): void {
  const r = pdev.resource[bar]!;
  r.start = start;
  r.end = start + len - 1;
  r.flags = IORESOURCE_MEM;
  pdev.bus_start[bar] = start + bus_offset;
}

/** The machine's PCI devices, in the order they were added (pci_bus_add_device()). */
export function pci_devices(): pci_dev[] {
  return machine().global('pci devices', () => [] as pci_dev[]);
}

/**
 * pci_device_add() + pci_bus_add_device() as far as the model needs them: device_initialize()
 * of the embedded struct device and the device on the list. For a scenario's setup.
 */
export function pci_add_device(pdev: pci_dev): pci_dev {
  device_initialize(pdev.dev);
  pci_devices().push(pdev);
  return pdev;
}

/**
 * pci_get_device(PCI_ANY_ID, PCI_ANY_ID, from) / for_each_pci_dev(): the device after `from`
 * (the first when from is NULL), or NULL. The device list does not change while threads run.
 */
export function pci_get_device(from: pci_dev | null): pci_dev | null {
  const list = pci_devices();
  const i = from ? list.indexOf(from) + 1 : 0;
  return list[i] ?? null;
}

/** pci_dev_get()/pci_dev_put(): the model does not free pci_devs; they return the device. */
export function pci_dev_get(pdev: pci_dev | null): pci_dev | null {
  return pdev;
}
export function pci_dev_put(_pdev: pci_dev | null): void {}

// ---- drivers/pci/pci-driver.c ----

/**
 * pci_device_probe(dev) → __pci_device_probe() → pci_call_probe() → local_pci_probe()
 * (drivers/pci/pci-driver.c): pdev->driver = pci_drv; rc = pci_drv->probe(pdev, id); on
 * failure pdev->driver = NULL. The IRQ setup around it (pci_assign_irq, pcibios_alloc_irq),
 * runtime PM and the work_on_cpu() NUMA placement are not modelled.
 */
export const pci_device_probe = frame('pci_device_probe', function* (dev: device): Gen<number> {
  const pdev = to_pci_dev(dev);
  yield* step('drv = to_pci_driver(dev->driver)', read(dev));
  if (!dev.driver) return -ENODEV;
  const drv = to_pci_driver(dev.driver);
  return yield* local_pci_probe(pdev, drv);
});

const local_pci_probe = frame('local_pci_probe', function* (pdev: pci_dev, pci_drv: pci_driver): Gen<number> {
  yield* step('pci_dev->driver = pci_drv', write(pdev.driver_word));
  pdev.driver = pci_drv;
  const rc = yield* pci_drv.probe(pdev, pci_drv.id_table[0] ?? { vendor: pdev.vendor, device: pdev.device });
  if (!rc) return rc;
  if (rc < 0) {
    yield* step('pci_dev->driver = NULL', write(pdev.driver_word));
    pdev.driver = null;
    return rc;
  }
  // Probe returned a positive value: dev_warn "Driver probe function unexpectedly returned %d".
  return 0;
});

/**
 * pci_device_remove(dev) (drivers/pci/pci-driver.c): if (drv->remove) drv->remove(pci_dev);
 * pci_dev->driver = NULL (v5.x; v5.16+ the pci_dev->driver field is gone, to_pci_driver(dev->driver)
 * is used instead: the same for the model).
 */
export const pci_device_remove = frame('pci_device_remove', function* (dev: device): Gen<void> {
  const pdev = to_pci_dev(dev);
  yield* step('drv = pci_dev->driver', read(pdev.driver_word));
  const drv = pdev.driver;
  if (drv?.remove) yield* drv.remove(pdev);
  yield* step('pci_dev->driver = NULL', write(pdev.driver_word));
  pdev.driver = null;
});
