// include/linux/page_ref.h: the atomic operations on page->_refcount (and the folio_ref_*
// forms that v5.16+ trees use). Trees: v5.1 .. newest.
//
// Each operation is one atomic step on the page's _refcount object (mm_types.ts refcount_obj),
// whose body reads page->_refcount through the page, so that an operation on a page whose
// memmap has been removed is the panic of seed 002 in the step that does it.
//
// Differences the model does not carry: CONFIG_DEBUG_PAGE_REF tracepoints (no effect); the
// newest tree's PAGEREF_FROZEN_BIT (a refcount that dropped to 0 is "frozen" and
// page_ref_add_unless_zero() fails on it). The model keeps a frozen count as 0, which every
// reader of these trees also sees as 0; set_page_count_as_frozen()/set_page_count_frozen() of the
// newest tree store 0.

import { static_inline } from './compiler.js';
import { type Access, addAndTest, addTo, type Gen, read, step, write } from '../../../engine/ops.js';
import { type atomic_t, type folio, type page, refcount_obj } from './mm_types.js';

// The model's atomic_t arithmetic does not wrap (a refcount never comes near 2^31), so neither
// do the footprints' counters.

/** The footprint of atomic_add(i, &v) (atomic_sub, _inc, _dec): an add whose result is unused. */
function atomic_add_access(v: atomic_t, i: number): Access {
  return addTo(v, BigInt(i), () => BigInt(v.counter));
}

/** The footprint of atomic_sub_and_test(i, &v) (atomic_dec_and_test): an add of -i tested against zero. */
function atomic_sub_and_test_access(v: atomic_t, i: number): Access {
  return addAndTest(v, BigInt(-i), () => BigInt(v.counter));
}

/** page_ref_count(page): atomic_read(&page->_refcount). */
export const page_ref_count = static_inline('page_ref_count', function* (p: page): Gen<number> {
  yield* step('atomic_read(&page->_refcount)', read(refcount_obj(p)));
  return p._refcount.counter;
});

/** folio_ref_count(folio) (v5.16+): page_ref_count(&folio->page). */
export const folio_ref_count = static_inline('folio_ref_count', function* (f: folio): Gen<number> {
  yield* step('atomic_read(&folio->_refcount)', read(refcount_obj(f)));
  return f._refcount.counter;
});

/** page_count(page): the refcount of the head page (of the folio, v5.16+). */
export const page_count = static_inline('page_count', function* (p: page): Gen<number> {
  yield* step('atomic_read(&compound_head(page)->_refcount)', read(refcount_obj(p)));
  return p._refcount.counter;
});

/** set_page_count(page, v): atomic_set(&page->_refcount, v). */
export const set_page_count = static_inline('set_page_count', function* (p: page, v: number): Gen<void> {
  yield* step(`atomic_set(&page->_refcount, ${v})`, write(refcount_obj(p)));
  p._refcount.counter = v;
});

/** folio_set_count(folio, v) (v5.16+). */
export const folio_set_count = static_inline('folio_set_count', function* (f: folio, v: number): Gen<void> {
  yield* step(`atomic_set(&folio->_refcount, ${v})`, write(refcount_obj(f)));
  f._refcount.counter = v;
});

/** init_page_count(page): set_page_count(page, 1). */
export const init_page_count = static_inline('init_page_count', function* (p: page): Gen<void> {
  yield* step('atomic_set(&page->_refcount, 1)', write(refcount_obj(p)));
  p._refcount.counter = 1;
});

/**
 * set_page_count_as_frozen(page) (newest linux-mm page_ref.h): set_page_count(page, 0). Some
 * newest p2pdma.c versions spell it set_page_count_frozen(); both are this.
 */
export const set_page_count_as_frozen = static_inline('set_page_count_as_frozen', function* (p: page): Gen<void> {
  yield* step('atomic_set(&page->_refcount, 0)', write(refcount_obj(p)));
  p._refcount.counter = 0;
});
export const set_page_count_frozen = static_inline('set_page_count_frozen', function* (p: page): Gen<void> {
  yield* step('atomic_set(&page->_refcount, 0)', write(refcount_obj(p)));
  p._refcount.counter = 0;
});

/** page_ref_add(page, nr). */
export const page_ref_add = static_inline('page_ref_add', function* (p: page, nr: number): Gen<void> {
  // atomic_add() returns nothing: an update that commutes with other adds and subs.
  yield* step(`atomic_add(${nr}, &page->_refcount)`, atomic_add_access(refcount_obj(p), nr));
  p._refcount.counter += nr;
});

/** page_ref_sub(page, nr). */
export const page_ref_sub = static_inline('page_ref_sub', function* (p: page, nr: number): Gen<void> {
  // atomic_sub() returns nothing: a commuting update.
  yield* step(`atomic_sub(${nr}, &page->_refcount)`, atomic_add_access(refcount_obj(p), -nr));
  p._refcount.counter -= nr;
});

