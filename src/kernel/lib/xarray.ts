// lib/xarray.c, as far as ZONE_DEVICE uses it: an xarray of index → entry, each index its own
// slot. pgmap_array (mm/memremap.c) is stored and loaded index by index, so each slot is a
// shared object of its own; p2pdma's map_types cache is read and written under RCU as a whole,
// so its users name the xarray itself, and store and load inside the step they announce
// (xa_set/xa_get). Trees: xa_store_range()/xa_load()/xa_destroy() as v5.1..newest have them
// (pgmap_array has been an xarray since v4.20); xa_store()'s node allocation (xas_alloc() with
// GFP_NOWAIT under the lock, then __xas_nomem() with the caller's gfp) as lib/xarray.c has it
// in the v5.x and v6.x copies read (the kmem_cache_alloc_lru() era and before).

import { fault, frame, type Gen, read, step, write } from '../../engine/ops.js';
import { ENOMEM } from '../include/uapi/errno.js';
import { hex } from '../kernel/printk.js';
import { might_sleep } from '../kernel/rcu/tree.js';

/** One index of an xarray: its own shared object. */
export class xa_slot<T> {
  entry: T | null = null;
  constructor(readonly index: number) {}
}

/** struct xarray: DEFINE_XARRAY(name) or xa_init(), index → slot. */
export class xarray<T = unknown> {
  readonly slots = new Map<number, xa_slot<T>>();
  constructor(
    readonly name: string,
    /** What an entry is, for the steps' labels ("pgmap"). */
    readonly entryName = 'entry',
  ) {}
}


/** The slot of `index`, made on first use (an empty index holds NULL). */
export function xa_slot_of<T>(xa: xarray<T>, index: number): xa_slot<T> {
  let x = xa.slots.get(index);
  if (!x) {
    x = new xa_slot<T>(index);
    xa.slots.set(index, x);
  }
  return x;
}

/**
 * xa_err(xa_store_range(xa, first, last, entry, GFP_KERNEL)): stores entry at every index in
 * [first, last] under xa_lock. Storing an entry allocates nodes (a fault point: -ENOMEM);
 * storing NULL does not fail.
 */
export const xa_store_range = frame('xa_store_range', function* <T>(xa: xarray<T>, first: number, last: number, entry: T | null): Gen<number> {
  if (entry !== null && (yield* fault(`xa_store_range(&${xa.name}, ${hex(first)}, ${hex(last)}): xas_nomem`))) return -ENOMEM;
  const slots: xa_slot<T>[] = [];
  for (let i = first; i <= last; i++) slots.push(xa_slot_of(xa, i));
  yield* step(`xa_store_range(&${xa.name}, ${hex(first)}, ${hex(last)}, ${entry === null ? 'NULL' : xa.entryName})`, ...slots.map((x) => write(x)));
  for (const x of slots) x.entry = entry;
  return 0;
});

/** xa_load(xa, index) (under rcu_read_lock). */
export const xa_load = frame('xa_load', function* <T>(xa: xarray<T>, index: number): Gen<T | null> {
  const x = xa_slot_of(xa, index);
  yield* step(`xa_load(&${xa.name}, ${hex(index)})`, read(x));
  return x.entry;
});

/** xa_destroy(xa): drops every entry (the nodes are kfree'd: not tracked). Its users name the xarray. */
export const xa_destroy = frame('xa_destroy', function* (xa: xarray): Gen<void> {
  yield* step(`xa_destroy(&${xa.name})`, write(xa));
  xa.slots.clear();
});

/**
 * Whether xa_store(xa, index, ...) must allocate a node first: an empty xarray keeps an entry at
 * index 0 in its head, any other entry needs a node. The caches that use it (p2pdma's map_types,
 * one entry per client) fit in one node, so only the first store of an index other than 0
 * allocates.
 */
function xa_store_needs_node<T>(xa: xarray<T>, index: number): boolean {
  const held = xa_entries(xa);
  if (held.some((s) => s.index === index)) return false;
  if (held.length === 0) return index !== 0;
  return held.length === 1 && held[0]!.index === 0;
}

/**
 * The node allocation of xa_store(xa, index, entry, gfp), before the store: xas_store() finds
 * no node, xas_alloc() tries kmem_cache_alloc(GFP_NOWAIT | __GFP_NOWARN) under xa_lock (a fault
 * point); when that fails, __xas_nomem() drops the lock and allocates with the caller's gfp,
 * which may sleep (might_alloc(): a GFP_KERNEL caller inside an RCU read-side section is
 * reported) and may fail too (a fault point). False when the store cannot happen (-ENOMEM,
 * which the caches' users ignore).
 */
export const xa_store_alloc = frame('xa_store', function* <T>(xa: xarray<T>, index: number, gfp: 'GFP_KERNEL' | 'GFP_ATOMIC'): Gen<boolean> {
  yield* step(`xa_store(&${xa.name}, ${hex(index)}): xas_store() looks for the node`, read(xa));
  if (!xa_store_needs_node(xa, index)) return true;
  if (!(yield* fault(`xas_alloc(&${xa.name}): kmem_cache_alloc(GFP_NOWAIT)`))) return true;
  if (gfp === 'GFP_KERNEL') yield* might_sleep('include/linux/sched/mm.h');
  return !(yield* fault(`__xas_nomem(&${xa.name}): kmem_cache_alloc(${gfp})`));
});

/** The store of xa_store() inside a step that names the xarray (an RCU-protected cache). */
export function xa_set<T>(xa: xarray<T>, index: number, entry: T): void {
  xa_slot_of(xa, index).entry = entry;
}

/** The load of xa_load() inside a step that names the xarray. */
export function xa_get<T>(xa: xarray<T>, index: number): T | null {
  return xa.slots.get(index)?.entry ?? null;
}

/** The indices that hold an entry, in order (for end-of-scenario checks and the state a debugger shows). */
export function xa_entries<T>(xa: xarray<T>): xa_slot<T>[] {
  return [...xa.slots.values()].filter((s) => s.entry !== null).sort((a, b) => a.index - b.index);
}
