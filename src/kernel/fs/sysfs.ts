// sysfs over kernfs, as far as device attribute groups need it: fs/sysfs/group.c
// (sysfs_create_group, sysfs_remove_group), fs/sysfs/file.c (sysfs_remove_file_from_group, the
// kernfs ops of attributes and binary attributes: sysfs_kf_seq_show, sysfs_kf_bin_mmap),
// fs/kernfs/dir.c (kernfs nodes, active references, removal: __kernfs_remove, kernfs_drain)
// and fs/kernfs/file.c (kernfs_fop_open/release/mmap, kernfs_get_open_node/put_open_node,
// kernfs_drain_open_files, the kernfs vm_ops fault handler), plus the device attribute glue of
// drivers/base/core.c (dev_attr_show) and the struct kobject of a device.
//
// Read: fs/kernfs/file.c (torvalds/linux 03ab8e6297ac, the v5.x/v6.x form). The parts the model
// needs are the same in every modelled tree:
// - an operation on an attribute file (read, mmap) runs its callback holding an ACTIVE
//   reference of the kernfs node (kernfs_get_active()); kernfs_fop_mmap() holds it around the
//   attribute's ->mmap (e.g. p2pmem_alloc_mmap);
// - removing a node deactivates it (new kernfs_get_active() fail), waits until the active
//   references are gone (kernfs_drain: wait_event(deactivate_waitq, active ==
//   KN_DEACTIVATED_BIAS)), then for files with ->mmap calls unmap_mapping_range() on the
//   inode's mapping of every open file (kernfs_drain_open_files, v5.x spells it
//   kernfs_unmap_bin_file + kernfs_release_file), zapping the user mappings made through it.
//   That is what pci_p2pdma_unmap_mappings() relies on.
// - the VMA of an mmap'ed attribute gets kernfs_vm_ops; after the node is gone a fault in it
//   is SIGBUS (kernfs_vma_fault: no active reference / no of->vm_ops).
//
// Model choices:
// - A directory's children are one shared object (its rbtree, protected by kernfs_mutex in
//   v5.x and kernfs_rwsem later): lookups read it, adding and unlinking write it. kernfs_mutex
//   itself is a global mutex held by add and remove as in v5.x (the rwsem of v5.15+ lets
//   lookups run concurrently, which the model's unlocked lookup step covers).
// - kn->active is an integer on the node (the node is the footprint of its active count and
//   flags); KN_DEACTIVATED_BIAS is the kernel's INT_MIN + 1.
// - kernfs_open_file_mutex is a global mutex; the open files of a node are the node's
//   kernfs_open_node.files list.
// - Node memory (kmem_cache kernfs_node_cache) is not tracked: nodes are reference counted by
//   kernfs_get/kernfs_put and outlive every user the model has.
// - sysfs_create_group()'s allocations (kernfs_new_node() of the directory and of each file)
//   are one fault point: whichever fails, internal_create_group() removes what it created and
//   returns -ENOMEM.
//
// Not modelled: attribute ->store, seq_file buffering, poll/notify, namespaces, permissions,
// uid/gid, is_visible(), kernfs lockdep annotations, inodes and dentries beyond the inode's
// address_space (i_mapping), the VFS open path (path lookup is one step on the directory).

import { type Access, block, fault, frame, type Gen, read, step, write } from '../../engine/ops.js';
import { WARN, WARN_ON_ONCE } from '../include/asm-generic/bug.js';
import type { device } from '../drivers/base/core.js';
import { address_space, type file, VM_FAULT_SIGBUS, type vm_area_struct, type vm_fault, type vm_fault_t, type vm_operations_struct } from '../include/linux/mm_types.js';
import { EINVAL, ENODEV, ENOENT, ENOMEM } from '../include/uapi/errno.js';
import { DEFINE_MUTEX, type mutex, mutex_lock, mutex_unlock } from '../kernel/locking/mutex.js';
import { machine } from '../machine.js';
import { unmap_mapping_range } from '../mm/memory.js';
import { kfree, kmalloc, kzalloc } from '../mm/slab.js';
import { GFP_KERNEL } from '../include/linux/gfp.js';

