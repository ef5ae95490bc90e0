// The epoch rule of value-aware commutation (src/engine/counter-epochs.ts): which adds to a
// counter join its epoch (commute) and which are ordered as writes.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { EMPTY_EPOCH, type Epoch, joinEpoch } from '../src/engine/counter-epochs.js';
import type { CounterAdd } from '../src/engine/ops.js';

const add = (delta: bigint, testsZero: boolean, modulus?: bigint): CounterAdd => ({ delta, testsZero, value: () => 0n, modulus });

/**
 * Joins adds one by one from `start` (undefined: an update that gives no delta); the index of
 * the first that cannot join, or -1.
 */
function firstWrite(start: bigint, adds: readonly (CounterAdd | undefined)[]): number {
  let e: Epoch = EMPTY_EPOCH;
  let value = start;
  for (let i = 0; i < adds.length; i++) {
    const next = joinEpoch(e, adds[i], value);
    if (!next) return i;
    e = next;
    value += adds[i]?.delta ?? 0n;
  }
  return -1;
}

describe('counter epochs', () => {
  it('plain adds always join; a tested add joins while no order of the epoch brings one to zero', () => {
    expect(firstWrite(0n, [add(1n, false), add(-1n, false), add(5n, false)])).toBe(-1);
    expect(firstWrite(3n, [add(-1n, true), add(-1n, true)])).toBe(-1);
    // The third decrement from 3 is the one that can reach zero.
    expect(firstWrite(3n, [add(-1n, true), add(-1n, true), add(-1n, true)])).toBe(2);
    // An increment next to a decrement from 1: in one order the decrement reaches zero; a
    // decrement that reaches zero itself never joins.
    expect(firstWrite(1n, [add(1n, false), add(-1n, true)])).toBe(1);
    expect(firstWrite(1n, [add(-1n, true), add(1n, false)])).toBe(0);
    expect(firstWrite(2n, [add(-1n, true), add(1n, false)])).toBe(-1);
    expect(firstWrite(2n, [add(-1n, true), add(-1n, false)])).toBe(1);
  });

  it('an add whose delta is unknown makes every later tested add a write, and a tested add makes it one', () => {
    expect(firstWrite(100n, [undefined, undefined])).toBe(-1);
    expect(firstWrite(100n, [undefined, add(-1n, true)])).toBe(1);
    expect(firstWrite(100n, [add(-1n, true), undefined])).toBe(1);
  });

  it('a 64-bit counter biased by 2^63: the puts commute until the add that removes the bias', () => {
    const M = 1n << 64n;
    const s64 = (v: bigint) => BigInt.asIntN(64, v);
    const BIAS = 1n << 63n;
    // A percpu_ref killed with two references: the count still carries the bias.
    const start = s64(BIAS + 2n);
    const put = add(-1n, true, M);
    expect(firstWrite(start, [put, add(1n, false, M), put])).toBe(-1);
    // atomic_long_add((long)count - PERCPU_COUNT_BIAS) of the switch: after it the second put
    // would reach zero, so it does not commute with them.
    expect(firstWrite(start, [put, put, add(s64(0n - BIAS), false, M)])).toBe(2);
    // With three references nothing reaches zero, wrapping or not.
    expect(firstWrite(s64(BIAS + 3n), [put, put, add(s64(0n - BIAS), false, M)])).toBe(-1);
  });
});
