// lib/genalloc.c: the general purpose special memory allocator (gen_pool).
//
// Follows lib/genalloc.c as of v5.1 (the 7-argument genpool_algo_t of v5.0, start_bit reset for
// every chunk since v4.9) and "lib/genalloc: Introduce chunk owners" (795ee30648c7,
// patched('genalloc-chunk-owners'), v5.2 on), which renames gen_pool_add_virt() to
// gen_pool_add_owner(), gen_pool_alloc_algo() to gen_pool_alloc_algo_owner() and gen_pool_free()
// to gen_pool_free_owner(), each with an owner, and makes the old names inlines of
// include/linux/genalloc.h (src/kernel/include/linux/genalloc.ts, which callers import).
//
// Concurrency as in the kernel: adding a chunk takes pool->lock; allocation and free are
// lockless, walking the RCU chunk list and setting/clearing bitmap words with cmpxchg
// (set_bits_ll/clear_bits_ll: one step per bitmap word), and updating chunk->avail atomically.
// Footprints: pool.chunks (the list), chunk.bits (the bitmap), chunk.avail (the counter),
// pool.lock. Walkers are RCU readers (kernel/rcu/tree.ts), entering the read-side section in the
// step that reads the list head; nothing in genalloc waits for a grace period: the kernel never
// frees a chunk while the pool lives, and gen_pool_destroy() waits for nobody (using a pool after
// destroying it is the caller's use-after-free, reported by KASAN on the freed pool or chunk).
//
// Not modelled: the NMI check (BUG_ON(in_nmi()) never fires: nothing runs in NMI context),
// gen_pool_for_each_chunk(), gen_pool_fixed_alloc(), the gen_pool_dma_* family. Addresses are
// JS numbers: (phys_addr_t)-1 arithmetic does not wrap. Differences after v5.2 that no
// modelled patch covers (so they are not branched on): the chunk is vzalloc'ed from ~v5.5
// (modelled as kzalloc everywhere: a fault point either way); addr_in_gen_pool() is renamed
// gen_pool_has_addr() in v5.5 (both names are provided on every tree).

import { frame, type Gen, read, step, update, write } from '../../engine/ops.js';
import { BUG, BUG_ON } from '../include/asm-generic/bug.js';
import { ERR_PTR, type ErrPtr } from '../include/linux/err.js';
import { gen_pool, gen_pool_chunk, type genpool_algo_t, type genpool_data_align, type ptr_ref } from '../include/linux/genalloc.js';
import { GFP_KERNEL } from '../include/linux/gfp.js';
import { spin_lock, spin_unlock, spinlock_t } from '../include/linux/spinlock.js';
import { EINVAL, ENOMEM } from '../include/uapi/errno.js';
import { patched } from '../machine.js';
import { memberOf } from '../mm/kasan.js';
import { kfree, kmalloc, kzalloc } from '../mm/slab.js';
import { current_task, rcu_read_lock_in_step, rcu_read_unlock, task_access } from '../kernel/rcu/tree.js';
import { devres_add, devres_alloc, devres_find, devres_free } from '../drivers/base/devres.js';
import type { device } from '../drivers/base/core.js';

const BITS_PER_LONG = 64;
const WHERE = 'lib/genalloc.c';

/** Calling an owner API on a tree without chunk owners is an error of the scenario, not a finding. */
export function requireOwners(api: string): void {
  if (!patched('genalloc-chunk-owners')) throw new Error(`${api}() does not exist on this tree (it comes with patch genalloc-chunk-owners, v5.2)`);
}

/** The lib/genalloc.c form of a function that owner trees make a header inline: reaching it there is a model error (callers import include/linux/genalloc, which dispatches). */
function requireNoOwners(api: string): void {
  if (patched('genalloc-chunk-owners')) throw new Error(`lib/genalloc.c ${api}() is a header inline on this tree: call it through include/linux/genalloc`);
}

