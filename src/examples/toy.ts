// A tiny shared-memory vocabulary for engine-level programs: cells, locks and waits. Used by
// the engine's tests, its benchmarks and the example programs of the command.

import { addAndTest, addTo, awaitObserving, block, type Gen, read, readObserving, step, update, write, writeStoring } from '../engine/ops.js';

export class Cell {
  constructor(
    readonly name: string,
    public value = 0,
  ) {}
}

export function* load(c: Cell): Gen<number> {
  yield* step(`read ${c.name}`, read(c));
  return c.value;
}

export function* store(c: Cell, v: number): Gen<void> {
  yield* step(`write ${c.name} = ${v}`, write(c));
  c.value = v;
}

/** A read of which only the bits in `mask` are used (a flag test), told to the engine (ValueView). */
export function* loadBits(c: Cell, mask: number): Gen<number> {
  yield* step(`read ${c.name} & ${mask}`, readObserving(c, () => c.value, (v) => v & mask));
  return c.value & mask;
}

/** A store that tells the engine the value it stores (ValueView). */
export function* storeKnown(c: Cell, v: number): Gen<void> {
  yield* step(`write ${c.name} = ${v}`, writeStoring(c, () => c.value, () => v));
  c.value = v;
}

/** An atomic read-modify-write; returns the old value. */
export function* fetchAdd(c: Cell, d: number): Gen<number> {
  yield* step(`${c.name} += ${d}`, write(c));
  const old = c.value;
  c.value += d;
  return old;
}

/** An atomic add whose result is not used (atomic_add): commutes with other adds. */
export function* add(c: Cell, d: number): Gen<void> {
  yield* step(`${c.name} += ${d} (result unused)`, update(c));
  c.value += d;
}

/** An atomic add whose result is not used, its amount told to the engine (atomic_add with CounterAdd). */
export function* addKnown(c: Cell, d: number): Gen<void> {
  yield* step(`${c.name} += ${d} (result unused)`, addTo(c, BigInt(d), () => BigInt(c.value)));
  c.value += d;
}

/** An atomic add whose result is only tested against zero (atomic_add_and_test); true at zero. */
export function* addAndTestZero(c: Cell, d: number): Gen<boolean> {
  yield* step(`${c.name} += ${d} == 0`, addAndTest(c, BigInt(d), () => BigInt(c.value)));
  c.value += d;
  return c.value === 0;
}

export class Lock {
  owner = -1;
  constructor(readonly name: string) {}
}

export function* acquire(l: Lock, who: number): Gen<void> {
  yield* block(`lock ${l.name}`, `lock ${l.name}`, () => l.owner < 0, write(l));
  l.owner = who;
}

export function* release(l: Lock): Gen<void> {
  yield* step(`unlock ${l.name}`, write(l));
  l.owner = -1;
}

/** Blocks until the bits of `c` in `mask` are `v`; the wait observes those bits only (ValueView). */
export function* waitBits(c: Cell, mask: number, v: number): Gen<void> {
  yield* block(`wait ${c.name} & ${mask} == ${v}`, `${c.name} & ${mask} to become ${v}`, () => (c.value & mask) === v, awaitObserving(c, () => c.value, (x) => x & mask, (bits) => bits === v));
}

/** Blocks until `c` holds `v`. */
export function* waitFor(c: Cell, v: number): Gen<void> {
  yield* block(`wait ${c.name} == ${v}`, `${c.name} to become ${v}`, () => c.value === v, awaitObserving(c, () => c.value, (x) => x, (x) => x === v));
}
