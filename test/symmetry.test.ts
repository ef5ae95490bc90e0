// Symmetry (src/engine/symmetry.ts) against exhaustive DFS: on generated programs with classes
// of interchangeable threads, DPOR with symmetry reaches every outcome and finding of DFS up to a
// permutation of each class's threads, and no outcome DFS does not; in all it explores fewer
// executions than DPOR without symmetry.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type Finding } from '../src/engine/explore.js';
import { exploreByPlans } from '../src/engine/fault-plans.js';
import { generatedProgram, type GeneratedProgram } from '../src/examples/generated.js';
import type { Program } from '../src/engine/execution.js';
import { symmetricPrograms } from './support/arbitraries.js';
import { p2pmemAllocVsUnbind } from '../scenarios/p2pmem-alloc-vs-unbind.js';

const RUNS = Number(process.env.ZONEDEV_DIFFERENTIAL_RUNS ?? 1000);
const SEED = Number(process.env.ZONEDEV_DIFFERENTIAL_SEED ?? 20261203);

/**
 * A thread id of the generated programs (a program's thread T<n>, or a child T<n><k>) with the
 * id of a thread of a class replaced by the class's name.
 */
function canonicalThread(g: GeneratedProgram, id: string): string {
  const cls = g.symmetric?.[Number(id[0]) - 1];
  return cls === undefined ? id : `${cls}${id.slice(1)}`;
}

/** An outcome (`cells|tid:seen|...`) with the class's threads renamed and their entries sorted. */
function canonicalOutcome(g: GeneratedProgram, o: string): string {
  const [cells, ...seen] = o.split('|');
  return [cells, ...seen.map((e) => canonicalThread(g, e.slice(0, e.indexOf(':'))) + e.slice(e.indexOf(':'))).sort()].join('|');
}

/**
 * A finding's site with the class's threads renamed. A hang's site lists the blocked threads in
 * id order without their names, so a hang is named by its title (each blocked thread, what it
 * waits for and where) with the threads renamed and sorted.
 */
function canonicalSite(g: GeneratedProgram, f: Finding): string {
  const rename = (s: string): string => s.replace(/T(\d+)/g, (_, id: string) => `T${canonicalThread(g, id)}`);
  if (f.kind !== 'hang') return rename(f.site);
  return `hang: ${f.title.replace(/^task hung: /, '').split('; ').map(rename).sort().join('; ')}`;
}

function canonicalSet(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}

