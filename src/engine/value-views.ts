// Value views: a read that uses only part of what it reads commutes with a write that leaves
// that part as it was.
//
// A step that reads a word only to test some of its bits (a flag test of a word that also holds
// a pointer) announces what it takes from the value: `observe(v)`. A step that stores a word
// announces the value it stores: `stores()`. A read R and a write W of one object then commute
// at a state where R observes the same before and after W: R.W and W.R reach the same state,
// with R taking the same course (everything R does with the object, its readiness included,
// depends on observe() only — the model's promise), and W unaffected by a read.
//
// Happens-before follows from the writes' values, which the execution records before each such
// write (the object's value and what the write stores). The writes of an object stay totally
// ordered; a read is ordered after the latest write that changed what it observes, and before
// the first later write that changes it. Every linearisation of that order puts the read
// between the same two changing writes, so it observes the same, and the order computed from
// the linearisation is the same: a happens-before assignment of the kind source sets need
// (Abdulla, Aronis, Jonsson, Sagonas, JACM 2017, section 10), decided for each event from the
// events before it. Where a read observes everything, or a write does not tell what it
// stores, the two conflict as plain accesses do.

import type { Access } from './ops.js';

/** An object's value before a write and the value the write stores. */
export interface StoredValue {
  readonly before: unknown;
  readonly after: unknown;
}

/** The object's value now, or UNREADABLE. */
export function valueNow(a: Access): unknown {
  return attempt(() => a.view!.value());
}

/** Whether a value from valueNow() could be read. */
export function isReadable(v: unknown): boolean {
  return v !== UNREADABLE;
}

/** Whether two observations (or values) are the same: identical, or arrays of identical items. */
export function sameView(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const UNREADABLE = Symbol('unreadable');

/** A view's function applied; UNREADABLE when the model cannot read the object (its memory is gone). */
function attempt<T>(f: () => T): T | typeof UNREADABLE {
  try {
    return f();
  } catch {
    return UNREADABLE;
  }
}

/** Whether a write that changed the object from `s.before` to `s.after` leaves what `read` observes as it was. */
export function preserves(s: StoredValue | undefined, read: Access): boolean {
  const observe = read.view?.observe;
  if (!s || !observe) return false;
  const before = attempt(() => observe(s.before));
  const after = attempt(() => observe(s.after));
  return before !== UNREADABLE && after !== UNREADABLE && sameView(before, after);
}

/** For a write with a value view: the object's value now and what the write stores, if both can be read. */
function storedOf(a: Access): StoredValue | undefined {
  const view = a.view;
  if (a.kind !== 'write' || !view?.stores) return undefined;
  const before = attempt(() => view.value());
  const after = attempt(() => view.stores!());
  return before === UNREADABLE || after === UNREADABLE ? undefined : { before, after };
}

/** For each write with a value view, the object's value now and what the write stores; nothing when none. */
export function storedValues(access: readonly Access[]): (StoredValue | undefined)[] | undefined {
  let out: (StoredValue | undefined)[] | undefined;
  for (let i = 0; i < access.length; i++) {
    const s = storedOf(access[i]!);
    if (s) (out ??= new Array<StoredValue | undefined>(access.length))[i] = s;
  }
  return out;
}

/**
 * Whether two steps possible next commute on an object both touch once, one reading it through
 * an observing view and the other writing it with a stored value, at the current state.
 */
export function commuteByValue(x: Access | undefined, y: Access | undefined): boolean {
  if (!x || !y) return false;
  const [r, w] = x.kind === 'read' ? [x, y] : [y, x];
  return r.kind === 'read' && preserves(storedOf(w), r);
}

/**
 * Whether a blocking step's read (ValueView.enables) leaves the step blocked while its object
 * holds `value`: its observation of it is one that cannot make the step ready.
 */
export function blocksWhile(read: Access, value: unknown): boolean {
  const view = read.view;
  if (read.kind !== 'read' || !view?.observe || !view.enables) return false;
  const observed = attempt(() => view.observe!(value));
  if (observed === UNREADABLE) return false;
  const enables = attempt(() => view.enables!(observed));
  return enables === false;
}
