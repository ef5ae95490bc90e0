// lib/refcount.c: the out-of-line refcount_t operations.
// - v5.1, v5.2 (CONFIG_REFCOUNT_FULL): the *_checked cmpxchg loops, saturating at UINT_MAX; each
//   loop's successful cmpxchg (with the read it started from) is one atomic step. Their
//   WARN_ONCEs are separate call sites.
// - v6.14, v6.15, newest (v5.5+): refcount_warn_saturate(), refcount_dec_if_one(),
//   refcount_dec_not_one(), refcount_dec_and_{mutex_,}lock().
// The era test is patched('memremap-pgmap-owned-ref'), the consolidated v5.3+ marker (see
// include/linux/refcount.ts). refcount_dec_if_one/dec_not_one/dec_and_*lock exist in both eras
// with the same code apart from the saturation value (UINT_MAX, then REFCOUNT_SATURATED).

import { frame, type Gen, step, write } from '../../engine/ops.js';
import { WARN_ONCE } from '../include/asm-generic/bug.js';
import { mutex, mutex_lock, mutex_unlock } from '../kernel/locking/mutex.js';
import { spin_lock, spin_unlock, type spinlock_t } from '../include/linux/spinlock.js';
import { patched } from '../machine.js';
import { refcount_dec_and_test, type refcount_t } from '../include/linux/refcount.js';

const UINT_MAX = 0xffffffff;
/** REFCOUNT_SATURATED = INT_MIN / 2 as a signed int. */
const REFCOUNT_SATURATED = -0x40000000;

/** enum refcount_saturation_type (include/linux/refcount.h, v5.5+). */
export enum refcount_saturation_type {
  REFCOUNT_ADD_NOT_ZERO_OVF,
  REFCOUNT_ADD_OVF,
  REFCOUNT_ADD_UAF,
  REFCOUNT_SUB_UAF,
  REFCOUNT_DEC_LEAK,
}

const WHERE = 'lib/refcount.c refcount_warn_saturate';

/**
 * refcount_warn_saturate(r, t) (lib/refcount.c, v5.5+): refcount_set(r, REFCOUNT_SATURATED) —
 * a separate atomic store after the operation that found the bad value — then one WARN_ONCE
 * per saturation type.
 */
export const refcount_warn_saturate = frame('refcount_warn_saturate', function* (r: refcount_t, t: refcount_saturation_type): Gen<void> {
  yield* step('refcount_set(r, REFCOUNT_SATURATED)', write(r));
  r.refs = REFCOUNT_SATURATED;
  switch (t) {
    case refcount_saturation_type.REFCOUNT_ADD_NOT_ZERO_OVF:
      yield* WARN_ONCE(true, `${WHERE} (REFCOUNT_ADD_NOT_ZERO_OVF)`, 'refcount_t: saturated; leaking memory.');
      break;
    case refcount_saturation_type.REFCOUNT_ADD_OVF:
      yield* WARN_ONCE(true, `${WHERE} (REFCOUNT_ADD_OVF)`, 'refcount_t: saturated; leaking memory.');
      break;
    case refcount_saturation_type.REFCOUNT_ADD_UAF:
      yield* WARN_ONCE(true, WHERE, 'refcount_t: addition on 0; use-after-free.');
      break;
    case refcount_saturation_type.REFCOUNT_SUB_UAF:
      yield* WARN_ONCE(true, WHERE, 'refcount_t: underflow; use-after-free.');
      break;
    case refcount_saturation_type.REFCOUNT_DEC_LEAK:
      yield* WARN_ONCE(true, WHERE, 'refcount_t: decrement hit 0; leaking memory.');
      break;
    default:
      yield* WARN_ONCE(true, WHERE, 'refcount_t: unknown saturation event!?');
  }
});

// ---- v5.1, v5.2: CONFIG_REFCOUNT_FULL (the counter is unsigned int) ----

/** refcount_add_not_zero_checked(i, r) (lib/refcount.c ≤v5.4). */
export const refcount_add_not_zero_checked = frame('refcount_add_not_zero_checked', function* (i: number, r: refcount_t): Gen<boolean> {
  yield* step(`refcount_add_not_zero_checked(${i}, r)`, write(r));
  const val = r.refs >>> 0;
  if (val === 0) return false;
  if (val === UINT_MAX) return true;
  let n = val + i;
  if (n > UINT_MAX) n = UINT_MAX;
  r.refs = n | 0;
  yield* WARN_ONCE(n === UINT_MAX, 'lib/refcount.c refcount_add_not_zero_checked', 'refcount_t: saturated; leaking memory.');
  return true;
});

/** refcount_add_checked(i, r) (lib/refcount.c ≤v5.4). */
export const refcount_add_checked = frame('refcount_add_checked', function* (i: number, r: refcount_t): Gen<void> {
  const ok = yield* refcount_add_not_zero_checked(i, r);
  yield* WARN_ONCE(!ok, 'lib/refcount.c refcount_add_checked', 'refcount_t: addition on 0; use-after-free.');
});

