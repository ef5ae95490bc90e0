// mm/slab_common.c, mm/slub.c: kmalloc, kzalloc, kfree. Every allocation is a fault-injection
// point (as with CONFIG_FAILSLAB); a freed object is poisoned, so a later access is KASAN's
// use-after-free and a second kfree its double-free; what is still allocated when a scenario
// ends is kmemleak's.

import { Failure, fault, frame, type Gen, step, where, write } from '../../engine/ops.js';
import type { gfp_t } from '../include/linux/gfp.js';
import { machine } from '../machine.js';
import { alloc_free_tracks, isPoisoned, memoryOf, poison, track, tracked } from './kasan.js';

/**
 * kmalloc(size, flags): `make` builds the object (a struct of the model); `what` names its
 * type for reports; `caller` is the kernel function allocating it.
 */
export function* kmalloc<T extends object>(what: string, caller: string, make: () => T, _flags: gfp_t): Gen<T | null> {
  if (yield* fault(`kmalloc(${what}) in ${caller}`)) return null;
  const obj = track(make(), what, caller, true, yield* where());
  machine().slab.add(obj);
  return obj;
}

/** kzalloc(): the model's structs are built zeroed by their constructors, so as kmalloc. */
export const kzalloc = kmalloc;

export const kfree = frame('kfree', function* (obj: object | null | undefined): Gen<void> {
  if (obj === null || obj === undefined) return;
  const t = tracked(obj);
  if (!t?.slab) throw new Error('kfree() of an object that kmalloc did not return');
  // Freeing writes the object's memory: it conflicts with every access of it.
  yield* step(`kfree(${t.what})`, ...memoryOf(obj).map((o) => write(o)));
  if (isPoisoned(obj)) throw new Failure('kasan', `BUG: KASAN: double-free of ${t.what} (allocated by ${t.allocatedBy})`, alloc_free_tracks(t));
  poison(obj, 'freed', yield* where());
  machine().slab.remove(obj);
});
