// drivers/base/devres.c: device-managed resources, and the devres inlines of
// include/linux/device.h (devm_add_action_or_reset, devm_kzalloc, devres_alloc).
//
// Follows devres.c of v5.1/v5.2 (read at torvalds/linux cbd32a1c56e3 and the "Introduce
// devm_release_action()" posting) and of v6.x (__devm_add_action with a name, remove_nodes /
// release_nodes split); the model sees no difference between them except devm_release_action(),
// which exists only with patched('devres-release-action') (v5.2 on).
//
// The model:
// - A resource is a `struct devres` (kmalloc'ed, a fault point, tracked for KASAN/kmemleak) whose
//   payload `data` is the object returned to the caller (tracked too, so that touching it after
//   the resource is freed is a use-after-free). dev.devres_head lists the nodes oldest first;
//   lookups and release walk it newest first, so release is LIFO.
// - The list is protected by dev->devres_lock (spin_lock_irqsave). Release callbacks run
//   without the lock, as in the kernel.
// - Release callbacks are generator functions (dev, res) => Gen<void>; custom actions are
//   generator functions (data) => Gen<void>, matched by identity with their data; the JS name of
//   an action (a frame() name) is shown in labels. Frame your actions to see them in traces.
// - An API the running tree does not have (devm_release_action() on v5.1) throws an ordinary
//   Error when called: a model error (the scenario would not compile against that tree), never
//   a finding.
//
// Not modelled: devres groups (devres_open_group & co), devres_get, devres_for_each_res,
// devm_kstrdup & friends, CONFIG_DEBUG_DEVRES logging. Tree differences without a modelled
// patch (so not branched on): devm_kfree(NULL) WARNs up to ~v5.9 and
// is ignored later (modelled: WARN); the v6.x "list_empty → return 0" fast path of
// devres_release_all() (modelled without: it only saves the lock round trip); devm_kmalloc(dev, 0)
// returns ZERO_SIZE_PTR from ~v5.10 (sizes are not modelled).

import { frame, type Gen, step, where, write, read } from '../../../engine/ops.js';
import { BUG_ON, WARN_ON } from '../../include/asm-generic/bug.js';
import { type gfp_t, GFP_KERNEL } from '../../include/linux/gfp.js';
import { spin_lock_irqsave, spin_unlock_irqrestore } from '../../include/linux/spinlock.js';
import { ENODEV, ENOENT, ENOMEM } from '../../include/uapi/errno.js';
import { patched } from '../../machine.js';
import { ownMemoryOf, poison, track } from '../../mm/kasan.js';
import { kfree, kmalloc } from '../../mm/slab.js';
import type { device } from './core.js';

const WHERE = 'drivers/base/devres.c';

/** dr_release_t: void (*)(struct device *dev, void *res). */
export type dr_release_t<T = any> = (dev: device, res: T) => Gen<void>;
/** dr_match_t: int (*)(struct device *dev, void *res, void *match_data); pure. */
export type dr_match_t<T = any> = (dev: device, res: T, match_data: unknown) => boolean;
/** A custom action: void (*action)(void *data). */
export type devm_action_t<T = any> = (data: T) => Gen<void>;

/** struct devres_node: the list linkage (on a device's list or not), the release function. */
export class devres_node {
  /** !list_empty(&node->entry). */
  on_list = false;
  constructor(
    readonly release: dr_release_t,
    /** set_node_dbginfo()'s name: what the resource is, for traces and leak reports. */
    readonly name: string,
  ) {}
}

/** struct devres: the node and the payload (dr->data). */
export class devres {
  constructor(
    readonly node: devres_node,
    readonly data: object,
  ) {}
}

/** container_of(res, struct devres, data): payload → its devres. */
const container = new WeakMap<object, devres>();
/** container_of(node, struct devres, node): node → its devres. */
const nodes = new WeakMap<devres_node, devres>();

function container_of(res: object): devres {
  const dr = container.get(res);
  if (!dr) throw new Error('devres: the object was not allocated by devres_alloc()/devm_kmalloc()');
  return dr;
}

function devres_head(dev: device): devres_node[] {
  if (dev.devres_head === null) throw new Error(`devres: device ${dev.name} was not initialised (device_initialize)`);
  return dev.devres_head;
}

