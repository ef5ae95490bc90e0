// The kernel scenarios at growing sizes (pages, clients, BARs, fault bound), explored as the
// command explores them (DPOR, fault plans merged): executions, executions cut short as
// redundant, steps/s and wall time, each row within a time limit; and the command's wall time
// with one worker against two on the same check. Everything is measured in this run.

import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exploreByPlans } from '../src/engine/fault-plans.js';
import { p2pdmaTwoBarsVsUnbind } from '../scenarios/p2pdma-two-bars-vs-unbind.js';
import { p2pmemAllocVsUnbind } from '../scenarios/p2pmem-alloc-vs-unbind.js';
import { p2pmemMmapVsUnbind } from '../scenarios/p2pmem-mmap-vs-unbind.js';
import type { Scenario } from '../scenarios/scenario.js';

export interface KernelRow {
  readonly cell: string;
  readonly explored: number;
  readonly cut: number;
  readonly complete: boolean;
  readonly stepsPerSecond: number;
  readonly seconds: number;
}

interface Size {
  readonly s: Scenario;
  readonly tree: string;
  readonly params: Record<string, number>;
  readonly maxFaults: number;
}

export const KERNEL_SIZES: readonly Size[] = [
  { s: p2pmemAllocVsUnbind, tree: 'v5.2', params: { pages: 1, clients: 1 }, maxFaults: 0 },
  { s: p2pmemAllocVsUnbind, tree: 'v5.2', params: { pages: 4, clients: 1 }, maxFaults: 0 },
  { s: p2pmemAllocVsUnbind, tree: 'v5.2', params: { pages: 1, clients: 2 }, maxFaults: 0 },
  { s: p2pmemAllocVsUnbind, tree: 'v5.2', params: { pages: 4, clients: 3 }, maxFaults: 0 },
  { s: p2pmemAllocVsUnbind, tree: 'v6.14', params: { pages: 1, clients: 1 }, maxFaults: 1 },
  { s: p2pmemMmapVsUnbind, tree: 'v6.14', params: {}, maxFaults: 0 },
  { s: p2pmemMmapVsUnbind, tree: 'v6.14', params: {}, maxFaults: 1 },
  { s: p2pdmaTwoBarsVsUnbind, tree: 'v6.14', params: { pages: 1, clients: 1 }, maxFaults: 0 },
];

export function kernelRows(timeLimitMs: number, progress: () => void): KernelRow[] {
  return KERNEL_SIZES.map(({ s, tree, params, maxFaults }) => {
    const full = { ...Object.fromEntries(Object.entries(s.params).map(([k, p]) => [k, p.default])), ...params };
    const t0 = performance.now();
    const r = exploreByPlans(s.build(tree, full), { strategy: 'dpor', maxFaults, timeLimitMs });
    const seconds = (performance.now() - t0) / 1000;
    progress();
    const size = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ');
    return { cell: `${s.name} ${tree}${size ? ` ${size}` : ''} faults=${maxFaults}`, explored: r.explored, cut: r.sleepBlocked, complete: r.complete, stepsPerSecond: r.steps / seconds, seconds };
  });
}

/** The seed 002 race with several clients (one class of interchangeable threads), with symmetry and without. */
export const SYMMETRY_SIZES: readonly (readonly [number, number])[] = [
  [1, 2],
  [4, 2],
  [1, 3],
  [4, 3],
];

export interface SymmetryRow {
  readonly cell: string;
  readonly on: KernelRow;
  readonly off: KernelRow;
}

export function symmetryRows(timeLimitMs: number, progress: () => void): SymmetryRow[] {
  return SYMMETRY_SIZES.map(([pages, clients]) => {
    const run = (symmetry: boolean): KernelRow => {
      const t0 = performance.now();
      const r = exploreByPlans(p2pmemAllocVsUnbind.build('v5.2', { pages, clients, rounds: 1 }), { strategy: 'dpor', maxFaults: 0, timeLimitMs, symmetry });
      const seconds = (performance.now() - t0) / 1000;
      progress();
      return { cell: '', explored: r.explored, cut: r.sleepBlocked, complete: r.complete, stepsPerSecond: r.steps / seconds, seconds };
    };
    return { cell: `p2pmem-alloc-vs-unbind v5.2 pages=${pages} clients=${clients}`, on: run(true), off: run(false) };
  });
}

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

/** Wall time of `zonedev check ARGS --jobs N`, and whether the documents of every N agree. */
export function jobsRows(args: readonly string[], jobs: readonly number[]): { jobs: number; seconds: number; same: boolean }[] {
  let first: string | undefined;
  return jobs.map((n) => {
    const t0 = performance.now();
    let out: string;
    try {
      out = execFileSync(process.execPath, [MAIN, 'check', ...args, '--json', '--jobs', String(n)], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (e) {
      // Exit status 1 means findings: its output is the document.
      out = (e as { stdout?: string }).stdout ?? '';
    }
    const seconds = (performance.now() - t0) / 1000;
    first ??= out;
    return { jobs: n, seconds, same: out === first };
  });
}

/**
 * What two cores give this machine: one `zonedev check ARGS --jobs 1` alone against two of it
 * run at once, as the ratio of the work done per second (2 when the cores do not slow each
 * other down). The ceiling of any speedup from a second worker.
 */
export async function twoCoreCeiling(args: readonly string[]): Promise<{ alone: number; together: number; ratio: number }> {
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [MAIN, 'check', ...args, '--json', '--jobs', '1'], { stdio: 'ignore' });
      p.on('error', reject);
      p.on('close', () => resolve());
    });
  let t0 = performance.now();
  await once();
  const alone = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await Promise.all([once(), once()]);
  const together = (performance.now() - t0) / 1000;
  return { alone, together, ratio: (2 * alone) / together };
}
