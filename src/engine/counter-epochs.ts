// Value-aware commutation of counter adds: when adds to a counter, some of whose results are
// tested against zero (CounterAdd), may be reordered without changing what any of them sees.
//
// An epoch of a counter is a run of adds to it that commute with one another. Each add joins
// the epoch if the epoch stays safe with it, and is otherwise ordered like a write: after every
// access of the counter before it, before every access after it, and it ends the epoch (as a
// read or a write of the counter does). An epoch is safe when no ordering of its adds changes what
// a tested add of it sees: from the counter's value `base` before the epoch, a tested add m
// sees base + d(m) + (the adds before it), which over every subset of the other adds lies in
// [base + d(m) - N, base + d(m) + P], N and P the sums of their negative and positive deltas;
// safe means no such interval holds zero (for a counter that wraps, no multiple of its modulus).
// An epoch with an add whose delta or value is unknown is safe only while it has no tested add.
//
// Why this is a happens-before assignment (Abdulla, Aronis, Jonsson, Sagonas, "Source Sets",
// JACM 2017, section 3): whether an add joins depends only on the adds before it in its epoch,
// and every subset of a safe epoch is safe. So in every linearisation of the happens-before
// built this way, an epoch holds the same adds, each of which joins again (the adds before it
// are a subset of a safe set), and the add that ended it ends it again (it comes after the same
// set): the linearisations have the same happens-before, each tested add sees the same result,
// and the counter the same value, in all of them. The same rule, applied at the current state,
// is what the sleep sets use (source-dpor.ts): two next adds commute there exactly when the
// epoch stays safe with both.

import { counterValue } from './execution.js';
import { type Access, conflicting, type CounterAdd, forEachObject } from './ops.js';
import { commuteByValue } from './value-views.js';

/** The adds of a counter's current epoch, as much of them as safety needs. */
export interface Epoch {
  /** The counter's value before the epoch's first add, when known. */
  readonly base: bigint | undefined;
  /** The deltas of its tested adds. */
  readonly tested: readonly bigint[];
  /** The sums of the positive and of the negative deltas of all its adds. */
  readonly pos: bigint;
  readonly neg: bigint;
  /** An add gave no delta, or its value was unknown. */
  readonly unknown: boolean;
  readonly size: number;
  /** The counter's modulus, for a counter that wraps. */
  readonly modulus: bigint | undefined;
}

export const EMPTY_EPOCH: Epoch = { base: undefined, tested: [], pos: 0n, neg: 0n, unknown: false, size: 0, modulus: undefined };

/** ceil(a / m) for m > 0. */
function ceilDiv(a: bigint, m: bigint): bigint {
  return a >= 0n ? (a + m - 1n) / m : -(-a / m);
}

/** Whether lo..hi holds zero (a multiple of `modulus`, for a counter that wraps). */
function holdsZero(lo: bigint, hi: bigint, modulus: bigint | undefined): boolean {
  if (modulus === undefined) return lo <= 0n && 0n <= hi;
  return ceilDiv(lo, modulus) * modulus <= hi;
}

function safe(e: Epoch): boolean {
  if (e.tested.length === 0) return true;
  if (e.unknown || e.base === undefined) return false;
  for (const d of e.tested) {
    const lo = e.base + d - (e.neg - (d < 0n ? -d : 0n));
    const hi = e.base + d + (e.pos - (d > 0n ? d : 0n));
    if (holdsZero(lo, hi, e.modulus)) return false;
  }
  return true;
}

/**
 * The epoch with an add joined: `add` (undefined for an update that gave no delta), the
 * counter at `value` before it (undefined when unknown). Undefined when the epoch would not be
 * safe: the add is then ordered as a write, and a new epoch begins after it.
 */
export function joinEpoch(epoch: Epoch, add: CounterAdd | undefined, value: bigint | undefined): Epoch | undefined {
  const d = add && value !== undefined ? add.delta : undefined;
  const next: Epoch = {
    base: epoch.size === 0 ? value : epoch.base,
    tested: add?.testsZero ? [...epoch.tested, add.delta] : epoch.tested,
    pos: d !== undefined && d > 0n ? epoch.pos + d : epoch.pos,
    neg: d !== undefined && d < 0n ? epoch.neg - d : epoch.neg,
    unknown: epoch.unknown || d === undefined,
    size: epoch.size + 1,
    modulus: epoch.modulus ?? add?.modulus,
  };
  return safe(next) ? next : undefined;
}

/** Follows the epochs of every counter through one execution's steps, as happens-before does. */
export class CounterEpochs {
  private readonly epochs = new Map<unknown, Epoch>();

  /** Takes a step touching `access`, the counters at `counts` before it. */
  advance(access: readonly Access[], counts: readonly (bigint | undefined)[] | undefined): void {
    // Most steps add to nothing: they only end the epochs of what they read or write.
    if (!access.some((a) => a.kind === 'update')) {
      if (this.epochs.size > 0) for (const a of access) this.epochs.delete(a.obj);
      return;
    }
    forEachObject(access, (obj, kind, only, index) => {
      const joined = kind === 'update' ? joinEpoch(this.epochs.get(obj) ?? EMPTY_EPOCH, only?.add, counts?.[index]) : undefined;
      if (joined) this.epochs.set(obj, joined);
      else this.epochs.delete(obj);
    });
  }

  /**
   * Whether two steps possible next conflict here, as happens-before would order them
   * whichever went first: on a counter both add to, unless its epoch stays safe with both; on
   * an object one reads through a value view and the other writes with a stored value, unless
   * the write leaves what the read observes as it is (value-views.ts).
   */
  dependent(a: readonly Access[], b: readonly Access[]): boolean {
    // By kind, unless both add to one object, or one reads through a value view what the other
    // writes: then as happens-before groups the footprints.
    let byValue = false;
    for (const x of a) {
      for (const y of b) {
        if (x.obj !== y.obj) continue;
        if (x.kind === 'update' && y.kind === 'update') byValue = true;
        else if (conflicting(x.kind, y.kind)) {
          if (x.view === undefined || y.view === undefined) return true;
          byValue = true;
        }
      }
    }
    if (!byValue) return false;
    let found = false;
    forEachObject(a, (obj, ka, onlyA) => {
      if (found) return;
      forEachObject(b, (objB, kb, onlyB) => {
        if (found || objB !== obj) return;
        if (ka === 'update' && kb === 'update') {
          const value = onlyA?.add ? counterValue(onlyA.add) : onlyB?.add ? counterValue(onlyB.add) : undefined;
          const first = joinEpoch(this.epochs.get(obj) ?? EMPTY_EPOCH, onlyA?.add, value);
          found = !first || !joinEpoch(first, onlyB?.add, value);
        } else found = conflicting(ka, kb) && !commuteByValue(onlyA, onlyB);
      });
    });
    return found;
  }
}