/**
 * alloc_dr(release, size, gfp, nid): kmalloc of the devres (a fault point: NULL), header zeroed,
 * entry not on any list. `make` builds the payload; `what` names it; `caller` is the function
 * whose kmalloc_track_caller() this is.
 */
function* alloc_dr<T extends object>(release: dr_release_t, what: string, make: () => T, gfp: gfp_t, caller: string): Gen<devres | null> {
  const at = yield* where();
  const dr = yield* kmalloc(`struct devres (${what})`, caller, () => new devres(new devres_node(release, what), track(make(), what, caller, false, at)), gfp);
  if (dr === null) return null;
  container.set(dr.data, dr);
  nodes.set(dr.node, dr);
  return dr;
}

/** kfree(dr): the devres and its payload go away. */
function* free_dr(dr: devres): Gen<void> {
  const data = dr.data;
  // The payload's memory includes the structs embedded in it (a percpu_ref, a completion), not
  // what its fields point to: the free conflicts with every access of them. The payload is
  // poisoned in this step, the one whose footprint names that memory; the kfree() step after it
  // only names the devres header's own fields.
  yield* step(`kfree(dr) [${dr.node.name}]`, write(dr), ...ownMemoryOf(data).map((o) => write(o)));
  // Freed by the kfree(dr) that follows: the payload is part of the devres.
  const at = yield* where();
  poison(data, 'freed', { ...at, stack: [...at.stack, 'kfree'] });
  yield* kfree(dr);
}

/**
 * devres_alloc(release, size, gfp) → devres_alloc_node(release, size, gfp, NUMA_NO_NODE): the
 * payload built by `make` (zeroed: the model's constructors zero), or NULL when the allocation
 * fails (a fault point). Not on the device's list until devres_add().
 */
export const devres_alloc_node = frame('devres_alloc_node', function* <T extends object>(release: dr_release_t<T>, what: string, make: () => T, gfp: gfp_t, caller = 'devres_alloc_node'): Gen<T | null> {
  const dr = yield* alloc_dr(release, what, make, gfp, caller);
  if (dr === null) return null;
  return dr.data as T;
});

/** devres_alloc(): the include/linux/device.h macro over devres_alloc_node(). */
export const devres_alloc = devres_alloc_node;

/** devres_free(res): BUG_ON when it is still on a device's list; the release is not called. */
export const devres_free = frame('devres_free', function* (res: object | null): Gen<void> {
  if (!res) return;
  const dr = container_of(res);
  BUG_ON(dr.node.on_list, `${WHERE} devres_free`, 'BUG_ON(!list_empty(&dr->node.entry))');
  yield* free_dr(dr);
});

/** add_dr(dev, node) (caller holds devres_lock): BUG_ON when already on a list; at the tail. */
function add_dr(dev: device, node: devres_node): void {
  BUG_ON(node.on_list, `${WHERE} add_dr`, 'BUG_ON(!list_empty(&node->entry))');
  node.on_list = true;
  devres_head(dev).push(node);
}

/** devres_add(dev, res): registers the resource, newest at the tail. */
export const devres_add = frame('devres_add', function* (dev: device, res: object): Gen<void> {
  const dr = container_of(res);
  const flags = yield* spin_lock_irqsave(dev.devres_lock);
  yield* step(`add_dr(dev, &dr->node) [${dr.node.name}]`, write(devres_head(dev)));
  add_dr(dev, dr.node);
  yield* spin_unlock_irqrestore(dev.devres_lock, flags);
});

/** find_dr() (caller holds devres_lock): the newest entry with this release that matches. */
function find_dr(dev: device, release: dr_release_t, match: dr_match_t | null, match_data: unknown): devres | null {
  const head = devres_head(dev);
  for (let i = head.length - 1; i >= 0; i--) {
    const node = head[i]!;
    if (node.release !== release) continue;
    const dr = nodes.get(node)!;
    if (match && !match(dev, dr.data, match_data)) continue;
    return dr;
  }
  return null;
}

/** devres_find(dev, release, match, match_data): the payload of the newest match, or NULL. */
export const devres_find = frame('devres_find', function* <T = unknown>(dev: device, release: dr_release_t, match: dr_match_t | null, match_data: unknown): Gen<T | null> {
  const flags = yield* spin_lock_irqsave(dev.devres_lock);
  yield* step('dr = find_dr(dev, release, match, match_data)', read(devres_head(dev)));
  const dr = find_dr(dev, release, match, match_data);
  yield* spin_unlock_irqrestore(dev.devres_lock, flags);
  return dr ? (dr.data as T) : null;
});