const WHERE_DIR = 'fs/kernfs/dir.c';
const WHERE_GROUP = 'fs/sysfs/group.c';

// ---- struct attribute & co (include/linux/sysfs.h, include/linux/device.h) ----

/** struct attribute: name and mode. */
export class attribute {
  constructor(
    readonly name: string,
    readonly mode: number,
  ) {}
}

/** struct device_attribute: attr + show (the model's show returns the text). */
export class device_attribute {
  constructor(
    readonly attr: attribute,
    readonly show: ((dev: device, attr: device_attribute) => Gen<string>) | null,
  ) {
    dev_attrs.set(attr, this);
  }
}
const dev_attrs = new WeakMap<attribute, device_attribute>();

/** to_dev_attr(attr): container_of(attr, struct device_attribute, attr). */
export function to_dev_attr(attr: attribute): device_attribute {
  const d = dev_attrs.get(attr);
  if (!d) throw new Error(`to_dev_attr: ${attr.name} is not a device attribute`);
  return d;
}

/** DEVICE_ATTR_RO(name): a 0444 device attribute with name_show. */
export function DEVICE_ATTR_RO(name: string, show: (dev: device, attr: device_attribute) => Gen<string>): device_attribute {
  return new device_attribute(new attribute(name, 0o444), show);
}

/** The ->mmap of a binary attribute: (filp, kobj, attr, vma) → 0 or a negative errno. */
export type bin_mmap_t = (filp: file, kobj: kobject, attr: bin_attribute, vma: vm_area_struct) => Gen<number>;

/** struct bin_attribute: attr, size, mmap. */
export class bin_attribute {
  constructor(
    readonly attr: attribute,
    readonly size: number,
    readonly mmap: bin_mmap_t | null,
  ) {}
}

/** struct attribute_group: name (a subdirectory), attrs, bin_attrs. */
export class attribute_group {
  constructor(
    readonly name: string | null,
    readonly attrs: readonly attribute[],
    readonly bin_attrs: readonly bin_attribute[] = [],
  ) {}
}

// ---- kernfs ----

/** KN_DEACTIVATED_BIAS (fs/kernfs/kernfs-internal.h): INT_MIN + 1. */
export const KN_DEACTIVATED_BIAS = -2147483647;

/** enum kernfs_node_flag bits the model uses. */
export const KERNFS_DIR = 0x0001;
export const KERNFS_FILE = 0x0002;
export const KERNFS_ACTIVATED = 0x0010;
export const KERNFS_HAS_SEQ_SHOW = 0x0040;
export const KERNFS_HAS_MMAP = 0x0080;

/** The ops a kernfs file has (struct kernfs_ops, reduced). */
export interface kernfs_ops {
  readonly seq_show?: (of: kernfs_open_file) => Gen<string>;
  readonly mmap?: (of: kernfs_open_file, vma: vm_area_struct) => Gen<number>;
}

/** struct kernfs_open_node: the open files of a node. */
export class kernfs_open_node {
  refcnt = 0;
  readonly files: kernfs_open_file[] = [];
}

/**
 * struct kernfs_node. Each word the kernel keeps apart is a footprint of its own, so that steps
 * touching different words do not count as conflicting: the node object stands for kn->flags;
 * `active_word` for the atomic kn->active; `rb_word` for kn->rb (linked in the parent);
 * `children` (a directory's rbtree) is its own shared object; `open` (kn->attr.open, protected
 * by kernfs_open_node_lock / kernfs_open_file_mutex) uses `open_word`.
 */
export class kernfs_node {
  /** kn->active: active references, plus KN_DEACTIVATED_BIAS once deactivated. */
  active = KN_DEACTIVATED_BIAS;
  flags: number;
  /** Linked in its parent (!RB_EMPTY_NODE(&kn->rb)). */
  linked = false;
  readonly children: kernfs_node[] = [];
  /** kn->attr.ops, kn->attr.size. */
  readonly ops: kernfs_ops | null;
  readonly size: number;
  /** kn->attr.open. */
  open: kernfs_open_node | null = null;
  readonly open_word = { word: 'kn->attr.open' };
  readonly active_word = { word: 'kn->active' };
  readonly rb_word = { word: 'kn->rb' };
  /** The inode's i_mapping (one inode per kernfs node). */
  readonly i_mapping: address_space;