/** page_ref_inc(page). */
export const page_ref_inc = static_inline('page_ref_inc', function* (p: page): Gen<void> {
  // atomic_inc() returns nothing: a commuting update.
  yield* step('atomic_inc(&page->_refcount)', atomic_add_access(refcount_obj(p), 1));
  p._refcount.counter += 1;
});

/** folio_ref_inc(folio). */
export const folio_ref_inc = static_inline('folio_ref_inc', function* (f: folio): Gen<void> {
  // atomic_inc() returns nothing: a commuting update.
  yield* step('atomic_inc(&folio->_refcount)', atomic_add_access(refcount_obj(f), 1));
  f._refcount.counter += 1;
});

/** page_ref_dec(page). */
export const page_ref_dec = static_inline('page_ref_dec', function* (p: page): Gen<void> {
  // atomic_dec() returns nothing: a commuting update.
  yield* step('atomic_dec(&page->_refcount)', atomic_add_access(refcount_obj(p), -1));
  p._refcount.counter -= 1;
});

/** page_ref_sub_and_test(page, nr): true when the count reaches 0. */
export const page_ref_sub_and_test = static_inline('page_ref_sub_and_test', function* (p: page, nr: number): Gen<boolean> {
  yield* step(`atomic_sub_and_test(${nr}, &page->_refcount)`, atomic_sub_and_test_access(refcount_obj(p), nr));
  p._refcount.counter -= nr;
  return p._refcount.counter === 0;
});

/** folio_ref_sub_and_test(folio, nr) (v5.16+). */
export const folio_ref_sub_and_test = static_inline('folio_ref_sub_and_test', function* (f: folio, nr: number): Gen<boolean> {
  yield* step(`atomic_sub_and_test(${nr}, &folio->_refcount)`, atomic_sub_and_test_access(refcount_obj(f), nr));
  f._refcount.counter -= nr;
  return f._refcount.counter === 0;
});

/** folio_ref_sub_return(folio, nr) (v5.16+). */
export const folio_ref_sub_return = static_inline('folio_ref_sub_return', function* (f: folio, nr: number): Gen<number> {
  yield* step(`atomic_sub_return(${nr}, &folio->_refcount)`, write(refcount_obj(f)));
  f._refcount.counter -= nr;
  return f._refcount.counter;
});

/** page_ref_inc_return(page). */
export const page_ref_inc_return = static_inline('page_ref_inc_return', function* (p: page): Gen<number> {
  yield* step('atomic_inc_return(&page->_refcount)', write(refcount_obj(p)));
  p._refcount.counter += 1;
  return p._refcount.counter;
});

/** page_ref_dec_and_test(page): true when the count reaches 0. */
export const page_ref_dec_and_test = static_inline('page_ref_dec_and_test', function* (p: page): Gen<boolean> {
  yield* step('atomic_dec_and_test(&page->_refcount)', atomic_sub_and_test_access(refcount_obj(p), 1));
  p._refcount.counter -= 1;
  return p._refcount.counter === 0;
});

/** folio_ref_dec_and_test(folio) (v5.16+). */
export const folio_ref_dec_and_test = static_inline('folio_ref_dec_and_test', function* (f: folio): Gen<boolean> {
  yield* step('atomic_dec_and_test(&folio->_refcount)', atomic_sub_and_test_access(refcount_obj(f), 1));
  f._refcount.counter -= 1;
  return f._refcount.counter === 0;
});

/** page_ref_dec_return(page). */
export const page_ref_dec_return = static_inline('page_ref_dec_return', function* (p: page): Gen<number> {
  yield* step('atomic_dec_return(&page->_refcount)', write(refcount_obj(p)));
  p._refcount.counter -= 1;
  return p._refcount.counter;
});

/** page_ref_add_unless(page, nr, u): adds nr unless the count is u; true if it added. */
export const page_ref_add_unless = static_inline('page_ref_add_unless', function* (p: page, nr: number, u: number): Gen<boolean> {
  yield* step(`atomic_add_unless(&page->_refcount, ${nr}, ${u})`, write(refcount_obj(p)));
  if (p._refcount.counter === u) return false;
  p._refcount.counter += nr;
  return true;
});

/** folio_try_get(folio) (v5.16+; get_page_unless_zero() before): add 1 unless the count is 0. */
export const folio_try_get = static_inline('folio_try_get', function* (f: folio): Gen<boolean> {
  yield* step('atomic_add_unless(&folio->_refcount, 1, 0)', write(refcount_obj(f)));
  if (f._refcount.counter === 0) return false;
  f._refcount.counter += 1;
  return true;
});

/** get_page_unless_zero(page). */
export const get_page_unless_zero = static_inline('get_page_unless_zero', function* (p: page): Gen<boolean> {
  yield* step('atomic_add_unless(&page->_refcount, 1, 0)', write(refcount_obj(p)));
  if (p._refcount.counter === 0) return false;
  p._refcount.counter += 1;
  return true;
});
