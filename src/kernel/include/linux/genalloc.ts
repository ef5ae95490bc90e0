// include/linux/genalloc.h: struct gen_pool, struct gen_pool_chunk, the algorithm type, and
// the static inline wrappers around lib/genalloc.c.
//
// Trees: v5.1 has no chunk owners; gen_pool_add_virt(), gen_pool_alloc(), gen_pool_alloc_algo()
// and gen_pool_free() are real exported functions of lib/genalloc.c. "lib/genalloc: Introduce
// chunk owners" (795ee30648c7, patched('genalloc-chunk-owners'), v5.2 on) turns them into the
// inlines below, over gen_pool_add_owner(), gen_pool_alloc_algo_owner() and
// gen_pool_free_owner(). Each exported name here dispatches on the patch, so that the call stack
// of a trace shows the functions of the running tree.
//
// An API that does not exist in the running tree (gen_pool_add_owner() on v5.1, say) is a
// model error when called: the scenario would not compile against that tree.
//
// Addresses are JS numbers (unsigned long / phys_addr_t); (phys_addr_t)-1 is -1.

import { static_inline } from './compiler.js';
import type { Gen } from '../../../engine/ops.js';
import { patched } from '../../machine.js';
import * as lib from '../../lib/genalloc.js';
import type { spinlock_t } from './spinlock.js';

/** Stands for `void **owner`: the callee stores the chunk owner (or NULL) in `value`. */
export interface ptr_ref<T = unknown> {
  value: T | null;
}

/**
 * genpool_algo_t (v5.0+ signature: map, size, start, nr, data, pool, start_addr). Returns the
 * first bit of the area found, or a value >= size when nothing fits. Algorithms only read the
 * bitmap; the caller announces that read.
 */
export type genpool_algo_t = (map: readonly number[], size: number, start: number, nr: number, data: unknown, pool: gen_pool, start_addr: number) => number;

/** atomic_long_t (atomic_t in old trees): its own shared object. */
export class atomic_long_t {
  constructor(public counter = 0) {}
}

/**
 * struct gen_pool_chunk. `bits` is the chunk's bitmap, one array element (0 or 1) per
 * allocation unit of 1 << min_alloc_order bytes; it is the shared object of every bitmap
 * access. `avail` is the atomic_long_t of free bytes. The list linkage (next_chunk) is the
 * chunk's place in pool.chunks.
 */
export class gen_pool_chunk {
  /** Only on trees with patched('genalloc-chunk-owners'). */
  owner: unknown = null;
  readonly avail = new atomic_long_t();
  readonly bits: number[];
  constructor(
    public phys_addr: number,
    public start_addr: number,
    public end_addr: number,
    nbits: number,
  ) {
    this.bits = new Array<number>(nbits).fill(0);
  }
}

/**
 * struct gen_pool. `chunks` is the RCU list of chunks, head first (list_add_rcu adds at the
 * head), and the shared object of every walk of the list and of every change to it.
 */
export class gen_pool {
  readonly chunks: gen_pool_chunk[] = [];
  algo: genpool_algo_t = lib.gen_pool_first_fit;
  data: unknown = null;
  /** v5.x+: set by devm_gen_pool_create(). */
  name: string | null = null;
  constructor(
    readonly lock: spinlock_t,
    public min_alloc_order: number,
  ) {}
}

/** struct genpool_data_align (for gen_pool_first_fit_align). */
export interface genpool_data_align {
  align: number;
}

// ---- the wrappers, by tree ----

// v5.2+: static inline gen_pool_add_virt() { return gen_pool_add_owner(..., NULL); }
const gen_pool_add_virt_inline = static_inline('gen_pool_add_virt', function* (pool: gen_pool, addr: number, phys: number, size: number, nid: number): Gen<number> {
  return yield* lib.gen_pool_add_owner(pool, addr, phys, size, nid, null);
});

/** gen_pool_add_virt(): lib/genalloc.c on v5.1, the inline over gen_pool_add_owner() from v5.2. */
export function gen_pool_add_virt(pool: gen_pool, addr: number, phys: number, size: number, nid: number): Gen<number> {
  return patched('genalloc-chunk-owners') ? gen_pool_add_virt_inline(pool, addr, phys, size, nid) : lib.gen_pool_add_virt(pool, addr, phys, size, nid);
}