  constructor(
    readonly name: string,
    readonly parent: kernfs_node | null,
    flags: number,
    /** kn->priv: the kobject of a directory, the attribute of a file. */
    readonly priv: unknown,
    ops: kernfs_ops | null = null,
    size = 0,
  ) {
    this.flags = flags;
    this.ops = ops;
    this.size = size;
    this.i_mapping = new address_space(`sysfs ${name} i_mapping`);
  }

  /** A path for messages. */
  path(): string {
    return this.parent ? `${this.parent.path()}/${this.name}` : this.name;
  }
}

/** kernfs_mutex (v5.x; kernfs_rwsem from v5.15): add and remove hold it. */
function kernfs_mutex(): mutex {
  return machine().global('kernfs_mutex', () => DEFINE_MUTEX('kernfs_mutex'));
}

/** kernfs_open_file_mutex (fs/kernfs/file.c). */
function kernfs_open_file_mutex(): mutex {
  return machine().global('kernfs_open_file_mutex', () => DEFINE_MUTEX('kernfs_open_file_mutex'));
}

/**
 * A short critical section under `lock` as one step: wait until the mutex is free, then the
 * section's accesses, and the lock is free again at the end of the step. Equivalent to
 * mutex_lock(); ...; mutex_unlock() when everything the section touches is only touched under
 * that lock (or atomically), which is the case for the open-file list of a kernfs node.
 */
function* locked_section<R>(lock: mutex, label: string, access: readonly Access[], body: () => R): Gen<R> {
  yield* block(`mutex_lock(&${lock.name}); ${label}; mutex_unlock(&${lock.name})`, `mutex ${lock.name}`, () => lock.owner === null, write(lock), ...access);
  return body();
}

/** kernfs_active(kn): atomic_read(&kn->active) >= 0 (read inside a step listing the node). */
function kernfs_active(kn: kernfs_node): boolean {
  return kn.active >= 0;
}

/**
 * kernfs_get_active(kn) (fs/kernfs/dir.c): atomic_inc_unless_negative(&kn->active); NULL (false)
 * once the node is deactivated.
 */
export const kernfs_get_active = frame('kernfs_get_active', function* (kn: kernfs_node): Gen<boolean> {
  yield* step(`atomic_inc_unless_negative(&${kn.name}->active)`, write(kn.active_word));
  if (kn.active < 0) return false;
  kn.active++;
  return true;
});

/**
 * kernfs_put_active(kn) (fs/kernfs/dir.c): atomic_dec_return(&kn->active); at
 * KN_DEACTIVATED_BIAS wake_up_all(&root->deactivate_waitq) (the drain's wait condition).
 */
export const kernfs_put_active = frame('kernfs_put_active', function* (kn: kernfs_node): Gen<void> {
  yield* step(`atomic_dec_return(&${kn.name}->active)`, write(kn.active_word));
  kn.active--;
});

/** kernfs_new_node(parent, name, mode, flags) + kernfs_add_one(): a new node linked and activated. */
function* kernfs_add_one(kn: kernfs_node): Gen<void> {
  const parent = kn.parent!;
  yield* mutex_lock(kernfs_mutex());
  yield* step(`kernfs_link_sibling(${kn.name}); kernfs_activate(${kn.name})`, write(parent.children), write(kn), write(kn.rb_word), write(kn.active_word));
  parent.children.push(kn);
  kn.linked = true;
  // kernfs_activate(): atomic_sub(KN_DEACTIVATED_BIAS, &kn->active); KERNFS_ACTIVATED.
  kn.active -= KN_DEACTIVATED_BIAS;
  kn.flags |= KERNFS_ACTIVATED;
  yield* mutex_unlock(kernfs_mutex());
}

/**
 * kernfs_find_and_get(parent, name) (fs/kernfs/dir.c) as the VFS lookup of a sysfs path uses
 * it: the linked child of that name, or NULL.
 */
