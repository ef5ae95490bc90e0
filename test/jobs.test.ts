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
