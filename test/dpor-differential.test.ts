// DPOR must reach exactly the outcomes and findings of exhaustive DFS, on many generated
// programs, while exploring no more executions.
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore } from '../src/engine/explore.js';
import { generatedProgram, type GeneratedProgram } from '../src/examples/generated.js';
import { counterPrograms, programs, viewPrograms, waitPrograms } from './support/arbitraries.js';

/** How many programs: 1000 by default; ZONEDEV_DIFFERENTIAL_RUNS=10000 for a longer local run. */
const RUNS = Number(process.env.ZONEDEV_DIFFERENTIAL_RUNS ?? 1000);
const SEED = Number(process.env.ZONEDEV_DIFFERENTIAL_SEED ?? 20261121);

/**
 * Runs RUNS programs of `arbitrary`, each with a fault bound from `faults`: DPOR must reach DFS's
 * outcomes and finding sites, never explore more, and explore fewer in all.
 */
function againstDfs(arbitrary: fc.Arbitrary<GeneratedProgram>, faults: fc.Arbitrary<number>): void {
  let dporTotal = 0;
  let dfsTotal = 0;
  fc.assert(
    fc.property(arbitrary, faults, (g, maxFaults) => {
      const p = generatedProgram(g);
      const dfs = explore(p, { strategy: 'dfs', maxFaults, collectOutcomes: true, maxExecutions: 50_000 });
      fc.pre(dfs.complete);
      const dpor = explore(p, { strategy: 'dpor', maxFaults, collectOutcomes: true });
      expect(dpor.complete).toBe(true);
      expect(dpor.outcomes).toEqual(dfs.outcomes);
      expect(dpor.findings.map((f) => f.site).sort()).toEqual(dfs.findings.map((f) => f.site).sort());
      expect(dpor.explored).toBeLessThanOrEqual(dfs.explored);
      dporTotal += dpor.explored;
      dfsTotal += dfs.explored;
    }),
    { numRuns: RUNS, seed: SEED },
  );
  expect(dporTotal).toBeLessThan(dfsTotal);
}

/** Re-entrant acquisition of a lock a thread already holds would self-deadlock; that is a real hang, and allowed. */
describe('DPOR against exhaustive DFS', () => {
  it(`reaches the same outcomes and findings on ${RUNS} generated programs, exploring no more`, () => againstDfs(programs, fc.nat(2)));
});



describe('DPOR with tested counter adds against exhaustive DFS', () => {
  it(`reaches the same outcomes and findings on ${RUNS} counter programs, exploring no more`, () => againstDfs(counterPrograms, fc.nat(1)));
});



describe('DPOR with value views against exhaustive DFS', () => {
  it(`reaches the same outcomes and findings on ${RUNS} flag-test programs, exploring no more`, () => againstDfs(viewPrograms, fc.nat(1)));
});

describe('DPOR with blocking waits against exhaustive DFS', () => {
  it(`reaches the same outcomes and findings on ${RUNS} wait programs, exploring no more`, () => againstDfs(waitPrograms, fc.nat(1)));
});