export const kernfs_find_and_get = frame('kernfs_find_and_get', function* (parent: kernfs_node, name: string): Gen<kernfs_node | null> {
  yield* step(`kernfs_find_ns(${parent.name}, "${name}")`, read(parent.children));
  return parent.children.find((c) => c.name === name) ?? null;
});

/**
 * kernfs_drain(kn) (fs/kernfs/dir.c), called with kernfs_mutex held, which it drops while
 * waiting: wait until the active references are gone, then kernfs_drain_open_files().
 */
const kernfs_drain = frame('kernfs_drain', function* (kn: kernfs_node): Gen<void> {
  yield* mutex_unlock(kernfs_mutex());
  yield* block(
    `wait_event(root->deactivate_waitq, atomic_read(&${kn.name}->active) == KN_DEACTIVATED_BIAS)`,
    `the active references of ${kn.path()} to drain`,
    () => kn.active === KN_DEACTIVATED_BIAS,
    read(kn.active_word),
  );
  if (kn.flags & KERNFS_HAS_MMAP) yield* kernfs_drain_open_files(kn);
  yield* mutex_lock(kernfs_mutex());
});

/**
 * kernfs_drain_open_files(kn) (fs/kernfs/file.c; v5.x: kernfs_unmap_bin_file): for each open
 * file of an mmap-able node, unmap_mapping_range(inode->i_mapping, 0, 0, 1) under
 * kernfs_open_file_mutex.
 */
export const kernfs_drain_open_files = frame('kernfs_drain_open_files', function* (kn: kernfs_node): Gen<void> {
  yield* step(`on = ${kn.name}->attr.open; if (on) atomic_inc(&on->refcnt)`, write(kn.open_word));
  const on = kn.open;
  if (!on) return;
  on.refcnt++;
  yield* mutex_lock(kernfs_open_file_mutex());
  yield* step('list_for_each_entry(of, &on->files, list)', read(kn.open_word));
  const files = [...on.files];
  for (const _of of files) {
    if (kn.flags & KERNFS_HAS_MMAP) yield* unmap_mapping_range(kn.i_mapping, 0, 0, 1);
  }
  yield* mutex_unlock(kernfs_open_file_mutex());
  yield* kernfs_put_open_node(kn, null);
});

/**
 * __kernfs_remove(kn) (fs/kernfs/dir.c), with kernfs_mutex held: nothing if already unlinked;
 * deactivate every node of the subtree (new kernfs_get_active() fail); then, deepest first,
 * drain each (wait for its active references, unmap mmaps of its open files) and unlink it.
 */
const __kernfs_remove = frame('__kernfs_remove', function* (kn: kernfs_node): Gen<void> {
  yield* step(`if (${kn.name}->parent && RB_EMPTY_NODE(&${kn.name}->rb)) return`, read(kn.rb_word));
  if (kn.parent && !kn.linked) return;
  yield* step(`kernfs_next_descendant_post(pos, ${kn.name})`, read(kn.children));
  const subtree = descendants_post(kn);
  for (const pos of subtree) {
    yield* step(`atomic_add(KN_DEACTIVATED_BIAS, &${pos.name}->active)`, write(pos.active_word));
    if (kernfs_active(pos)) pos.active += KN_DEACTIVATED_BIAS;
  }
  for (const pos of subtree) {
    yield* step(`pos->flags & KERNFS_ACTIVATED [${pos.name}]`, read(pos));
    if (pos.flags & KERNFS_ACTIVATED) yield* kernfs_drain(pos);
    else {
      yield* step(`atomic_read(&${pos.name}->active)`, read(pos.active_word));
      yield* WARN_ON_ONCE(pos.active !== KN_DEACTIVATED_BIAS, `${WHERE_DIR} __kernfs_remove`, 'WARN_ON_ONCE(atomic_read(&kn->active) != KN_DEACTIVATED_BIAS)');
    }
    if (pos.parent) {
      yield* step(`kernfs_unlink_sibling(${pos.name})`, write(pos.parent.children), write(pos.rb_word));
      const siblings = pos.parent.children;
      const i = siblings.indexOf(pos);
      if (i >= 0) siblings.splice(i, 1);
      pos.linked = false;
    }
  }
});

