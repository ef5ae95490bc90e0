// --jobs: a check's cells and their fault plans run on any number of worker threads, and the
// result does not depend on how many: the same JSON document, byte for byte. And the plans of
// a cell merge into what exploring the cell whole finds: the same executions and findings.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore } from '../src/engine/explore.js';
import { exploreByPlans } from '../src/engine/fault-plans.js';
import { p2pmemAllocVsUnbind } from '../scenarios/p2pmem-alloc-vs-unbind.js';
import { p2pmemSysfsReadVsUnbind } from '../scenarios/p2pmem-sysfs-read-vs-unbind.js';
import { type JobSpec, runJobs } from '../src/cli/pool.js';
import type { CheckResult } from '../src/cli/jobs.js';
import { answersAlike } from '../src/cli/same-answers.js';
import { askedWhile } from '../src/kernel/machine.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function zonedev(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 300_000 });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('--jobs', () => {
  it('one worker and two print the same document', async () => {
    const args = ['check', 'p2pmem-alloc-vs-unbind', 'p2pdma-add-resource-fault', '--tree', 'v5.1', '--tree', 'v6.14', '--json'];
    const [one, two] = await Promise.all([zonedev(...args, '--jobs', '1'), zonedev(...args, '--jobs', '2')]);
    expect(one.code).toBe(1);
    expect(two.out).toBe(one.out);
    const doc = JSON.parse(one.out) as { results: { complete: boolean; findings: unknown[] }[] };
    expect(doc.results).toHaveLength(4);
    expect(doc.results.every((r) => r.complete && r.findings.length > 0)).toBe(true);
  });
});

describe('subtree tasks', () => {
  it('one big plan, split across two workers while one is idle, gives what one worker gives', async () => {
    const spec: JobSpec = {
      kind: 'check',
      scenario: { kind: 'library', name: 'p2pmem-alloc-vs-unbind' },
      tree: 'v5.2',
      params: { pages: 1, clients: 2 },
      settings: { strategy: 'dpor', maxFaults: 0, maxSteps: 10_000, seed: 1, pctDepth: 3 },
    };
    const oneStats = { subtreeTasks: 0 };
    const twoStats = { subtreeTasks: 0 };
    const [one] = await runJobs([spec], { threads: 1, stats: oneStats });
    const [two] = await runJobs([spec], { threads: 2, stats: twoStats });
    expect(oneStats.subtreeTasks).toBe(0);
    expect(twoStats.subtreeTasks).toBeGreaterThan(0);
    expect(two).toEqual(one);
    expect((one as CheckResult).complete).toBe(true);
  });
});

describe('cells whose trees answer alike', () => {
  const cell = (scenario: string, tree: string): JobSpec => ({
    kind: 'check',
    scenario: { kind: 'library', name: scenario },
    tree,
    params: { pages: 1, clients: 1, rounds: 1 },
    settings: { strategy: 'dpor', maxFaults: 1, maxSteps: 10_000, seed: 1, pctDepth: 3 },
  });
  const alone = async (spec: JobSpec): Promise<CheckResult> => (await runJobs([spec], { threads: 2 }))[0] as CheckResult;

  it('v6.1 takes the result of v6.0 (they differ by device-private patches no P2PDMA path asks about), the same as its own', async () => {
    const stats = { subtreeTasks: 0, reused: 0 };
    const [a, b] = (await runJobs([cell('p2pmem-alloc-vs-unbind', 'v6.0'), cell('p2pmem-alloc-vs-unbind', 'v6.1')], { threads: 2, stats })) as CheckResult[];
    expect(stats.reused).toBe(1);
    expect(a).toEqual(await alone(cell('p2pmem-alloc-vs-unbind', 'v6.0')));
    const own = await alone(cell('p2pmem-alloc-vs-unbind', 'v6.1'));
    expect(b).toEqual(own);
    expect(b!.tree).toBe('v6.1');
    expect(b!.findings.length).toBeGreaterThan(0);
  });

  it('trees that answer a question differently each explore their own (v6.14 and v6.15, seed 000 between them)', async () => {
    const stats = { subtreeTasks: 0, reused: 0 };
    const [a, b] = (await runJobs([cell('p2pmem-alloc-vs-unbind', 'v6.14'), cell('p2pmem-alloc-vs-unbind', 'v6.15')], { threads: 2, stats })) as CheckResult[];
    expect(stats.reused).toBe(0);
    expect(a).toEqual(await alone(cell('p2pmem-alloc-vs-unbind', 'v6.14')));
    expect(b).toEqual(await alone(cell('p2pmem-alloc-vs-unbind', 'v6.15')));
  });

  it('the model asks patched() about the patches its paths test, and askedWhile() says which', () => {
    const program = p2pmemAllocVsUnbind.build('v6.0', { pages: 1, clients: 1, rounds: 1 });
    const { asked } = askedWhile(() => explore(program, { maxFaults: 1 }));
    expect(asked).toContain('p2pdma-rcu-pdev');
    expect(asked).toContain('p2pdma-gfp-atomic-in-rcu');
    // A P2PDMA pgmap never reaches the device-private refcount rule.
    expect(asked).not.toContain('zone-device-refcount-0-private');
    expect(answersAlike(asked, 'v6.0', 'v6.1')).toBe(true);
    expect(answersAlike(asked, 'v6.0', 'v6.6')).toBe(false);
  });
});

describe('fault plans', () => {
  for (const [s, tree] of [
    [p2pmemAllocVsUnbind, 'v5.1'],
    [p2pmemAllocVsUnbind, 'v6.14'],
    [p2pmemSysfsReadVsUnbind, 'v5.2'],
  ] as const) {
    it(`${s.name} on ${tree}: the plans merged explore what the whole cell explores`, () => {
      const program = s.build(tree, { pages: 1, clients: 1 });
      const whole = explore(program, { maxFaults: 1 });
      const plans = exploreByPlans(program, { maxFaults: 1 });
      expect(plans.complete).toBe(true);
      expect(plans.plans).toBeGreaterThan(1);
      expect(plans.explored).toBe(whole.explored);
      const sites = (r: typeof whole) => r.findings.map((f) => `${f.site} x${f.count}`).sort();
      expect(sites(plans)).toEqual(sites(whole));
    });
  }
});