describe('DPOR with symmetry against exhaustive DFS', () => {
  it(`reaches DFS's outcomes and findings up to permutations on ${RUNS} programs with interchangeable threads`, () => {
    let withSymmetry = 0;
    let without = 0;
    fc.assert(
      fc.property(symmetricPrograms, fc.nat(1), (g, maxFaults) => {
        const p = generatedProgram(g);
        const dfs = explore(p, { strategy: 'dfs', maxFaults, collectOutcomes: true, maxExecutions: 50_000 });
        fc.pre(dfs.complete);
        const sym = explore(p, { strategy: 'dpor', maxFaults, collectOutcomes: true });
        const plain = explore(p, { strategy: 'dpor', maxFaults, symmetry: false, collectOutcomes: true });
        expect(sym.complete).toBe(true);
        expect(canonicalSet(sym.outcomes!.map((o) => canonicalOutcome(g, o)))).toEqual(canonicalSet(dfs.outcomes!.map((o) => canonicalOutcome(g, o))));
        // Never an outcome that DFS does not reach as it is.
        for (const o of sym.outcomes!) expect(dfs.outcomes).toContain(o);
        expect(canonicalSet(sym.findings.map((f) => canonicalSite(g, f)))).toEqual(canonicalSet(dfs.findings.map((f) => canonicalSite(g, f))));
        expect(sym.explored).toBeLessThanOrEqual(dfs.explored);
        withSymmetry += sym.explored;
        without += plain.explored;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(withSymmetry).toBeLessThan(without);
  });

  it(`plan by plan (threads a fault plan names leave their class) on ${Math.ceil(RUNS / 4)} programs`, () => {
    fc.assert(
      fc.property(symmetricPrograms, (g) => {
        const p = generatedProgram(g);
        const dfs = exploreByPlans(p, { strategy: 'dfs', maxFaults: 1, collectOutcomes: true, maxExecutions: 50_000 });
        fc.pre(dfs.complete);
        const sym = exploreByPlans(p, { strategy: 'dpor', maxFaults: 1, collectOutcomes: true });
        expect(sym.complete).toBe(true);
        expect(canonicalSet(sym.outcomes!.map((o) => canonicalOutcome(g, o)))).toEqual(canonicalSet(dfs.outcomes!.map((o) => canonicalOutcome(g, o))));
        expect(canonicalSet(sym.findings.map((f) => canonicalSite(g, f)))).toEqual(canonicalSet(dfs.findings.map((f) => canonicalSite(g, f))));
      }),
      { numRuns: Math.ceil(RUNS / 4), seed: SEED + 1 },
    );
  });

  it('a class whose threads go different ways from the same state is a model error', () => {
    const g: GeneratedProgram = { cells: 1, locks: 0, threads: [[{ k: 'read', cell: 0 }], [{ k: 'write', cell: 0, value: 1 }]], symmetric: ['S', 'S'] };
    expect(() => explore(generatedProgram(g), { strategy: 'dpor' })).toThrow(/T1 and T2 are declared interchangeable \(class 'S'\) but do different things/);
  });

  it('without a class, or with symmetry off, DPOR is unchanged', () => {
    fc.assert(
      fc.property(symmetricPrograms, (g) => {
        const p = generatedProgram({ ...g, symmetric: undefined });
        const a = explore(p, { strategy: 'dpor', maxFaults: 1, collectOutcomes: true });
        const b = explore(generatedProgram(g), { strategy: 'dpor', maxFaults: 1, symmetry: false, collectOutcomes: true });
        expect([a.explored, a.sleepBlocked, a.steps, a.outcomes]).toEqual([b.explored, b.sleepBlocked, b.steps, b.outcomes]);
      }),
      { numRuns: 100, seed: SEED + 2 },
    );
  });
});

describe('symmetry on a kernel scenario', () => {
  it('seed 002 with two clients on v5.2: the findings of the exploration without symmetry, in fewer executions', () => {
    // The two clients are one class (scenarios/support/p2pdma.ts, client_actor).
    const program: Program = p2pmemAllocVsUnbind.build('v5.2', { pages: 1, clients: 2, rounds: 1 });
    const sym = explore(program, { maxFaults: 0 });
    const plain = explore(program, { maxFaults: 0, symmetry: false });
    expect(sym.complete && plain.complete).toBe(true);
    const sites = (r: typeof sym): string[] => canonicalSet(r.findings.map((f) => f.title.replace(/client\d/g, 'client')));
    expect(sites(sym)).toEqual(sites(plain));
    expect(sym.explored + sym.sleepBlocked).toBeLessThan(plain.explored + plain.sleepBlocked);
  });
});

describe('zonedev check --no-symmetry', () => {
  it('explores every permutation of the clients: more executions, the same findings up to their names', () => {
    const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
    const run = (...extra: string[]): { explored: number; sleepBlocked: number; titles: string[] } => {
      const r = spawnSync(process.execPath, [main, 'check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.2', '--param', 'clients=2', '--max-faults', '0', '--json', ...extra], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status).toBe(1);
      const res = (JSON.parse(r.stdout) as { results: { explored: number; sleepBlocked: number; findings: { title: string }[] }[] }).results[0]!;
      return { explored: res.explored, sleepBlocked: res.sleepBlocked, titles: canonicalSet(res.findings.map((f) => f.title.replace(/client\d/g, 'client'))) };
    };
    const sym = run();
    const all = run('--no-symmetry');
    expect(all.titles).toEqual(sym.titles);
    expect(all.explored + all.sleepBlocked).toBeGreaterThan(sym.explored + sym.sleepBlocked);
  });
});
