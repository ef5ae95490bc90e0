// Generated programs for the engine's property tests (src/examples/generated.ts): the general
// mix, and programs made mostly of counter adds or of flag tests.
import fc from 'fast-check';
import type { GeneratedProgram, Instr } from '../../src/examples/generated.js';
import { stepsOf } from '../../src/examples/generated.js';

const CELLS = 3;
const LOCKS = 2;

const simple: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('read' as const), cell: fc.nat(CELLS - 1) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('write' as const), cell: fc.nat(CELLS - 1), value: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('rmw' as const), cell: fc.nat(CELLS - 1) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('add' as const), cell: fc.nat(CELLS - 1) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('addKnown' as const), cell: fc.nat(CELLS - 1), delta: fc.constantFrom(-1, 1, 2) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('addTest' as const), cell: fc.nat(CELLS - 1), delta: fc.constantFrom(-1, 1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('wait' as const), cell: fc.nat(CELLS - 1), value: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('readBits' as const), cell: fc.nat(CELLS - 1), mask: fc.constantFrom(1, 2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('writeKnown' as const), cell: fc.nat(CELLS - 1), value: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('choose' as const), cell: fc.nat(CELLS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'fault' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('assert' as const), cell: fc.nat(CELLS - 1), value: fc.nat(2) }) },
);

const locked: fc.Arbitrary<Instr> = fc.record({
  k: fc.constant('locked' as const),
  lock: fc.nat(LOCKS - 1),
  body: fc.array(fc.oneof({ weight: 4, arbitrary: simple }, { weight: 1, arbitrary: fc.record({ k: fc.constant('locked' as const), lock: fc.nat(LOCKS - 1), body: fc.array(simple, { minLength: 0, maxLength: 1 }) }) }), { minLength: 0, maxLength: 2 }),
});

const forked: fc.Arbitrary<Instr> = fc.record({
  k: fc.constant('fork' as const),
  body: fc.array(fc.oneof({ weight: 4, arbitrary: simple }, { weight: 1, arbitrary: locked }), { minLength: 1, maxLength: 2 }),
});

const thread = fc.array(fc.oneof({ weight: 4, arbitrary: simple }, { weight: 1, arbitrary: locked }, { weight: 1, arbitrary: forked }), { minLength: 1, maxLength: 3 });

export const programs: fc.Arbitrary<GeneratedProgram> = fc
  .array(thread, { minLength: 2, maxLength: 4 })
  .filter((ts) => ts.reduce((n, t) => n + stepsOf(t), 0) <= 9)
  .map((threads) => ({ cells: CELLS, locks: LOCKS, threads }));

/** The size of the counter programs: 10 steps by default; ZONEDEV_COUNTER_STEPS for a longer local run. */
const COUNTER_STEPS = Number(process.env.ZONEDEV_COUNTER_STEPS ?? 10);

// Counters: tested adds commute where no order of an epoch's adds changes which of them
// reaches zero (counter-epochs.ts). Programs made mostly of adds to two counters that start
// near zero, with reads, writes and locks around them, put that rule to the test.
const counterOp: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('addTest' as const), cell: fc.nat(1), delta: fc.constantFrom(-1, 1, -2) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('addKnown' as const), cell: fc.nat(1), delta: fc.constantFrom(-1, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('add' as const), cell: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('read' as const), cell: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('write' as const), cell: fc.nat(2), value: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('wait' as const), cell: fc.nat(2), value: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'fault' as const }) },
);
/**
 * Programs made mostly of `op` (some of it under locks), 2 to 4 threads of up to 4 of them, the
 * cells starting at 0..3, at most COUNTER_STEPS steps in all.
 */
function mostlyOf(op: fc.Arbitrary<Instr>): fc.Arbitrary<GeneratedProgram> {
  const thread = fc.array(
    fc.oneof({ weight: 5, arbitrary: op }, { weight: 1, arbitrary: fc.record({ k: fc.constant('locked' as const), lock: fc.nat(LOCKS - 1), body: fc.array(op, { minLength: 1, maxLength: 2 }) }) }),
    { minLength: 1, maxLength: 4 },
  );
  return fc
    .tuple(fc.array(thread, { minLength: 2, maxLength: 4 }), fc.array(fc.nat(3), { minLength: CELLS, maxLength: CELLS }))
    .filter(([ts]) => ts.reduce((n, t) => n + stepsOf(t), 0) <= COUNTER_STEPS)
    .map(([threads, initial]) => ({ cells: CELLS, locks: LOCKS, threads, initial }));
}
export const counterPrograms = mostlyOf(counterOp);

// Value views: a flag test commutes with a store that leaves the flag as it was (value-views.ts).
// Programs made mostly of flag tests, flag waits and stores that tell their value on two cells,
// with plain reads and writes, non-atomic `|=` and locks around them.
const viewOp: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('readBits' as const), cell: fc.nat(1), mask: fc.constantFrom(1, 2, 3) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('writeKnown' as const), cell: fc.nat(1), value: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('orBits' as const), cell: fc.nat(1), bits: fc.constantFrom(1, 2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('waitBits' as const), cell: fc.nat(1), mask: fc.constantFrom(1, 2), value: fc.constantFrom(0, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('read' as const), cell: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('write' as const), cell: fc.nat(2), value: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('addKnown' as const), cell: fc.nat(2), delta: fc.constantFrom(-1, 1) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'fault' as const }) },
);
export const viewPrograms = mostlyOf(viewOp);

// Blocking waits: a wait enabled by one store and disabled by another, whose race with its
// enabler cannot be reversed where it happened (source-dpor.ts reverses it before an earlier
// conflicting step). Programs made mostly of stores, loads and waits on three cells, with locks.
const waitOp: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('write' as const), cell: fc.nat(CELLS - 1), value: fc.nat(1) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('wait' as const), cell: fc.nat(CELLS - 1), value: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('writeKnown' as const), cell: fc.nat(CELLS - 1), value: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('read' as const), cell: fc.nat(CELLS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'fault' as const }) },
);
export const waitPrograms = mostlyOf(waitOp);

// Symmetry: two or three copies of one thread declared interchangeable (ThreadSpec.symmetric),
// among up to two others, perhaps a second class of two; the copies placed anywhere.
export const symmetricPrograms: fc.Arbitrary<GeneratedProgram> = fc
  .record({
    copied: thread,
    copies: fc.integer({ min: 2, max: 3 }),
    second: fc.option(thread, { nil: undefined }),
    others: fc.array(thread, { minLength: 0, maxLength: 2 }),
    seed: fc.nat(),
  })
  .map(({ copied, copies, second, others, seed }) => {
    const members: { instrs: readonly Instr[]; cls: string | undefined }[] = [
      ...Array.from({ length: copies }, () => ({ instrs: copied, cls: 'S' })),
      ...(second ? [{ instrs: second, cls: 'R' }, { instrs: second, cls: 'R' }] : []),
      ...others.map((instrs) => ({ instrs, cls: undefined })),
    ];
    // A fixed shuffle by the seed, so that a class's threads are not always first or adjacent.
    for (let i = members.length - 1, x = seed; i > 0; i--, x = Math.floor(x / (i + 1))) {
      const j = x % (i + 1);
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    return { cells: CELLS, locks: LOCKS, threads: members.map((m) => m.instrs), symmetric: members.map((m) => m.cls) };
  })
  .filter((g) => g.threads.reduce((n, t) => n + stepsOf(t), 0) <= 9);
