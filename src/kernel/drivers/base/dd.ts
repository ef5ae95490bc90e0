// drivers/base/dd.c: binding a driver to a device and unbinding it, as things an actor does.
//
// Follows dd.c of the v5.x era (gregkh/linux 0e33f8e4070b, ~v5.12) checked against v4.5 and
// v6.x: the order every modelled tree shares is
//   bind:   device_lock; dev->driver = drv; ->probe(); on failure devres_release_all(),
//           dev->driver = NULL; device_unlock
//   unbind: device_lock; ->remove(); devres_release_all(); dev->driver = NULL; device_unlock
// so devm resources and actions are released LIFO after ->remove() returns (v6.x:
// device_remove(), then device_unbind_cleanup() whose first statement is devres_release_all()).
//
// The model's driver is a `device_driver` with generator callbacks probe(dev) → int and
// remove(dev); there is no bus (bus->probe/bus->remove take precedence over the driver's in the
// kernel; a bus model would wrap them). Binding a bound device and unbinding an unbound one are
// no-ops, as in the kernel (dev->driver is checked under the device lock).
//
// Not modelled: buses and matching, deferred probe lists (-EPROBE_DEFER is only logged), async
// probing, device links, pinctrl, DMA configuration, PM domains and runtime PM, bus notifiers,
// klists, CONFIG_DEBUG_TEST_DRIVER_REMOVE, the parent lock of need_parent_lock buses.
// Tree differences without a modelled patch (so not branched on):
// really_probe()'s check of resources present before probing is WARN_ON(!list_empty()) up to
// v5.5 and dev_crit + -EBUSY (no probe) from v5.6 (7c35e699c88b) — modelled: the v5.1/v5.2
// WARN_ON; the return value convention is v5.x's (1 bound, 0 probe failed; v6.x returns the
// probe error as a positive value), and a driver_sysfs_add() failure is reported as "failed
// with error 0" as in v5.1 (later trees pass its error on); device_driver_attach() is the v5.4+
// name of what v5.1's __driver_attach() does inline (v5.1's sysfs bind_store() checks
// dev->driver before taking the device lock and does not check it again: not modelled).

import { fault, frame, type Gen, read, step, write } from '../../../engine/ops.js';
import { WARN_ON } from '../../include/asm-generic/bug.js';
import { ENODEV, ENOMEM, ENXIO } from '../../include/uapi/errno.js';
import { pr_err, pr_warn } from '../../kernel/printk.js';
import { type device, dev_name, device_lock, device_unlock } from './core.js';
import { devres_release_all } from './devres.js';

const WHERE = 'drivers/base/dd.c';

/** include/linux/errno.h: EPROBE_DEFER (kernel-internal, not in uapi). */
export const EPROBE_DEFER = 517;

/** struct device_driver: name, probe (returns 0 or a negative errno), remove. */
export class device_driver {
  constructor(
    readonly name: string,
    readonly probe: ((dev: device) => Gen<number>) | null,
    readonly remove: ((dev: device) => Gen<unknown>) | null = null,
  ) {}
}

/** driver_sysfs_add(dev): the driver/device symlinks; can fail (-ENOMEM): a fault point. */
const driver_sysfs_add = frame('driver_sysfs_add', function* (_dev: device): Gen<number> {
  if (yield* fault('driver_sysfs_add: sysfs_create_link')) return -ENOMEM;
  return 0;
});

/**
 * really_probe(dev, drv) (drivers/base/dd.c), called with the device lock held: dev->driver =
 * drv, driver_sysfs_add(), drv->probe(dev). Returns 1 when bound. On failure (probe_failed):
 * devres_release_all() — the devm resources and actions the probe registered run LIFO; ->remove
 * is not called — then dev->driver = NULL, the message, and 0 ("ignore errors returned by
 * ->probe so that the next driver can try its luck").
 */