/** devres_remove(): unlinks the newest match (list_del_init) and returns it, or NULL. */
export const devres_remove = frame('devres_remove', function* (dev: device, release: dr_release_t, match: dr_match_t | null, match_data: unknown): Gen<object | null> {
  const flags = yield* spin_lock_irqsave(dev.devres_lock);
  yield* step('dr = find_dr(dev, release, match, match_data); list_del_init(&dr->node.entry)', write(devres_head(dev)));
  const dr = find_dr(dev, release, match, match_data);
  if (dr) {
    const head = devres_head(dev);
    head.splice(head.indexOf(dr.node), 1);
    dr.node.on_list = false;
  }
  yield* spin_unlock_irqrestore(dev.devres_lock, flags);
  return dr ? dr.data : null;
});

/** devres_destroy(): devres_remove() and devres_free(), without calling release; -ENOENT when nothing matches. */
export const devres_destroy = frame('devres_destroy', function* (dev: device, release: dr_release_t, match: dr_match_t | null, match_data: unknown): Gen<number> {
  const res = yield* devres_remove(dev, release, match, match_data);
  if (!res) return -ENOENT;
  yield* devres_free(res);
  return 0;
});

/** devres_release(): devres_remove(), then release(dev, res) without the lock, then devres_free(); -ENOENT when nothing matches. */
export const devres_release = frame('devres_release', function* (dev: device, release: dr_release_t, match: dr_match_t | null, match_data: unknown): Gen<number> {
  const res = yield* devres_remove(dev, release, match, match_data);
  if (!res) return -ENOENT;
  yield* release(dev, res);
  yield* devres_free(res);
  return 0;
});

/**
 * devres_release_all(dev) (called on driver detach and probe failure): WARN_ON and -ENODEV for
 * an uninitialised device; else, under the lock, remove_nodes() moves every entry to a private
 * todo list, and after unlocking release_nodes() calls each release newest first and frees it.
 * Returns the number released.
 */
export const devres_release_all = frame('devres_release_all', function* (dev: device): Gen<number> {
  if (yield* WARN_ON(dev.devres_head === null, `${WHERE} devres_release_all`, 'WARN_ON(dev->devres_head.next == NULL)')) return -ENODEV;
  const flags = yield* spin_lock_irqsave(dev.devres_lock);
  const todo = yield* remove_nodes(dev);
  yield* spin_unlock_irqrestore(dev.devres_lock, flags);
  yield* release_nodes(dev, todo);
  return todo.length;
});

/** remove_nodes(dev, first, end, todo) for the whole list (no groups): every entry to todo, oldest first. */
const remove_nodes = frame('remove_nodes', function* (dev: device): Gen<devres[]> {
  const head = devres_head(dev);
  yield* step('list_move_tail(&node->entry, todo) for each node', write(head));
  const todo = head.map((node) => nodes.get(node)!);
  for (const node of head) node.on_list = false;
  head.length = 0;
  return todo;
});

/** release_nodes(dev, todo): list_for_each_entry_safe_reverse: release, kfree; newest first. */
const release_nodes = frame('release_nodes', function* (dev: device, todo: readonly devres[]): Gen<void> {
  for (let i = todo.length - 1; i >= 0; i--) {
    const dr = todo[i]!;
    yield* dr.node.release(dev, dr.data);
    yield* free_dr(dr);
  }
});

// ---- custom actions ----

/** struct action_devres { void *data; void (*action)(void *); }. */
export class action_devres {
  data: unknown = null;
  action: devm_action_t | null = null;
}

/** devm_action_match(): both the action and the data must be equal. */
function devm_action_match(_dev: device, res: action_devres, p: unknown): boolean {
  const target = p as { action: devm_action_t; data: unknown };
  return res.action === target.action && res.data === target.data;
}

/** devm_action_release(dev, res): devres->action(devres->data). */
const devm_action_release = frame('devm_action_release', function* (_dev: device, res: action_devres): Gen<void> {
  yield* res.action!(res.data);
});

function actionName(action: devm_action_t): string {
  return action.name || '(anonymous action)';
}

/**
 * devm_add_action(dev, action, data) (v6.3+: __devm_add_action(..., #action)): registers the
 * action to run when the device's resources are released. -ENOMEM when the devres cannot be
 * allocated (the only failure; the action is not called).
 */
