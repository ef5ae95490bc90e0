// include/linux/kref.h: struct kref { refcount_t refcount; } and its inlines. Trees: v5.1 ..
// newest (the refcount_t underneath differs by tree, see include/linux/refcount.ts).

import { static_inline } from './compiler.js';
import type { Gen } from '../../../engine/ops.js';
import { refcount_dec_and_test, refcount_inc, refcount_inc_not_zero, refcount_read, refcount_set, refcount_t } from './refcount.js';

export class kref {
  readonly refcount: refcount_t;
  /** KREF_INIT(n). */
  constructor(n = 0) {
    this.refcount = new refcount_t(n);
  }
}

/** The release callback kref_put() calls when the count drops to zero. */
export type kref_release_t = (k: kref) => Gen<void>;

/** kref_init(kref): refcount_set(&kref->refcount, 1). */
export const kref_init = static_inline('kref_init', function* (k: kref): Gen<void> {
  yield* refcount_set(k.refcount, 1);
});

/** kref_read(kref): refcount_read(&kref->refcount). */
export const kref_read = static_inline('kref_read', function* (k: kref): Gen<number> {
  return yield* refcount_read(k.refcount);
});

/** kref_get(kref): refcount_inc(&kref->refcount). */
export const kref_get = static_inline('kref_get', function* (k: kref): Gen<void> {
  yield* refcount_inc(k.refcount);
});

/** kref_put(kref, release): release(kref) and 1 when the count dropped to zero, else 0. */
export const kref_put = static_inline('kref_put', function* (k: kref, release: kref_release_t): Gen<number> {
  if (yield* refcount_dec_and_test(k.refcount)) {
    yield* release(k);
    return 1;
  }
  return 0;
});

/** kref_get_unless_zero(kref): refcount_inc_not_zero(&kref->refcount). */
export const kref_get_unless_zero = static_inline('kref_get_unless_zero', function* (k: kref): Gen<boolean> {
  return yield* refcount_inc_not_zero(k.refcount);
});