/** Post-order (children first) walk of a subtree: kernfs_next_descendant_post(). */
function descendants_post(kn: kernfs_node): kernfs_node[] {
  const out: kernfs_node[] = [];
  for (const c of kn.children) out.push(...descendants_post(c));
  out.push(kn);
  return out;
}

/** kernfs_remove(kn): __kernfs_remove() under kernfs_mutex. */
export const kernfs_remove = frame('kernfs_remove', function* (kn: kernfs_node | null): Gen<void> {
  if (!kn) return;
  yield* mutex_lock(kernfs_mutex());
  yield* __kernfs_remove(kn);
  yield* mutex_unlock(kernfs_mutex());
});

/**
 * kernfs_remove_by_name_ns(parent, name, ns) (fs/kernfs/dir.c): find and remove; -ENOENT (no
 * message) when there is no such node.
 */
export const kernfs_remove_by_name = frame('kernfs_remove_by_name', function* (parent: kernfs_node | null, name: string): Gen<number> {
  if (!parent) {
    yield* WARN(true, `${WHERE_DIR} kernfs_remove_by_name_ns`, `kernfs: can not remove '${name}', no directory`);
    return -ENOENT;
  }
  yield* mutex_lock(kernfs_mutex());
  yield* step(`kn = kernfs_find_ns(${parent.name}, "${name}")`, read(parent.children));
  const kn = parent.children.find((c) => c.name === name) ?? null;
  if (kn) yield* __kernfs_remove(kn);
  yield* mutex_unlock(kernfs_mutex());
  return kn ? 0 : -ENOENT;
});

// ---- struct kobject of a device ----

/** struct kobject: the model keeps its name and its sysfs directory (kobj->sd). */
export class kobject {
  sd: kernfs_node | null = null;
  constructor(
    readonly name: string,
    /** The device this is the kobject of (kobj_to_dev()). */
    readonly dev: device,
  ) {}
}

/**
 * &dev->kobj: the device's kobject, with its sysfs directory (created by device_add() in the
 * kernel; present from the first use in the model, which registers no devices while threads run).
 */
export function dev_kobj(dev: device): kobject {
  const map = machine().global('device kobjects', () => new Map<device, kobject>());
  let k = map.get(dev);
  if (!k) {
    k = new kobject(dev.name, dev);
    const sd = new kernfs_node(`devices/${dev.name}`, null, KERNFS_DIR | KERNFS_ACTIVATED, k);
    sd.active = 0;
    k.sd = sd;
    map.set(dev, k);
  }
  return k;
}

/** kobj_to_dev(kobj): container_of(kobj, struct device, kobj). */
export function kobj_to_dev(kobj: kobject): device {
  return kobj.dev;
}

// ---- fs/sysfs/file.c: the kernfs ops of sysfs files ----

/** sysfs_kf_seq_show → dev_attr_show → dev_attr->show(dev, dev_attr, buf). */
const sysfs_kf_seq_show = frame('sysfs_kf_seq_show', function* (of: kernfs_open_file): Gen<string> {
  const kobj = of.kn.parent!.priv as kobject;
  const attr = of.kn.priv as attribute;
  return yield* dev_attr_show(kobj, attr);
});

/** dev_attr_show(kobj, attr, buf) (drivers/base/core.c). */
const dev_attr_show = frame('dev_attr_show', function* (kobj: kobject, attr: attribute): Gen<string> {
  const dev_attr = to_dev_attr(attr);
  if (!dev_attr.show) return '';
  return yield* dev_attr.show(kobj_to_dev(kobj), dev_attr);
});

/**
 * sysfs_kf_bin_mmap(of, vma) (fs/sysfs/file.c): battr->mmap(of->file, kobj, battr, vma), where
 * kobj is the parent directory's kobject.
 */
const sysfs_kf_bin_mmap = frame('sysfs_kf_bin_mmap', function* (of: kernfs_open_file, vma: vm_area_struct): Gen<number> {
  const battr = of.kn.priv as bin_attribute;
  const kobj = of.kn.parent!.priv as kobject;
  if (!battr.mmap) return -EINVAL;
  return yield* battr.mmap(of.file, kobj, battr, vma);
});