export const devm_add_action = frame('devm_add_action', function* <T>(dev: device, action: devm_action_t<T>, data: T): Gen<number> {
  const devres = yield* devres_alloc(devm_action_release, `action_devres ${actionName(action)}`, () => new action_devres(), GFP_KERNEL, 'devm_add_action');
  if (!devres) return -ENOMEM;
  devres.data = data;
  devres.action = action;
  yield* devres_add(dev, devres);
  return 0;
});

/**
 * devm_add_action_or_reset(dev, action, data): the include/linux/device.h inline. When
 * devm_add_action() fails, runs action(data) at once and returns the error: the caller must not
 * run it again.
 */
export const devm_add_action_or_reset = frame('devm_add_action_or_reset', function* <T>(dev: device, action: devm_action_t<T>, data: T): Gen<number> {
  const ret = yield* devm_add_action(dev, action, data);
  if (ret) yield* action(data);
  return ret;
});

/**
 * devm_remove_action(dev, action, data): unregisters the newest matching action WITHOUT calling
 * it; WARN_ON when there is none. (v6.13+: an inline over devm_remove_action_nowarn(), same
 * behaviour.)
 */
export const devm_remove_action = frame('devm_remove_action', function* <T>(dev: device, action: devm_action_t<T>, data: T): Gen<void> {
  const ret = yield* devres_destroy(dev, devm_action_release, devm_action_match, { action, data });
  yield* WARN_ON(ret !== 0, `${WHERE} devm_remove_action`, 'WARN_ON(devres_destroy(dev, devm_action_release, devm_action_match, &devres))');
});

/**
 * devm_release_action(dev, action, data) — only with patched('devres-release-action') (v5.2+):
 * unregisters the newest matching action and calls it now (without the devres lock); WARN_ON
 * (and no call) when there is none. On trees without the patch the function does not exist:
 * calling it is a model error.
 */
export const devm_release_action = frame('devm_release_action', function* <T>(dev: device, action: devm_action_t<T>, data: T): Gen<void> {
  if (!patched('devres-release-action')) throw new Error('devm_release_action() does not exist on this tree (it comes with patch devres-release-action, v5.2)');
  const ret = yield* devres_release(dev, devm_action_release, devm_action_match, { action, data });
  yield* WARN_ON(ret !== 0, `${WHERE} devm_release_action`, 'WARN_ON(devres_release(dev, devm_action_release, devm_action_match, &devres))');
});

// ---- managed kmalloc ----

/** devm_kmalloc_release(): noop (the kfree is devres's own). */
const devm_kmalloc_release = frame('devm_kmalloc_release', function* (_dev: device, _res: object): Gen<void> {});

/** devm_kmalloc_match(): res == data. */
function devm_kmalloc_match(_dev: device, res: object, data: unknown): boolean {
  return res === data;
}

/**
 * devm_kmalloc(dev, size, gfp): `make` builds the object, `what` names it. NULL when the
 * allocation fails (a fault point); freed when the device's resources are released.
 */
export const devm_kmalloc = frame('devm_kmalloc', function* <T extends object>(dev: device, what: string, make: () => T, gfp: gfp_t = GFP_KERNEL): Gen<T | null> {
  const dr = yield* alloc_dr(devm_kmalloc_release, what, make, gfp, 'devm_kmalloc');
  if (dr === null) return null;
  yield* devres_add(dev, dr.data);
  return dr.data as T;
});

/** devm_kzalloc(dev, size, gfp) (include/linux/device.h): devm_kmalloc(dev, size, gfp | __GFP_ZERO). */
export const devm_kzalloc = frame('devm_kzalloc', function* <T extends object>(dev: device, what: string, make: () => T, gfp: gfp_t = GFP_KERNEL): Gen<T | null> {
  return yield* devm_kmalloc(dev, what, make, gfp);
});

/**
 * devm_kfree(dev, p): frees memory from devm_kmalloc() on this device now; WARN_ON(rc) when p is
 * not such memory (another device's, already freed, a member of it, NULL).
 */
export const devm_kfree = frame('devm_kfree', function* (dev: device, p: object | null): Gen<void> {
  const rc = yield* devres_destroy(dev, devm_kmalloc_release, devm_kmalloc_match, p);
  yield* WARN_ON(rc !== 0, `${WHERE} devm_kfree`, 'WARN_ON(rc)');
});
