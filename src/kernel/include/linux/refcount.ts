// include/linux/refcount.h: refcount_t and its inline operations.
//
// Two designs, by tree:
// - v5.1, v5.2 (before the v5.5 rework; the model takes CONFIG_REFCOUNT_FULL): the operations are
//   the out-of-line *_checked cmpxchg loops of lib/refcount.c, saturating at UINT_MAX and never
//   moving off it (see src/kernel/lib/refcount.ts).
// - v6.14, v6.15, newest (v5.5+ design): plain atomic_fetch_* operations that detect a bad old or
//   new value afterwards and call refcount_warn_saturate(), which sets REFCOUNT_SATURATED
//   (INT_MIN / 2) in a separate atomic store and WARNs once per saturation type.
// No patch id stands for the v5.5 rework; patched('memremap-pgmap-owned-ref') (the consolidated
// v5.3+ marker) separates the two designs for the modelled trees.
//
// The counter is the refcount_t object itself (atomic_t refs in a C int: arithmetic wraps at 32
// bits). Each atomic operation is one step on it.

import { static_inline } from './compiler.js';
import { type Gen, read, step, write } from '../../../engine/ops.js';
import { patched } from '../../machine.js';
import {
  refcount_add_checked,
  refcount_add_not_zero_checked,
  refcount_dec_and_test_checked,
  refcount_dec_checked,
  refcount_inc_checked,
  refcount_inc_not_zero_checked,
  refcount_saturation_type,
  refcount_sub_and_test_checked,
  refcount_warn_saturate,
} from '../../lib/refcount.js';

export { refcount_saturation_type, refcount_warn_saturate } from '../../lib/refcount.js';
export { refcount_dec_if_one, refcount_dec_not_one, refcount_dec_and_lock, refcount_dec_and_mutex_lock } from '../../lib/refcount.js';

export const INT_MAX = 0x7fffffff;
export const INT_MIN = -0x80000000;
export const UINT_MAX = 0xffffffff;
/** REFCOUNT_MAX (v5.5+). */
export const REFCOUNT_MAX = INT_MAX;
/** REFCOUNT_SATURATED = INT_MIN / 2 (v5.5+), in the signed view: -0x40000000. */
export const REFCOUNT_SATURATED = INT_MIN / 2;

/** refcount_t: struct refcount_struct { atomic_t refs; }. `refs` holds the C int (signed view). */
export class refcount_t {
  refs: number;
  /** REFCOUNT_INIT(n). */
  constructor(n = 0) {
    this.refs = n | 0;
  }
}

/** REFCOUNT_INIT(n). */
export function REFCOUNT_INIT(n: number): refcount_t {
  return new refcount_t(n);
}

/** The v5.5+ design (see the file comment). */
function new_design(): boolean {
  return patched('memremap-pgmap-owned-ref');
}

/** refcount_set(r, n): atomic_set(&r->refs, n). */
export const refcount_set = static_inline('refcount_set', function* (r: refcount_t, n: number): Gen<void> {
  yield* step(`refcount_set(r, ${n})`, write(r));
  r.refs = n | 0;
});

/** refcount_read(r): atomic_read(&r->refs), as unsigned int. */
export const refcount_read = static_inline('refcount_read', function* (r: refcount_t): Gen<number> {
  yield* step('refcount_read(r)', read(r));
  return r.refs >>> 0;
});

/** __refcount_add_not_zero() (v5.5+): try_cmpxchg loop unless 0, then the saturation check. */
function* __refcount_add_not_zero(i: number, r: refcount_t): Gen<boolean> {
  yield* step(`refcount_add_not_zero(${i}, r)`, write(r));
  const old = r.refs;
  if (old !== 0) r.refs = (old + i) | 0;
  if (old < 0 || ((old + i) | 0) < 0) yield* refcount_warn_saturate(r, refcount_saturation_type.REFCOUNT_ADD_NOT_ZERO_OVF);
  return old !== 0;
}