const sysfs_file_kfops_ro: kernfs_ops = { seq_show: sysfs_kf_seq_show };
const sysfs_bin_kfops_mmap: kernfs_ops = { mmap: sysfs_kf_bin_mmap };

/**
 * create_files(kn, kobj, grp) (fs/sysfs/group.c) → sysfs_add_file_mode_ns() →
 * __kernfs_create_file(): a node per attribute and binary attribute, flags from its ops.
 */
function* create_files(parent: kernfs_node, grp: attribute_group): Gen<void> {
  for (const a of grp.attrs) {
    yield* kernfs_add_one(new kernfs_node(a.name, parent, KERNFS_FILE | KERNFS_HAS_SEQ_SHOW, a, sysfs_file_kfops_ro, 4096));
  }
  for (const b of grp.bin_attrs) {
    const ops = b.mmap ? sysfs_bin_kfops_mmap : {};
    yield* kernfs_add_one(new kernfs_node(b.attr.name, parent, KERNFS_FILE | (b.mmap ? KERNFS_HAS_MMAP : 0), b, ops, b.size));
  }
}

// ---- fs/sysfs/group.c ----

/**
 * sysfs_create_group(kobj, grp) → internal_create_group(kobj, 0, grp): WARN_ON(!kobj->sd) →
 * -EINVAL; kernfs_create_dir_ns(kobj->sd, grp->name) and create_files(). Any allocation failure
 * (one fault point here) leaves nothing behind and returns -ENOMEM.
 */
export const sysfs_create_group = frame('sysfs_create_group', function* (kobj: kobject, grp: attribute_group): Gen<number> {
  if (yield* WARN(!kobj.sd, `${WHERE_GROUP} internal_create_group`, 'WARN_ON(!kobj || (!update && !kobj->sd))')) return -EINVAL;
  if (yield* fault('sysfs_create_group: kernfs_new_node')) return -ENOMEM;
  let dir = kobj.sd!;
  if (grp.name) {
    dir = new kernfs_node(grp.name, kobj.sd, KERNFS_DIR, kobj);
    yield* kernfs_add_one(dir);
  }
  yield* create_files(dir, grp);
  return 0;
});

/**
 * sysfs_remove_group(kobj, grp) (fs/sysfs/group.c): find the group's directory (WARN "sysfs
 * group '%s' not found for kobject '%s'" when missing), remove its files (remove_files(): each
 * kernfs_remove_by_name(), absent ones silently) and the directory.
 */
export const sysfs_remove_group = frame('sysfs_remove_group', function* (kobj: kobject, grp: attribute_group): Gen<void> {
  let kn = kobj.sd;
  if (grp.name && kobj.sd) {
    kn = yield* kernfs_find_and_get(kobj.sd, grp.name);
    if (!kn) {
      yield* WARN(true, `${WHERE_GROUP} sysfs_remove_group`, `sysfs group '${grp.name}' not found for kobject '${kobj.name}'`);
      return;
    }
  }
  for (const a of grp.attrs) yield* kernfs_remove_by_name(kn, a.name);
  for (const b of grp.bin_attrs) yield* kernfs_remove_by_name(kn, b.attr.name);
  if (grp.name) yield* kernfs_remove(kn);
});

/**
 * sysfs_remove_file_from_group(kobj, attr, group) (fs/sysfs/file.c): kernfs_remove_by_name() of
 * the attribute in the group's directory (nothing when the group is gone).
 */
export const sysfs_remove_file_from_group = frame('sysfs_remove_file_from_group', function* (kobj: kobject, attr: attribute, group: string | null): Gen<void> {
  let parent = kobj.sd;
  if (group && kobj.sd) parent = yield* kernfs_find_and_get(kobj.sd, group);
  if (parent) yield* kernfs_remove_by_name(parent, attr.name);
});

// ---- fs/kernfs/file.c: open files ----

/**
 * struct kernfs_open_file. `mutex` is of->mutex (embedded); `kn` and `file` are pointers, kept
 * out of the object's own memory (non-enumerable) so that freeing it does not write the node or
 * the file.
 */
