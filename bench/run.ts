// npm run bench: executions explored by DFS and by DPOR on parametric programs at growing
// sizes, their ratio, and executions/s and steps/s of each strategy — all measured in this run.
// DFS is capped (it explodes); a capped count is shown with ">=".

import { explore, type ExploreResult, type StrategyName } from '../src/engine/explore.js';
import type { Program } from '../src/engine/execution.js';
import { jobsRows, kernelRows, symmetryRows, twoCoreCeiling } from './kernel.js';
import { hashTable, lastZero, readersWriter } from './programs.js';

const DFS_CAP = 100_000;
const SAMPLED = 2_000;

interface Row {
  program: string;
  dfs: ExploreResult;
  dpor: ExploreResult;
  rate: Record<StrategyName, { execs: number; steps: number }>;
}

function timed(p: Program, strategy: StrategyName, extra: { maxExecutions?: number } = {}): { r: ExploreResult; ms: number } {
  const t0 = performance.now();
  const r = explore(p, { strategy, maxFaults: 0, seed: 1, ...extra });
  return { r, ms: performance.now() - t0 };
}

const cases: [string, Program][] = [
  ...[2, 4, 6, 8, 10].map((n): [string, Program] => [`readers-writer(${n})`, readersWriter(n)]),
  ...[2, 3, 4, 5].map((n): [string, Program] => [`hash-table(${n})`, hashTable(n)]),
  ...[2, 3, 4, 5, 6].map((n): [string, Program] => [`last-zero(${n})`, lastZero(n)]),
];

// Warm up the JIT so that the first rows are not measured cold.
for (const [, p] of cases) {
  explore(p, { strategy: 'dpor', maxFaults: 0, maxExecutions: 200 });
  explore(p, { strategy: 'dfs', maxFaults: 0, maxExecutions: 200 });
}

const rows: Row[] = [];
for (const [name, p] of cases) {
  const dfs = timed(p, 'dfs', { maxExecutions: DFS_CAP });
  const dpor = timed(p, 'dpor');
  const random = timed(p, 'random', { maxExecutions: SAMPLED });
  const pct = timed(p, 'pct', { maxExecutions: SAMPLED });
  const rate = (x: { r: ExploreResult; ms: number }) => ({ execs: (x.r.explored + x.r.sleepBlocked) / (x.ms / 1000), steps: x.r.steps / (x.ms / 1000) });
  rows.push({ program: name, dfs: dfs.r, dpor: dpor.r, rate: { dfs: rate(dfs), dpor: rate(dpor), random: rate(random), pct: rate(pct) } });
  process.stderr.write('.');
}
process.stderr.write('\n');

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n)));
const header = ['program', 'DFS execs', 'DPOR execs', '(cut short)', 'DFS/DPOR', 'DFS ex/s', 'DPOR ex/s', 'rand ex/s', 'pct ex/s', 'DFS st/s', 'DPOR st/s', 'rand st/s', 'pct st/s'];
const table = rows.map((r) => [
  r.program,
  `${r.dfs.complete ? '' : '>='}${r.dfs.explored}`,
  String(r.dpor.explored),
  String(r.dpor.sleepBlocked),
  `${r.dfs.complete ? '' : '>='}${(r.dfs.explored / r.dpor.explored).toFixed(1)}`,
  fmt(r.rate.dfs.execs),
  fmt(r.rate.dpor.execs),
  fmt(r.rate.random.execs),
  fmt(r.rate.pct.execs),
  fmt(r.rate.dfs.steps),
  fmt(r.rate.dpor.steps),
  fmt(r.rate.random.steps),
  fmt(r.rate.pct.steps),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of table) console.log(line(r));
const speed = rows.map((r) => r.rate.dpor.steps / r.rate.dfs.steps);
console.log(`\nDPOR steps/s relative to DFS steps/s: median ${median(speed).toFixed(2)} (the cost of race analysis per step)`);
console.log(`DFS capped at ${DFS_CAP} executions; random and PCT run ${SAMPLED} executions each.`);

// The kernel scenarios, as the command explores them.
const KERNEL_LIMIT_S = Number(process.env.ZONEDEV_BENCH_LIMIT ?? 60);
process.stderr.write('kernel scenarios ');
const krows = kernelRows(KERNEL_LIMIT_S * 1000, () => process.stderr.write('.'));
process.stderr.write('\n');
printTable(
  ['kernel scenario', 'executions', '(cut short)', 'complete', 'steps/s', 'wall s'],
  krows.map((r) => [r.cell, String(r.explored), String(r.cut), r.complete ? 'yes' : `no (${KERNEL_LIMIT_S} s limit)`, fmt(r.stepsPerSecond), r.seconds.toFixed(1)]),
);

// Symmetry: the clients of the seed 002 race are one class of interchangeable threads.
process.stderr.write('symmetry ');
const srows = symmetryRows(KERNEL_LIMIT_S * 1000, () => process.stderr.write('.'));
process.stderr.write('\n');
const state = (r: { complete: boolean }): string => (r.complete ? 'yes' : `no (${KERNEL_LIMIT_S} s)`);
printTable(
  ['with symmetry / without', 'executions', '(cut short)', 'complete', 'wall s', 'executions', '(cut short)', 'complete', 'wall s', 'runs ratio', 'time ratio'],
  srows.map((r) => [
    r.cell,
    String(r.on.explored),
    String(r.on.cut),
    state(r.on),
    r.on.seconds.toFixed(1),
    String(r.off.explored),
    String(r.off.cut),
    state(r.off),
    r.off.seconds.toFixed(1),
    r.on.complete && r.off.complete ? `${((r.off.explored + r.off.cut) / (r.on.explored + r.on.cut)).toFixed(2)}x` : '-',
    r.on.complete && r.off.complete ? `${(r.off.seconds / r.on.seconds).toFixed(2)}x` : '-',
  ]),
);

// One worker against two on the same check: small cells (worker start-up against the work),
// a big cell (its fault plans, and subtrees of each), and one big plan alone (subtree tasks
// only); then what two cores give this machine at all, the ceiling of those speedups.
const BIG_PLAN = ['p2pmem-alloc-vs-unbind', '--tree', 'v5.2', '--param', 'pages=4', '--param', 'clients=2', '--max-faults', '0'];
for (const args of [['p2pmem-alloc-vs-unbind', 'p2pmem-sysfs-read-vs-unbind', '--tree', 'v5.2', '--tree', 'v6.14'], ['p2pdma-two-bars-vs-unbind', '--tree', 'v5.2'], BIG_PLAN]) {
  const jrows = jobsRows(args, [1, 2]);
  console.log(`\nzonedev check ${args.join(' ')}: --jobs 1 ${jrows[0]!.seconds.toFixed(1)} s, --jobs 2 ${jrows[1]!.seconds.toFixed(1)} s, speedup ${(jrows[0]!.seconds / jrows[1]!.seconds).toFixed(2)}x; the same document: ${jrows.every((r) => r.same) ? 'yes' : 'NO'}`);
}
const ceiling = await twoCoreCeiling(BIG_PLAN);
console.log(`\nTwo cores on this machine: the big plan with --jobs 1 takes ${ceiling.alone.toFixed(1)} s alone and ${ceiling.together.toFixed(1)} s when two run at once: ${ceiling.ratio.toFixed(2)}x the work per second (the ceiling of a second worker's speedup).`);

function printTable(head: string[], body: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const row = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  console.log(`\n${row(head)}`);
  console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  for (const r of body) console.log(row(r));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