// Unsigned shifts on numbers that may exceed 32 bits (addresses).
const shr = (x: number, n: number): number => Math.floor(x / 2 ** n);
const shl = (x: number, n: number): number => x * 2 ** n;

/** static inline chunk_size(): end_addr - start_addr + 1. */
function chunk_size(chunk: gen_pool_chunk): number {
  return chunk.end_addr - chunk.start_addr + 1;
}

/**
 * rcu_read_lock(); list_for_each_entry_rcu(chunk, &pool->chunks, next_chunk): entering the
 * read-side section is fused into the step that reads the list head. The walk sees the chunks
 * on the list at that moment (chunks are only ever added at the head, and only
 * gen_pool_destroy() removes them).
 */
function* rcu_walk_chunks(pool: gen_pool): Gen<gen_pool_chunk[]> {
  const t = yield* current_task();
  yield* step('rcu_read_lock(); list_for_each_entry_rcu(chunk, &pool->chunks, next_chunk)', read(memberOf(pool, 'chunks')), ...task_access(t, 'rcu_read_lock'));
  rcu_read_lock_in_step(t);
  return [...pool.chunks];
}

// ---- include/linux/bitmap.h, lib/bitmap.c, lib/find_bit.c (pure: the caller announces the read) ----

/** find_next_bit(): the first set bit in [offset, size), or size. */
export function find_next_bit(map: readonly number[], size: number, offset: number): number {
  for (let i = offset; i < size; i++) if (map[i] === 1) return i;
  return size;
}

/** find_next_zero_bit(): the first clear bit in [offset, size), or size. */
export function find_next_zero_bit(map: readonly number[], size: number, offset: number): number {
  for (let i = offset; i < size; i++) if (map[i] !== 1) return i;
  return size;
}

/** __ALIGN_MASK(x, mask) for mask = 2^k - 1. */
function align_mask_up(x: number, mask: number): number {
  return Math.ceil(x / (mask + 1)) * (mask + 1);
}

/**
 * lib/bitmap.c bitmap_find_next_zero_area_off(): the first area of nr clear bits at or after
 * start whose index plus align_offset is aligned to align_mask + 1; a value > size (the end of
 * the area that did not fit) when there is none.
 */
export function bitmap_find_next_zero_area_off(map: readonly number[], size: number, start: number, nr: number, align_mask: number, align_offset: number): number {
  for (;;) {
    let index = find_next_zero_bit(map, size, start);
    index = align_mask_up(index + align_offset, align_mask) - align_offset;
    const end = index + nr;
    if (end > size) return end;
    const i = find_next_bit(map, end, index);
    if (i < end) {
      start = i + 1;
      continue;
    }
    return index;
  }
}

/** include/linux/bitmap.h bitmap_find_next_zero_area(): align_offset 0. */
export function bitmap_find_next_zero_area(map: readonly number[], size: number, start: number, nr: number, align_mask: number): number {
  return bitmap_find_next_zero_area_off(map, size, start, nr, align_mask, 0);
}