export class kernfs_open_file {
  readonly mutex: mutex;
  mmapped = false;
  vm_ops: vm_operations_struct | null = null;
  declare readonly kn: kernfs_node;
  declare file: file;
  constructor(kn: kernfs_node) {
    Object.defineProperty(this, 'kn', { value: kn, enumerable: false, writable: false });
    Object.defineProperty(this, 'file', { value: null, enumerable: false, writable: true });
    this.mutex = DEFINE_MUTEX(`of->mutex (${kn.name})`);
  }
}

/** The model's struct file of an open sysfs file. */
export class sysfs_file implements file {
  readonly f_mapping: address_space;
  private_data: kernfs_open_file;
  constructor(
    readonly name: string,
    of: kernfs_open_file,
  ) {
    this.f_mapping = of.kn.i_mapping;
    this.private_data = of;
  }
  mmap(filp: file, vma: vm_area_struct): Gen<number> {
    return kernfs_fop_mmap(filp, vma);
  }
}

function kernfs_of(filp: file): kernfs_open_file {
  return filp.private_data as kernfs_open_file;
}

/**
 * kernfs_get_open_node(kn, of) (fs/kernfs/file.c): under kernfs_open_file_mutex, chain `of` on
 * kn->attr.open, creating it (kmalloc, a fault point: -ENOMEM) on first open.
 */
const kernfs_get_open_node = frame('kernfs_get_open_node', function* (kn: kernfs_node, of: kernfs_open_file): Gen<number> {
  let new_on: kernfs_open_node | null = null;
  for (;;) {
    const on = yield* locked_section(kernfs_open_file_mutex(), `on = ${kn.name}->attr.open; list_add_tail(&of->list, &on->files)`, [write(kn.open_word)], () => {
      if (!kn.open && new_on) {
        kn.open = new_on;
        new_on = null;
      }
      const o = kn.open;
      if (o) {
        o.refcnt++;
        o.files.push(of);
      }
      return o;
    });
    if (on) {
      yield* kfree(new_on);
      return 0;
    }
    new_on = yield* kmalloc('struct kernfs_open_node', 'kernfs_get_open_node', () => new kernfs_open_node(), GFP_KERNEL);
    if (!new_on) return -ENOMEM;
  }
});

/**
 * kernfs_put_open_node(kn, of) (fs/kernfs/file.c): unlink `of`; the last reference frees the
 * kernfs_open_node.
 */
const kernfs_put_open_node = frame('kernfs_put_open_node', function* (kn: kernfs_node, of: kernfs_open_file | null): Gen<void> {
  const freed = yield* locked_section(kernfs_open_file_mutex(), 'list_del(&of->list); atomic_dec_and_test(&on->refcnt)', [write(kn.open_word)], () => {
    const on = kn.open!;
    if (of) on.files.splice(on.files.indexOf(of), 1);
    if (--on.refcnt === 0) {
      kn.open = null;
      return on;
    }
    return null;
  });
  yield* kfree(freed);
});

/**
 * kernfs_fop_open(inode, file) (fs/kernfs/file.c): under an active reference, kzalloc the
 * kernfs_open_file (a fault point), chain it on the node. -ENODEV when the node is being
 * removed. Returns the struct file, or a negative errno.
 */
export const kernfs_fop_open = frame('kernfs_fop_open', function* (kn: kernfs_node): Gen<sysfs_file | number> {
  if (!(yield* kernfs_get_active(kn))) return -ENODEV;
  const of = yield* kzalloc('struct kernfs_open_file', 'kernfs_fop_open', () => new kernfs_open_file(kn), GFP_KERNEL);
  if (!of) {
    yield* kernfs_put_active(kn);
    return -ENOMEM;
  }
  const filp = new sysfs_file(kn.path(), of);
  of.file = filp;
  const error = yield* kernfs_get_open_node(kn, of);
  if (error) {
    yield* kfree(of);
    yield* kernfs_put_active(kn);
    return error;
  }
  yield* kernfs_put_active(kn);
  return filp;
});

/** kernfs_fop_release(inode, filp) (fs/kernfs/file.c): put_open_node, kfree(of). */
export const kernfs_fop_release = frame('kernfs_fop_release', function* (filp: file): Gen<void> {
  const of = kernfs_of(filp);
  yield* kernfs_put_open_node(of.kn, of);
  yield* kfree(of);
});