export const really_probe = frame('really_probe', function* (dev: device, drv: device_driver): Gen<number> {
  yield* step('WARN_ON(!list_empty(&dev->devres_head))', read(dev.devres_head ?? dev));
  yield* WARN_ON(dev.devres_head !== null && dev.devres_head.length > 0, `${WHERE} really_probe`, 'WARN_ON(!list_empty(&dev->devres_head))');

  yield* step('dev->driver = drv', write(dev));
  dev.driver = drv;

  // v5.1/v5.2: `if (driver_sysfs_add(dev)) { pr_err(...); goto probe_failed; }` leaves ret 0.
  let ret = 0;
  let failed = false;
  if (yield* driver_sysfs_add(dev)) {
    yield* pr_err(`really_probe: driver_sysfs_add(${dev_name(dev)}) failed`);
    failed = true;
  } else if (drv.probe) {
    ret = yield* drv.probe(dev);
    failed = ret !== 0;
  }
  if (!failed) {
    // driver_bound(dev)
    return 1;
  }

  // probe_failed:
  yield* devres_release_all(dev);
  // driver_sysfs_remove(dev); dev->driver = NULL; dev_set_drvdata(dev, NULL);
  yield* step('dev->driver = NULL; dev_set_drvdata(dev, NULL)', write(dev));
  dev.driver = null;
  dev.driver_data = null;

  if (ret === -EPROBE_DEFER) {
    // driver_deferred_probe_add_trigger(dev): deferred probing is not modelled.
  } else if (ret === -ENODEV || ret === -ENXIO) {
    // pr_debug("probe of %s rejects match %d")
  } else {
    yield* pr_warn(`${drv.name}: probe of ${dev_name(dev)} failed with error ${ret}`);
  }
  return 0;
});

/**
 * driver_probe_device(drv, dev) (drivers/base/dd.c): must be called with the device lock held.
 * The model has no unregistered devices (-ENODEV) and no runtime PM around the probe.
 */
export const driver_probe_device = frame('driver_probe_device', function* (drv: device_driver, dev: device): Gen<number> {
  return yield* really_probe(dev, drv);
});

/**
 * device_driver_attach(drv, dev) (drivers/base/dd.c, v5.4+; the same steps as v5.1's
 * __driver_attach()): under the device lock, probe unless the device is dead or already has a
 * driver (then 0, nothing done).
 */
export const device_driver_attach = frame('device_driver_attach', function* (drv: device_driver, dev: device): Gen<number> {
  let ret = 0;
  yield* device_lock(dev);
  yield* step('if (!dev->p->dead && !dev->driver)', read(dev));
  if (!dev.dead && !dev.driver) ret = yield* driver_probe_device(drv, dev);
  yield* device_unlock(dev);
  return ret;
});

/**
 * __device_release_driver(dev, parent) (drivers/base/dd.c), with the device lock held: when a
 * driver is bound, drv->remove(dev), then devres_release_all(dev), then dev->driver = NULL.
 */
export const __device_release_driver = frame('__device_release_driver', function* (dev: device, _parent: device | null): Gen<void> {
  yield* step('drv = dev->driver', read(dev));
  const drv = dev.driver;
  if (!drv) return;
  // driver_sysfs_remove(dev); BUS_NOTIFY_UNBIND_DRIVER; pm_runtime_put_sync(dev);
  if (drv.remove) yield* drv.remove(dev);
  yield* devres_release_all(dev);
  yield* step('dev->driver = NULL; dev_set_drvdata(dev, NULL)', write(dev));
  dev.driver = null;
  dev.driver_data = null;
  // klist_remove(&dev->p->knode_driver); BUS_NOTIFY_UNBOUND_DRIVER; KOBJ_UNBIND
});

/**
 * device_release_driver_internal(dev, drv, parent): under the device lock, releases the driver
 * if it is `drv` (or any driver when drv is NULL).
 */
export const device_release_driver_internal = frame('device_release_driver_internal', function* (dev: device, drv: device_driver | null, parent: device | null): Gen<void> {
  yield* device_lock(dev);
  let match = !drv;
  if (!match) {
    yield* step('if (!drv || drv == dev->driver)', read(dev));
    match = drv === dev.driver;
  }
  if (match) yield* __device_release_driver(dev, parent);
  yield* device_unlock(dev);
});

/** device_release_driver(dev): manually detach the device from its driver (unbind). */
export const device_release_driver = frame('device_release_driver', function* (dev: device): Gen<void> {
  yield* device_release_driver_internal(dev, null, null);
});