function roundup_pow_of_two(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

// ---- the lockless bit helpers of lib/genalloc.c ----

/**
 * set_bits_ll() on the word holding bits [lo, hi): one cmpxchg loop, atomic as one step. Fails
 * (-EBUSY) without changing anything when one of the bits is already set.
 */
function* set_bits_ll(map: number[], lo: number, hi: number): Gen<boolean> {
  yield* step(`set_bits_ll(&chunk->bits[${Math.floor(lo / BITS_PER_LONG)}], mask)`, write(map));
  for (let i = lo; i < hi; i++) if (map[i] === 1) return false;
  for (let i = lo; i < hi; i++) map[i] = 1;
  return true;
}

/** clear_bits_ll(): fails (-EBUSY) when one of the bits is already clear. */
function* clear_bits_ll(map: number[], lo: number, hi: number): Gen<boolean> {
  yield* step(`clear_bits_ll(&chunk->bits[${Math.floor(lo / BITS_PER_LONG)}], mask)`, write(map));
  for (let i = lo; i < hi; i++) if (map[i] !== 1) return false;
  for (let i = lo; i < hi; i++) map[i] = 0;
  return true;
}

/**
 * bitmap_set_ll(): sets nr bits from start word by word; returns the number of bits left
 * unprocessed when a word had a bit set already (earlier words stay set), 0 on success.
 */
function* bitmap_set_ll(map: number[], start: number, nr: number): Gen<number> {
  const size = start + nr;
  let lo = start;
  let bits_to_set = BITS_PER_LONG - (start % BITS_PER_LONG);
  while (nr >= bits_to_set) {
    if (!(yield* set_bits_ll(map, lo, lo + bits_to_set))) return nr;
    nr -= bits_to_set;
    lo += bits_to_set;
    bits_to_set = BITS_PER_LONG;
  }
  if (nr) {
    if (!(yield* set_bits_ll(map, lo, size))) return nr;
  }
  return 0;
}

/** bitmap_clear_ll(): as bitmap_set_ll(), clearing. */
function* bitmap_clear_ll(map: number[], start: number, nr: number): Gen<number> {
  const size = start + nr;
  let lo = start;
  let bits_to_clear = BITS_PER_LONG - (start % BITS_PER_LONG);
  while (nr >= bits_to_clear) {
    if (!(yield* clear_bits_ll(map, lo, lo + bits_to_clear))) return nr;
    nr -= bits_to_clear;
    lo += bits_to_clear;
    bits_to_clear = BITS_PER_LONG;
  }
  if (nr) {
    if (!(yield* clear_bits_ll(map, lo, size))) return nr;
  }
  return 0;
}

// ---- pools ----

/**
 * gen_pool_create(min_alloc_order, nid) (all trees): kmalloc_node of the pool (a fault point:
 * NULL, not an ERR_PTR), lock and empty chunk list, first-fit by default.
 */
export const gen_pool_create = frame('gen_pool_create', function* (min_alloc_order: number, _nid: number): Gen<gen_pool | null> {
  const pool = yield* kmalloc(
    'struct gen_pool',
    'gen_pool_create',
    // spin_lock_init(&pool->lock), INIT_LIST_HEAD(&pool->chunks), min_alloc_order,
    // algo = gen_pool_first_fit, data = NULL: the constructors, on memory nobody else sees yet.
    () => new gen_pool(new spinlock_t('pool->lock'), min_alloc_order),
    GFP_KERNEL,
  );
  return pool;
});

/**
 * The body of gen_pool_add_virt() (v5.1) / gen_pool_add_owner() (v5.2+): kzalloc_node of the
 * chunk with its bitmap of size >> min_alloc_order bits (the only failure: -ENOMEM, pool
 * unchanged); avail starts at the full size; the chunk goes at the head of the list under
 * pool->lock.
 */
function* add_chunk(pool: gen_pool, virt: number, phys: number, size: number, owner: unknown, caller: string): Gen<number> {
  const nbits = shr(size, pool.min_alloc_order);
  const chunk = yield* kzalloc('struct gen_pool_chunk', caller, () => new gen_pool_chunk(phys, virt, virt + size - 1, nbits), GFP_KERNEL);
  if (chunk === null) return -ENOMEM;
  if (patched('genalloc-chunk-owners')) chunk.owner = owner;
  chunk.avail.counter = size;

  yield* spin_lock(pool.lock);
  yield* step('list_add_rcu(&chunk->next_chunk, &pool->chunks)', write(pool.chunks));
  pool.chunks.unshift(chunk);
  yield* spin_unlock(pool.lock);
  return 0;
}

/** v5.1: gen_pool_add_virt(pool, virt, phys, size, nid), the exported function. */
export const gen_pool_add_virt = frame('gen_pool_add_virt', function* (pool: gen_pool, virt: number, phys: number, size: number, _nid: number): Gen<number> {
  requireNoOwners('gen_pool_add_virt');
  return yield* add_chunk(pool, virt, phys, size, null, 'gen_pool_add_virt');
});

/** v5.2+: gen_pool_add_owner(pool, virt, phys, size, nid, owner). */
export const gen_pool_add_owner = frame('gen_pool_add_owner', function* (pool: gen_pool, virt: number, phys: number, size: number, _nid: number, owner: unknown): Gen<number> {
  requireOwners('gen_pool_add_owner');
  return yield* add_chunk(pool, virt, phys, size, owner, 'gen_pool_add_owner');
});

/** gen_pool_virt_to_phys(pool, addr) (all trees): -1 when no chunk holds addr. */
export const gen_pool_virt_to_phys = frame('gen_pool_virt_to_phys', function* (pool: gen_pool, addr: number): Gen<number> {
  let paddr = -1;
  for (const chunk of yield* rcu_walk_chunks(pool)) {
    if (addr >= chunk.start_addr && addr <= chunk.end_addr) {
      paddr = chunk.phys_addr + (addr - chunk.start_addr);
      break;
    }
  }
  yield* rcu_read_unlock();
  return paddr;
});

/**
 * gen_pool_destroy(pool) (all trees): unlinks and frees each chunk, head first, with
 * BUG_ON(bit < end_bit) when the chunk still has an allocation (earlier chunks are already
 * freed by then); then frees the pool. No lock, no RCU grace period.
 */
export const gen_pool_destroy = frame('gen_pool_destroy', function* (pool: gen_pool): Gen<void> {
  const order = pool.min_alloc_order;
  // list_for_each_safe() starts from the head it reads here and then follows the chunks' own
  // links: a chunk added at the head meanwhile is not visited.
  yield* step('list_for_each_safe(_chunk, _next_chunk, &pool->chunks)', read(pool.chunks));
  for (const chunk of [...pool.chunks]) {
    yield* step('list_del(&chunk->next_chunk); bit = find_next_bit(chunk->bits, end_bit, 0)', write(pool.chunks), read(chunk.bits));
    pool.chunks.splice(pool.chunks.indexOf(chunk), 1);
    const end_bit = shr(chunk_size(chunk), order);
    const bit = find_next_bit(chunk.bits, end_bit, 0);
    BUG_ON(bit < end_bit, `${WHERE} gen_pool_destroy`, 'BUG_ON(bit < end_bit)');
    yield* step('kfree(chunk)', write(chunk.bits), write(chunk.avail));
    yield* kfree(chunk);
  }
  yield* step('kfree(pool)', write(pool.chunks), write(pool.lock));
  yield* kfree(pool);
});

/**
 * gen_pool_for_each_chunk(pool, func, data) (all trees): rcu_read_lock();
 * list_for_each_entry_rcu(chunk, &pool->chunks, next_chunk) func(pool, chunk, data);
 * rcu_read_unlock(). The read-side section does not sleep: neither may func.
 */
export const gen_pool_for_each_chunk = frame('gen_pool_for_each_chunk', function* (pool: gen_pool, func: (pool: gen_pool, chunk: gen_pool_chunk) => Gen<void>): Gen<void> {
  for (const chunk of yield* rcu_walk_chunks(pool)) yield* func(pool, chunk);
  yield* rcu_read_unlock();
});

/**
 * The allocator: gen_pool_alloc_algo() on v5.1, gen_pool_alloc_algo_owner() on v5.2+ (`owner`
 * undefined on v5.1, where there is no such parameter). Walks the chunks head first; skips a
 * chunk whose avail is below the (unrounded) size; finds nbits = size rounded up to the
 * allocation unit with `algo`; sets them with bitmap_set_ll() and, having lost a race for a
 * word, clears what it set (BUG_ON(remain)) and searches again from the same bit. Returns the
 * address, 0 when nothing fits.
 */
function* alloc_body(pool: gen_pool, size: number, algo: genpool_algo_t, data: unknown, owner: ptr_ref | null | undefined, where: string): Gen<number> {
  let addr = 0;
  const order = pool.min_alloc_order;

  if (owner) owner.value = null;
  if (size === 0) return 0;

  const nbits = shr(size + shl(1, order) - 1, order);
  for (const chunk of yield* rcu_walk_chunks(pool)) {
    yield* step('if (size > atomic_long_read(&chunk->avail)) continue', read(chunk.avail));
    if (size > chunk.avail.counter) continue;

    let start_bit = 0;
    const end_bit = shr(chunk_size(chunk), order);
    let got = false;
    for (;;) {
      // retry:
      yield* step('start_bit = algo(chunk->bits, end_bit, start_bit, nbits, data, pool, chunk->start_addr)', read(chunk.bits));
      start_bit = algo(chunk.bits, end_bit, start_bit, nbits, data, pool, chunk.start_addr);
      if (start_bit >= end_bit) break;
      let remain = yield* bitmap_set_ll(chunk.bits, start_bit, nbits);
      if (remain) {
        remain = yield* bitmap_clear_ll(chunk.bits, start_bit, nbits - remain);
        BUG_ON(remain !== 0, `${WHERE} ${where}`, 'BUG_ON(remain)');
        continue;
      }
      got = true;
      break;
    }
    if (!got) continue;

    addr = chunk.start_addr + shl(start_bit, order);
    const rounded = shl(nbits, order);
    // atomic_long_sub() returns nothing: it commutes with the other allocations' subs and the frees' adds.
    yield* step('atomic_long_sub(size, &chunk->avail)', update(chunk.avail));
    chunk.avail.counter -= rounded;
    if (owner) owner.value = chunk.owner;
    break;
  }
  yield* rcu_read_unlock();
  return addr;
}

/** v5.1: gen_pool_alloc_algo(pool, size, algo, data), the exported allocator. */
export const gen_pool_alloc_algo = frame('gen_pool_alloc_algo', function* (pool: gen_pool, size: number, algo: genpool_algo_t, data: unknown): Gen<number> {
  requireNoOwners('gen_pool_alloc_algo');
  return yield* alloc_body(pool, size, algo, data, undefined, 'gen_pool_alloc_algo');
});

/** v5.1: gen_pool_alloc(pool, size), exported: gen_pool_alloc_algo(pool, size, pool->algo, pool->data). */
export const gen_pool_alloc = frame('gen_pool_alloc', function* (pool: gen_pool, size: number): Gen<number> {
  requireNoOwners('gen_pool_alloc');
  return yield* gen_pool_alloc_algo(pool, size, pool.algo, pool.data);
});

/** v5.2+: gen_pool_alloc_algo_owner(pool, size, algo, data, owner): *owner = NULL first, the chunk's owner on success. */
export const gen_pool_alloc_algo_owner = frame('gen_pool_alloc_algo_owner', function* (pool: gen_pool, size: number, algo: genpool_algo_t, data: unknown, owner: ptr_ref | null): Gen<number> {
  requireOwners('gen_pool_alloc_algo_owner');
  return yield* alloc_body(pool, size, algo, data, owner, 'gen_pool_alloc_algo_owner');
});

/**
 * The free: gen_pool_free() on v5.1, gen_pool_free_owner() on v5.2+. The first chunk holding
 * addr: BUG_ON when the range runs past the chunk, clears the bits (BUG_ON(remain) when one
 * was clear already: double free, wrong size), gives the rounded size back to avail. An
 * address in no chunk is BUG().
 */
function* free_body(pool: gen_pool, addr: number, size: number, owner: ptr_ref | null | undefined, where: string): Gen<void> {
  const order = pool.min_alloc_order;
  if (owner) owner.value = null;

  const nbits = shr(size + shl(1, order) - 1, order);
  for (const chunk of yield* rcu_walk_chunks(pool)) {
    if (addr >= chunk.start_addr && addr <= chunk.end_addr) {
      BUG_ON(addr + size - 1 > chunk.end_addr, `${WHERE} ${where}`, 'BUG_ON(addr + size - 1 > chunk->end_addr)');
      const start_bit = shr(addr - chunk.start_addr, order);
      const remain = yield* bitmap_clear_ll(chunk.bits, start_bit, nbits);
      BUG_ON(remain !== 0, `${WHERE} ${where}`, 'BUG_ON(remain)');
      const rounded = shl(nbits, order);
      // atomic_long_add() returns nothing: a commuting update of chunk->avail.
      yield* step('atomic_long_add(size, &chunk->avail)', update(chunk.avail));
      chunk.avail.counter += rounded;
      if (owner) owner.value = chunk.owner;
      yield* rcu_read_unlock();
      return;
    }
  }
  yield* rcu_read_unlock();
  BUG(`${WHERE} ${where}`, `BUG(): address 0x${addr.toString(16)} is in no chunk of the pool`);
}

/** v5.1: gen_pool_free(pool, addr, size), the exported function. */
export const gen_pool_free = frame('gen_pool_free', function* (pool: gen_pool, addr: number, size: number): Gen<void> {
  requireNoOwners('gen_pool_free');
  yield* free_body(pool, addr, size, undefined, 'gen_pool_free');
});

/** v5.2+: gen_pool_free_owner(pool, addr, size, owner). */
export const gen_pool_free_owner = frame('gen_pool_free_owner', function* (pool: gen_pool, addr: number, size: number, owner: ptr_ref | null): Gen<void> {
  requireOwners('gen_pool_free_owner');
  yield* free_body(pool, addr, size, owner, 'gen_pool_free_owner');
});

/** The body of addr_in_gen_pool() / gen_pool_has_addr(): the whole range in one chunk. */
function* has_addr_body(pool: gen_pool, start: number, size: number): Gen<boolean> {
  const end = start + size - 1;
  let found = false;
  for (const chunk of yield* rcu_walk_chunks(pool)) {
    if (start >= chunk.start_addr && start <= chunk.end_addr && end <= chunk.end_addr) {
      found = true;
      break;
    }
  }
  yield* rcu_read_unlock();
  return found;
}

/** addr_in_gen_pool(pool, start, size): the name up to v5.4. */
export const addr_in_gen_pool = frame('addr_in_gen_pool', has_addr_body);

/** gen_pool_has_addr(pool, start, size): the name from v5.5 (lib/genalloc.c rename). */
export const gen_pool_has_addr = frame('gen_pool_has_addr', has_addr_body);

/** gen_pool_avail(pool): the sum of the chunks' avail, each read on its own. */
export const gen_pool_avail = frame('gen_pool_avail', function* (pool: gen_pool): Gen<number> {
  let avail = 0;
  for (const chunk of yield* rcu_walk_chunks(pool)) {
    yield* step('avail += atomic_long_read(&chunk->avail)', read(chunk.avail));
    avail += chunk.avail.counter;
  }
  yield* rcu_read_unlock();
  return avail;
});

/** gen_pool_size(pool): the sum of the chunks' sizes. */
export const gen_pool_size = frame('gen_pool_size', function* (pool: gen_pool): Gen<number> {
  let size = 0;
  for (const chunk of yield* rcu_walk_chunks(pool)) size += chunk_size(chunk);
  yield* rcu_read_unlock();
  return size;
});

/** gen_pool_set_algo(pool, algo, data): NULL algo means gen_pool_first_fit. */
export const gen_pool_set_algo = frame('gen_pool_set_algo', function* (pool: gen_pool, algo: genpool_algo_t | null, data: unknown): Gen<void> {
  yield* step('pool->algo = algo ?: gen_pool_first_fit; pool->data = data', write(pool));
  pool.algo = algo ?? gen_pool_first_fit;
  pool.data = data;
});

// ---- algorithms ----

/** gen_pool_first_fit(): bitmap_find_next_zero_area(map, size, start, nr, 0). The default. */
export const gen_pool_first_fit: genpool_algo_t = (map, size, start, nr) => bitmap_find_next_zero_area(map, size, start, nr, 0);

/** gen_pool_first_fit_order_align(): aligned to roundup_pow_of_two(nr) units, relative to the chunk. */
export const gen_pool_first_fit_order_align: genpool_algo_t = (map, size, start, nr) => bitmap_find_next_zero_area(map, size, start, nr, roundup_pow_of_two(nr) - 1);

/** gen_pool_first_fit_align(): aligned to data->align bytes of absolute address. */
export const gen_pool_first_fit_align: genpool_algo_t = (map, size, start, nr, data, pool, start_addr) => {
  const alignment = data as genpool_data_align;
  const order = pool.min_alloc_order;
  const align_mask = shr(alignment.align + shl(1, order) - 1, order) - 1;
  const align_off = shr(start_addr % alignment.align, order);
  return bitmap_find_next_zero_area_off(map, size, start, nr, align_mask, align_off);
};

/** gen_pool_best_fit(): the smallest free area of at least nr bits; size when none. */
export const gen_pool_best_fit: genpool_algo_t = (map, size, start, nr) => {
  let start_bit = size;
  let len = size + 1;
  let index = bitmap_find_next_zero_area(map, size, start, nr, 0);
  while (index < size) {
    const next_bit = find_next_bit(map, size, index + nr);
    if (next_bit - index < len) {
      len = next_bit - index;
      start_bit = index;
      if (len === nr) return start_bit;
    }
    index = bitmap_find_next_zero_area(map, size, next_bit + 1, nr, 0);
  }
  return start_bit;
};

// ---- device-managed pools ----

/** The devres payload of devm_gen_pool_create(): `struct gen_pool **ptr`. */
class gen_pool_devres {
  pool: gen_pool | null = null;
}

/** devm_gen_pool_release(dev, res): gen_pool_destroy(*res). */
const devm_gen_pool_release = frame('devm_gen_pool_release', function* (_dev: device, res: gen_pool_devres): Gen<void> {
  yield* gen_pool_destroy(res.pool!);
});

/** devm_gen_pool_match(): a NULL name matches only an unnamed pool, else strcmp. */
function devm_gen_pool_match(_dev: device, res: gen_pool_devres, data: unknown): boolean {
  const pool = res.pool!;
  const name = data as string | null;
  if (!name && !pool.name) return true;
  if (!name || !pool.name) return false;
  return name === pool.name;
}

/** gen_pool_get(dev, name): the device's pool of that name, or NULL. */
export const gen_pool_get = frame('gen_pool_get', function* (dev: device, name: string | null): Gen<gen_pool | null> {
  const p = yield* devres_find<gen_pool_devres>(dev, devm_gen_pool_release, devm_gen_pool_match, name);
  return p ? p.pool : null;
});

/**
 * devm_gen_pool_create(dev, min_alloc_order, nid, name) (v4.x-v6.x form): ERR_PTR(-EINVAL) when
 * the device already has a pool of that name; ERR_PTR(-ENOMEM) when the devres or the pool
 * cannot be allocated; the pool is destroyed (gen_pool_destroy, with its BUG_ON) when the
 * device's resources are released. Names are string constants (kstrdup_const() keeps .rodata
 * strings without allocating, so it cannot fail here).
 */
export const devm_gen_pool_create = frame('devm_gen_pool_create', function* (dev: device, min_alloc_order: number, nid: number, name: string | null): Gen<gen_pool | ErrPtr> {
  if (yield* gen_pool_get(dev, name)) return ERR_PTR(-EINVAL);
  const ptr = yield* devres_alloc(devm_gen_pool_release, 'struct gen_pool *', () => new gen_pool_devres(), GFP_KERNEL);
  if (!ptr) return ERR_PTR(-ENOMEM);
  const pool = yield* gen_pool_create(min_alloc_order, nid);
  if (!pool) {
    yield* devres_free(ptr);
    return ERR_PTR(-ENOMEM);
  }
  ptr.pool = pool;
  pool.name = name;
  yield* devres_add(dev, ptr);
  return pool;
});