/**
 * kernfs_fop_mmap(file, vma) (fs/kernfs/file.c): -ENODEV unless KERNFS_HAS_MMAP; under of->mutex
 * and an active reference (-ENODEV when the node is being removed), ops->mmap(of, vma); then the
 * VMA gets kernfs_vm_ops (the original vm_ops saved in of->vm_ops; -EINVAL when the driver's
 * vm_ops has ->close or differs from an earlier mmap's).
 */
export const kernfs_fop_mmap = frame('kernfs_fop_mmap', function* (filp: file, vma: vm_area_struct): Gen<number> {
  const of = kernfs_of(filp);
  yield* step(`${of.kn.name}->flags & KERNFS_HAS_MMAP`, read(of.kn));
  if (!(of.kn.flags & KERNFS_HAS_MMAP)) return -ENODEV;
  yield* mutex_lock(of.mutex);
  let rc = -ENODEV;
  if (yield* kernfs_get_active(of.kn)) {
    rc = yield* of.kn.ops!.mmap!(of, vma);
    if (!rc) {
      if (of.mmapped && of.vm_ops !== vma.vm_ops) rc = -EINVAL;
      else if (vma.vm_ops?.close) rc = -EINVAL;
      else {
        of.mmapped = true;
        of.vm_ops = vma.vm_ops;
        vma.vm_ops = kernfs_vm_ops;
      }
    }
    yield* kernfs_put_active(of.kn);
  }
  yield* mutex_unlock(of.mutex);
  return rc;
});

/**
 * kernfs_vma_fault(vmf) (fs/kernfs/file.c): VM_FAULT_SIGBUS without the driver's vm_ops or an
 * active reference; else the driver's ->fault.
 */
const kernfs_vma_fault = frame('kernfs_vma_fault', function* (vmf: vm_fault): Gen<vm_fault_t> {
  const filp = vmf.vma.vm_file!;
  const of = kernfs_of(filp);
  if (!of.vm_ops) return VM_FAULT_SIGBUS;
  if (!(yield* kernfs_get_active(of.kn))) return VM_FAULT_SIGBUS;
  let ret = VM_FAULT_SIGBUS;
  if (of.vm_ops.fault) ret = yield* of.vm_ops.fault(vmf);
  yield* kernfs_put_active(of.kn);
  return ret;
});

/** kernfs_vm_ops (fs/kernfs/file.c): the model has the fault handler (open/access are not used). */
export const kernfs_vm_ops: vm_operations_struct = { fault: kernfs_vma_fault };

/**
 * A read of a sysfs attribute file: kernfs_fop_read_iter → seq_read → kernfs_seq_start
 * (kernfs_get_active, -ENODEV when removed) → kernfs_seq_show → ops->seq_show →
 * kernfs_seq_stop (kernfs_put_active). Returns the text or a negative errno.
 */
export const kernfs_fop_read = frame('kernfs_fop_read', function* (filp: file): Gen<string | number> {
  const of = kernfs_of(filp);
  yield* mutex_lock(of.mutex);
  if (!(yield* kernfs_get_active(of.kn))) {
    yield* mutex_unlock(of.mutex);
    return -ENODEV;
  }
  const text = of.kn.ops?.seq_show ? yield* of.kn.ops.seq_show(of) : -EINVAL;
  yield* kernfs_put_active(of.kn);
  yield* mutex_unlock(of.mutex);
  return text;
});

/**
 * Opening a sysfs file by its path below a device's directory (the VFS lookup, one step per
 * component, then kernfs_fop_open): the struct file, or -ENOENT / -ENODEV / -ENOMEM.
 */
export const sysfs_open = frame('sysfs_open', function* (kobj: kobject, path: readonly string[]): Gen<sysfs_file | number> {
  let kn = kobj.sd;
  for (const name of path) {
    if (!kn) return -ENOENT;
    kn = yield* kernfs_find_and_get(kn, name);
  }
  if (!kn) return -ENOENT;
  return yield* kernfs_fop_open(kn);
});