/** static inline gen_pool_add() (all trees): gen_pool_add_virt(pool, addr, -1, size, nid). */
export const gen_pool_add = static_inline('gen_pool_add', function* (pool: gen_pool, addr: number, size: number, nid: number): Gen<number> {
  return yield* gen_pool_add_virt(pool, addr, -1, size, nid);
});

/** v5.2+ only: static inline gen_pool_alloc_owner(pool, size, owner). */
export const gen_pool_alloc_owner = static_inline('gen_pool_alloc_owner', function* (pool: gen_pool, size: number, owner: ptr_ref | null): Gen<number> {
  lib.requireOwners('gen_pool_alloc_owner');
  return yield* lib.gen_pool_alloc_algo_owner(pool, size, pool.algo, pool.data, owner);
});

// v5.2+: static inline gen_pool_alloc_algo() { return gen_pool_alloc_algo_owner(..., NULL); }
const gen_pool_alloc_algo_inline = static_inline('gen_pool_alloc_algo', function* (pool: gen_pool, size: number, algo: genpool_algo_t, data: unknown): Gen<number> {
  return yield* lib.gen_pool_alloc_algo_owner(pool, size, algo, data, null);
});

/** gen_pool_alloc_algo(): lib/genalloc.c on v5.1, an inline from v5.2. Returns 0 on failure. */
export function gen_pool_alloc_algo(pool: gen_pool, size: number, algo: genpool_algo_t, data: unknown): Gen<number> {
  return patched('genalloc-chunk-owners') ? gen_pool_alloc_algo_inline(pool, size, algo, data) : lib.gen_pool_alloc_algo(pool, size, algo, data);
}

// v5.2+: static inline gen_pool_alloc() { return gen_pool_alloc_algo(pool, size, pool->algo, pool->data); }
const gen_pool_alloc_inline = static_inline('gen_pool_alloc', function* (pool: gen_pool, size: number): Gen<number> {
  return yield* gen_pool_alloc_algo(pool, size, pool.algo, pool.data);
});

/** gen_pool_alloc(): lib/genalloc.c on v5.1, an inline from v5.2. Returns 0 on failure. */
export function gen_pool_alloc(pool: gen_pool, size: number): Gen<number> {
  return patched('genalloc-chunk-owners') ? gen_pool_alloc_inline(pool, size) : lib.gen_pool_alloc(pool, size);
}

// v5.2+: static inline gen_pool_free() { gen_pool_free_owner(pool, addr, size, NULL); }
const gen_pool_free_inline = static_inline('gen_pool_free', function* (pool: gen_pool, addr: number, size: number): Gen<void> {
  yield* lib.gen_pool_free_owner(pool, addr, size, null);
});

/** gen_pool_free(): lib/genalloc.c on v5.1, an inline from v5.2. */
export function gen_pool_free(pool: gen_pool, addr: number, size: number): Gen<void> {
  return patched('genalloc-chunk-owners') ? gen_pool_free_inline(pool, addr, size) : lib.gen_pool_free(pool, addr, size);
}

// The real functions of lib/genalloc.c (re-exported as live bindings: lib/genalloc.ts imports
// this header too). gen_pool_add_owner, gen_pool_alloc_algo_owner and gen_pool_free_owner exist
// only with patched('genalloc-chunk-owners').
export {
  addr_in_gen_pool,
  gen_pool_add_owner,
  gen_pool_alloc_algo_owner,
  gen_pool_free_owner,
  devm_gen_pool_create,
  gen_pool_avail,
  gen_pool_best_fit,
  gen_pool_create,
  gen_pool_destroy,
  gen_pool_first_fit,
  gen_pool_first_fit_align,
  gen_pool_first_fit_order_align,
  gen_pool_get,
  gen_pool_has_addr,
  gen_pool_set_algo,
  gen_pool_size,
  gen_pool_virt_to_phys,
} from '../../lib/genalloc.js';