/** __refcount_add() (v5.5+): atomic_fetch_add_relaxed, then the saturation checks. */
function* __refcount_add(i: number, r: refcount_t): Gen<void> {
  yield* step(`refcount_add(${i}, r)`, write(r));
  const old = r.refs;
  r.refs = (old + i) | 0;
  if (old === 0) yield* refcount_warn_saturate(r, refcount_saturation_type.REFCOUNT_ADD_UAF);
  else if (old < 0 || ((old + i) | 0) < 0) yield* refcount_warn_saturate(r, refcount_saturation_type.REFCOUNT_ADD_OVF);
}

/** __refcount_sub_and_test() (v5.5+): atomic_fetch_sub_release, true on the 1 -> 0 transition. */
function* __refcount_sub_and_test(i: number, r: refcount_t): Gen<boolean> {
  yield* step(`refcount_sub_and_test(${i}, r)`, write(r));
  const old = r.refs;
  r.refs = (old - i) | 0;
  if (old > 0 && old === i) return true;
  if (old <= 0 || ((old - i) | 0) < 0) yield* refcount_warn_saturate(r, refcount_saturation_type.REFCOUNT_SUB_UAF);
  return false;
}

/** refcount_add_not_zero(i, r): false if r was 0. */
export const refcount_add_not_zero = static_inline('refcount_add_not_zero', function* (i: number, r: refcount_t): Gen<boolean> {
  if (new_design()) return yield* __refcount_add_not_zero(i, r);
  return yield* refcount_add_not_zero_checked(i, r);
});

/** refcount_inc_not_zero(r): false if r was 0. */
export const refcount_inc_not_zero = static_inline('refcount_inc_not_zero', function* (r: refcount_t): Gen<boolean> {
  if (new_design()) return yield* __refcount_add_not_zero(1, r);
  return yield* refcount_inc_not_zero_checked(r);
});

/** refcount_add(i, r): WARNs "addition on 0; use-after-free" when r was 0. */
export const refcount_add = static_inline('refcount_add', function* (i: number, r: refcount_t): Gen<void> {
  if (new_design()) return yield* __refcount_add(i, r);
  yield* refcount_add_checked(i, r);
});

/**
 * refcount_inc(r): v5.5+ is refcount_add(1) ("addition on 0; use-after-free"); v5.1/v5.2's
 * refcount_inc_checked says "increment on 0; use-after-free".
 */
export const refcount_inc = static_inline('refcount_inc', function* (r: refcount_t): Gen<void> {
  if (new_design()) return yield* __refcount_add(1, r);
  yield* refcount_inc_checked(r);
});

/** refcount_sub_and_test(i, r): true when the count reached 0. */
export const refcount_sub_and_test = static_inline('refcount_sub_and_test', function* (i: number, r: refcount_t): Gen<boolean> {
  if (new_design()) return yield* __refcount_sub_and_test(i, r);
  return yield* refcount_sub_and_test_checked(i, r);
});

/** refcount_dec_and_test(r): true when the count reached 0; WARNs "underflow; use-after-free". */
export const refcount_dec_and_test = static_inline('refcount_dec_and_test', function* (r: refcount_t): Gen<boolean> {
  if (new_design()) return yield* __refcount_sub_and_test(1, r);
  return yield* refcount_dec_and_test_checked(r);
});

/** refcount_dec(r): WARNs "decrement hit 0; leaking memory" when it drops the last reference. */
export const refcount_dec = static_inline('refcount_dec', function* (r: refcount_t): Gen<void> {
  if (!new_design()) return yield* refcount_dec_checked(r);
  yield* step('refcount_dec(r)', write(r));
  const old = r.refs;
  r.refs = (old - 1) | 0;
  if (old <= 1) yield* refcount_warn_saturate(r, refcount_saturation_type.REFCOUNT_DEC_LEAK);
});
