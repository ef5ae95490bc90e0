// An exploration split into subtree tasks, handed out and interleaved at random, must be the
// exploration in one piece: the same executions, cut-short executions, steps, outcomes and
// findings with the same counts and interleavings (engine/subtrees.ts).
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { type ExploreOptions, exploreWith, schedulerFor, type StrategyName } from '../src/engine/explore.js';
import { exploreInSubtrees } from '../src/engine/subtrees.js';
import type { Program } from '../src/engine/execution.js';
import { generatedProgram } from '../src/examples/generated.js';
import { p2pmemAllocVsUnbind } from '../scenarios/p2pmem-alloc-vs-unbind.js';
import { counterPrograms, programs } from './support/arbitraries.js';

const RUNS = Math.max(1, Math.round(Number(process.env.ZONEDEV_DIFFERENTIAL_RUNS ?? 1000) / 4));

function summary(r: ReturnType<typeof exploreWith>): unknown {
  return {
    explored: r.explored,
    sleepBlocked: r.sleepBlocked,
    steps: r.steps,
    complete: r.complete,
    bounded: r.bounded,
    outcomes: r.outcomes,
    findings: r.findings.map((f) => ({ site: f.site, count: f.count, faults: f.faults, decisions: f.decisions, trace: f.trace.length })),
  };
}

function sameSplit(program: Program, options: ExploreOptions, strategy: StrategyName, seed: number, handOutRate: number, nestRate: number): { tasks: number; runs: number } {
  const opts = { ...options, strategy, collectOutcomes: true };
  const whole = exploreWith(program, opts, schedulerFor(strategy, opts));
  const split = exploreInSubtrees(program, opts, () => schedulerFor(strategy, opts), { seed, handOutRate, nestRate });
  expect(summary(split)).toEqual(summary(whole));
  return split;
}

describe('subtree tasks', () => {
  it(`explore what one exploration does, on ${RUNS} generated programs, DPOR and DFS, any hand-out and order`, () => {
    let tasks = 0;
    let waits = 0;
    fc.assert(
      fc.property(
        fc.oneof(programs, counterPrograms),
        fc.nat(2),
        fc.constantFrom<StrategyName>('dpor', 'dfs'),
        fc.option(fc.nat(2), { nil: undefined }),
        fc.nat(),
        fc.constantFrom(0.2, 0.6, 1),
        fc.constantFrom(0, 0.3, 0.8),
        (g, maxFaults, strategy, preemptionBound, seed, handOutRate, nestRate) => {
          const r = sameSplit(generatedProgram(g), { maxFaults, preemptionBound }, strategy, seed, handOutRate, nestRate);
          tasks += r.tasks - 1;
          waits += r.runs - r.tasks;
        },
      ),
      { numRuns: RUNS, seed: 20261202 },
    );
    // The property was exercised: tasks were handed out, and some waited for theirs.
    expect(tasks).toBeGreaterThan(RUNS);
    expect(waits).toBeGreaterThan(0);
  });

  it('explore what one exploration does on a kernel scenario (seed 002 on v5.2, two clients)', () => {
    const program = p2pmemAllocVsUnbind.build('v5.2', { pages: 1, clients: 2 });
    const r = sameSplit(program, { maxFaults: 0 }, 'dpor', 7, 0.05, 0.5);
    expect(r.tasks).toBeGreaterThan(10);
  });
});
