// drivers/base/core.c and the struct device of include/linux/device.h, as far as driver
// binding and device-managed resources need them: the device's name, parent, bound driver,
// driver data, its devres list with devres_lock, and the device lock (dev->mutex).
// device_lock()/device_unlock() and dev_get_drvdata()/dev_set_drvdata() are inlines of
// include/linux/device.h, kept here with the struct. Trees: v5.1 .. newest, no differences the
// model sees.
//
// Not modelled: the kobject (get_device/put_device and the release of the struct device),
// device_add/device_del and registration, buses, device links, power management, sysfs.

import { frame, type Gen, read, step, write } from '../../../engine/ops.js';
import { spinlock_t } from '../../include/linux/spinlock.js';
import { mutex, mutex_lock, mutex_unlock } from '../../kernel/locking/mutex.js';
import type { devres_node } from './devres.js';
import type { device_driver } from './dd.js';

/**
 * struct device. Shared objects for footprints: the device itself stands for its driver binding
 * fields (dev->driver, dev->driver_data, dev->p->dead), `devres_head` for the devres list,
 * `devres_lock` and `mutex` for the locks.
 */
export class device {
  /** dev->driver: the bound driver, or NULL. */
  driver: device_driver | null = null;
  /** dev->driver_data (dev_set_drvdata). */
  driver_data: unknown = null;
  /**
   * dev->devres_head: the device's managed resources, oldest first (list_add_tail). null until
   * device_initialize() (dev->devres_head.next == NULL: an uninitialised device).
   */
  devres_head: devres_node[] | null = null;
  /** dev->devres_lock. */
  readonly devres_lock: spinlock_t;
  /** dev->mutex: the device lock. */
  readonly mutex: mutex;
  /** dev->p->dead: set by device_del(); never set by the model. */
  dead = false;

  constructor(
    /** dev_name(dev). */
    readonly name: string,
    readonly parent: device | null = null,
  ) {
    this.devres_lock = new spinlock_t(`${name}->devres_lock`);
    this.mutex = new mutex(`${name}->mutex`);
  }
}

/**
 * device_initialize(dev) (drivers/base/core.c), the part the model has: mutex_init(&dev->mutex),
 * spin_lock_init(&dev->devres_lock), INIT_LIST_HEAD(&dev->devres_head). A plain function, for a
 * scenario's setup: the device is not shared yet.
 */
export function device_initialize(dev: device): void {
  dev.devres_head = [];
}

/** dev_name(dev) (include/linux/device.h). */
export function dev_name(dev: device): string {
  return dev.name;
}

/** device_lock(dev) (include/linux/device.h): mutex_lock(&dev->mutex). */
export const device_lock = frame('device_lock', function* (dev: device): Gen<void> {
  yield* mutex_lock(dev.mutex);
});

/** device_unlock(dev) (include/linux/device.h): mutex_unlock(&dev->mutex). */
export const device_unlock = frame('device_unlock', function* (dev: device): Gen<void> {
  yield* mutex_unlock(dev.mutex);
});

/** dev_get_drvdata(dev) (include/linux/device.h). */
export function* dev_get_drvdata<T = unknown>(dev: device): Gen<T> {
  yield* step('dev_get_drvdata(dev)', read(dev));
  return dev.driver_data as T;
}

/** dev_set_drvdata(dev, data) (include/linux/device.h). */
export function* dev_set_drvdata(dev: device, data: unknown): Gen<void> {
  yield* step('dev_set_drvdata(dev, data)', write(dev));
  dev.driver_data = data;
}