/** refcount_inc_not_zero_checked(r) (lib/refcount.c ≤v5.4). */
export const refcount_inc_not_zero_checked = frame('refcount_inc_not_zero_checked', function* (r: refcount_t): Gen<boolean> {
  yield* step('refcount_inc_not_zero_checked(r)', write(r));
  const val = r.refs >>> 0;
  const n = (val + 1) >>> 0;
  if (val === 0) return false;
  if (n === 0) return true;
  r.refs = n | 0;
  yield* WARN_ONCE(n === UINT_MAX, 'lib/refcount.c refcount_inc_not_zero_checked', 'refcount_t: saturated; leaking memory.');
  return true;
});

/** refcount_inc_checked(r) (lib/refcount.c ≤v5.4). */
export const refcount_inc_checked = frame('refcount_inc_checked', function* (r: refcount_t): Gen<void> {
  const ok = yield* refcount_inc_not_zero_checked(r);
  yield* WARN_ONCE(!ok, 'lib/refcount.c refcount_inc_checked', 'refcount_t: increment on 0; use-after-free.');
});

/** refcount_sub_and_test_checked(i, r) (lib/refcount.c ≤v5.4): no decrement on underflow. */
export const refcount_sub_and_test_checked = frame('refcount_sub_and_test_checked', function* (i: number, r: refcount_t): Gen<boolean> {
  yield* step(`refcount_sub_and_test_checked(${i}, r)`, write(r));
  const val = r.refs >>> 0;
  if (val === UINT_MAX) return false;
  const n = (val - i) >>> 0;
  if (n > val) {
    yield* WARN_ONCE(true, 'lib/refcount.c refcount_sub_and_test_checked', 'refcount_t: underflow; use-after-free.');
    return false;
  }
  r.refs = n | 0;
  return n === 0;
});

/** refcount_dec_and_test_checked(r) (lib/refcount.c ≤v5.4). */
export const refcount_dec_and_test_checked = frame('refcount_dec_and_test_checked', function* (r: refcount_t): Gen<boolean> {
  return yield* refcount_sub_and_test_checked(1, r);
});

/** refcount_dec_checked(r) (lib/refcount.c ≤v5.4). */
export const refcount_dec_checked = frame('refcount_dec_checked', function* (r: refcount_t): Gen<void> {
  const zero = yield* refcount_dec_and_test_checked(r);
  yield* WARN_ONCE(zero, 'lib/refcount.c refcount_dec_checked', 'refcount_t: decrement hit 0; leaking memory.');
});

// ---- both eras ----

/** refcount_dec_if_one(r) (lib/refcount.c): cmpxchg 1 -> 0. */
export const refcount_dec_if_one = frame('refcount_dec_if_one', function* (r: refcount_t): Gen<boolean> {
  yield* step('refcount_dec_if_one(r)', write(r));
  if (r.refs !== 1) return false;
  r.refs = 0;
  return true;
});

/** refcount_dec_not_one(r) (lib/refcount.c): decrement unless 1; true unless the count was 1. */
export const refcount_dec_not_one = frame('refcount_dec_not_one', function* (r: refcount_t): Gen<boolean> {
  yield* step('refcount_dec_not_one(r)', write(r));
  const saturated = patched('memremap-pgmap-owned-ref') ? REFCOUNT_SATURATED >>> 0 : UINT_MAX;
  const val = r.refs >>> 0;
  if (val === saturated) return true;
  if (val === 1) return false;
  const n = (val - 1) >>> 0;
  if (n > val) {
    yield* WARN_ONCE(true, 'lib/refcount.c refcount_dec_not_one', 'refcount_t: underflow; use-after-free.');
    return true;
  }
  r.refs = n | 0;
  return true;
});

/** refcount_dec_and_mutex_lock(r, lock) (lib/refcount.c): true with the mutex held at 0. */
export const refcount_dec_and_mutex_lock = frame('refcount_dec_and_mutex_lock', function* (r: refcount_t, lock: mutex): Gen<boolean> {
  if (yield* refcount_dec_not_one(r)) return false;
  yield* mutex_lock(lock);
  if (!(yield* refcount_dec_and_test(r))) {
    yield* mutex_unlock(lock);
    return false;
  }
  return true;
});

/** refcount_dec_and_lock(r, lock) (lib/refcount.c): true with the spinlock held at 0. */
export const refcount_dec_and_lock = frame('refcount_dec_and_lock', function* (r: refcount_t, lock: spinlock_t): Gen<boolean> {
  if (yield* refcount_dec_not_one(r)) return false;
  yield* spin_lock(lock);
  if (!(yield* refcount_dec_and_test(r))) {
    yield* spin_unlock(lock);
    return false;
  }
  return true;
});
