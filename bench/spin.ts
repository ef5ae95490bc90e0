// npm run bench:spin: zonedev against SPIN on seed 002, the race of p2pmem-alloc-vs-unbind (a
// p2pmem client allocating, DMA-mapping and freeing p2pmem while the provider's driver is
// unbound), at growing sizes (pages x clients). SPIN checks the hand-written Promela model
// bench/spin/seed002.pml (generate pan.c, compile, verify); zonedev explores the scenario with
// DPOR, each size in a child node process whose peak RSS it reports. Everything is measured in
// this run. Faults are off on both sides: the Promela model has no fault injection.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { explore, type Finding } from '../src/engine/explore.js';
import { p2pmemAllocVsUnbind } from '../scenarios/p2pmem-alloc-vs-unbind.js';

const ZONEDEV_TIME_LIMIT_MS = 120_000;
/** A wall-clock bound on one pan run; a run that hits it is shown as incomplete. */
const PAN_TIMEOUT_MS = 600_000;
/** pan's search depth bound (-m) and memory bound (-DMEMLIM, MiB): hitting either is reported. */
const PAN_DEPTH = 100_000;
const PAN_MEMLIM_MIB = 8192;

const MODEL = fileURLToPath(new URL('../../bench/spin/seed002.pml', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

interface Case {
  readonly tree: 'v5.1' | 'v5.2';
  readonly pages: number;
  readonly clients: number;
}

const SIZES: readonly [number, number][] = [
  [1, 1],
  [4, 1],
  [1, 2],
  [4, 2],
  [4, 3],
];
const CASES: readonly Case[] = [{ tree: 'v5.1', pages: 1, clients: 1 }, ...SIZES.map(([pages, clients]): Case => ({ tree: 'v5.2', pages, clients }))];

// ---- the zonedev side: one exploration per child process ----

interface ZonedevResult {
  readonly ms: number;
  readonly explored: number;
  readonly sleepBlocked: number;
  readonly complete: boolean;
  readonly stopReason: string;
  readonly findings: readonly { kind: string; title: string; count: number }[];
  /** Peak resident set size of the child process, KiB (getrusage ru_maxrss). */
  readonly maxRssKiB: number;
}

function zonedevChild(tree: string, pages: number, clients: number): void {
  const program = p2pmemAllocVsUnbind.build(tree, { pages, clients });
  const t0 = performance.now();
  const r = explore(program, { strategy: 'dpor', maxFaults: 0, timeLimitMs: ZONEDEV_TIME_LIMIT_MS });
  const ms = performance.now() - t0;
  const out: ZonedevResult = {
    ms,
    explored: r.explored,
    sleepBlocked: r.sleepBlocked,
    complete: r.complete,
    stopReason: r.stopReason,
    findings: r.findings.map((f: Finding) => ({ kind: f.kind, title: f.title, count: f.count })),
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runZonedev(c: Case): ZonedevResult | string {
  const r = spawnSync(process.execPath, [SELF, '--zonedev-child', c.tree, String(c.pages), String(c.clients)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: ZONEDEV_TIME_LIMIT_MS + 120_000,
  });
  if (r.error) return `zonedev child failed: ${r.error.message}`;
  if (r.status !== 0) return `zonedev child exited with ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')}`;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ZonedevResult;
  } catch {
    return `zonedev child printed no result: ${line.slice(0, 200)}`;
  }
}

/**
 * The checks the Promela model makes too: the panic of seed 002 (a struct page read after its
 * memmap was removed), the BUG_ONs of lib/genalloc.c and the WARNs of lib/percpu-refcount.c, a
 * hang, a leak at the end of the scenario. zonedev's other findings (KASAN use-after-free of
 * devres memory, the NULL pdev->p2pdma of pci_alloc_p2pmem()'s repeated loads) have no
 * counterpart in the Promela model.
 */
function sharedCheck(f: { kind: string; title: string }): boolean {
  if (f.kind === 'panic') return /whose memmap has been removed/.test(f.title);
  if (f.kind === 'hang' || f.kind === 'leak') return true;
  if (f.kind === 'bug' || f.kind === 'warn') return /lib\/(genalloc|percpu-refcount)\.c/.test(f.title);
  return false;
}

// ---- the SPIN side: generate, compile, verify in a temporary directory ----

interface SpinResult {
  readonly totalMs: number;
  readonly panSeconds: number | null;
  readonly states: number;
  readonly transitions: number;
  /** pan's own "total actual memory usage", MiB. */
  readonly panMiB: number;
  /** Peak RSS of pan (GNU time), MiB, when /usr/bin/time is there. */
  readonly rssMiB: number | null;
  readonly errors: number;
  /** The first error pan reported ("assertion violated present[pg]", "invalid end state"). */
  readonly firstError: string | null;
  readonly complete: boolean;
  readonly why: string;
}

function run(cmd: string, args: readonly string[], cwd: string, timeout?: number): { ok: boolean; out: string; why: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) return { ok: false, out, why: (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${(timeout ?? 0) / 1000} s` : r.error.message };
  if (r.signal) return { ok: false, out, why: `killed by ${r.signal}` };
  return { ok: r.status === 0, out, why: r.status === 0 ? '' : `${cmd} exited with ${r.status}` };
}

function num(re: RegExp, text: string): number | null {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

function runSpin(c: Case, gnuTime: boolean): SpinResult | string {
  const dir = mkdtempSync(join(tmpdir(), 'zonedev-spin-'));
  try {
    copyFileSync(MODEL, join(dir, 'seed002.pml'));
    const defines = [`-DPAGES=${c.pages}`, `-DCLIENTS=${c.clients}`, ...(c.tree === 'v5.2' ? ['-DFIXED'] : [])];
    const t0 = performance.now();
    const gen = run('spin', ['-a', ...defines, 'seed002.pml'], dir);
    if (!gen.ok) return `spin -a failed (${gen.why}): ${gen.out.trim().slice(0, 300)}`;
    const cc = run('gcc', ['-O2', '-DSAFETY', `-DMEMLIM=${PAN_MEMLIM_MIB}`, '-o', 'pan', 'pan.c'], dir);
    if (!cc.ok) return `gcc failed (${cc.why}): ${cc.out.trim().slice(0, 300)}`;
    // -c0: count every error and search on (as zonedev explores every execution); -n: no
    // unreached-code listing. Partial-order reduction is pan's default.
    const panArgs = [`-m${PAN_DEPTH}`, '-c0', '-n'];
    const pan = gnuTime ? run('/usr/bin/time', ['-f', 'maxrss_kib=%M', '-o', 'rss.txt', './pan', ...panArgs], dir, PAN_TIMEOUT_MS) : run('./pan', panArgs, dir, PAN_TIMEOUT_MS);
    const totalMs = performance.now() - t0;
    const out = pan.out;
    const states = num(/(\d+) states, stored/, out);
    const transitions = num(/(\d+) transitions \(= stored\+matched\)/, out);
    const panMiB = num(/([\d.]+)\s+total actual memory usage/, out);
    const errors = num(/errors: (\d+)/, out);
    const rssKiB = gnuTime && existsSync(join(dir, 'rss.txt')) ? num(/maxrss_kib=(\d+)/, readFileSync(join(dir, 'rss.txt'), 'utf8')) : null;
    const first = /pan:\d+: (.*?) \(at depth \d+\)/.exec(out);
    const limits: string[] = [];
    if (!pan.ok && pan.why) limits.push(pan.why);
    if (/max search depth too small/.test(out)) limits.push('search depth bound reached');
    if (/reached -DMEMLIM bound|out of memory/.test(out)) limits.push('memory bound reached');
    if (/Search not completed/.test(out)) limits.push('search not completed');
    if (states === null || errors === null) return `pan printed no statistics (${limits.join(', ') || 'unknown'}): ${out.trim().slice(-300)}`;
    return {
      totalMs,
      panSeconds: num(/pan: elapsed time ([\d.e+-]+) seconds/, out),
      states,
      transitions: transitions ?? 0,
      panMiB: panMiB ?? 0,
      rssMiB: rssKiB === null ? null : rssKiB / 1024,
      errors,
      firstError: first ? first[1]!.replace(/\s+/g, ' ') : null,
      complete: limits.length === 0,
      why: limits.join(', '),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a pan error stands for in the kernel (the checks of bench/spin/seed002.pml). */
function spinErrorMeaning(e: string): string {
  if (/present\[pg\]/.test(e)) return 'panic: map_sg read a removed struct page';
  if (/invalid end state/.test(e)) return 'hang';
  if (/!\(present\[i\]\)|ref_exited|p2pdma_set|pool_alive/.test(e)) return 'leak';
  if (/pool_bits/.test(e)) return 'genalloc BUG_ON';
  if (/ref_count|ref_dead|confirm_switch/.test(e)) return 'percpu_ref WARN';
  return e;
}

/** zonedev findings grouped by kind: "kasan 3 sites (25 execs)". */
function byKind(fs: readonly { kind: string; count: number }[]): string {
  const m = new Map<string, { sites: number; execs: number }>();
  for (const f of fs) {
    const e = m.get(f.kind) ?? { sites: 0, execs: 0 };
    e.sites++;
    e.execs += f.count;
    m.set(f.kind, e);
  }
  return [...m].map(([k, e]) => `${k} ${e.sites} site${e.sites > 1 ? 's' : ''} (${fmtInt(e.execs)} execs)`).join(', ');
}

function have(cmd: string, args: readonly string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return !r.error;
}

// ---- the table ----

const fmtInt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n));
const fmtS = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const fmtMiB = (m: number | null): string => (m === null ? '-' : m.toFixed(0));

function main(): void {
  if (!have('spin', ['-V']) || !have('gcc', ['--version'])) {
    console.log('bench:spin needs SPIN and a C compiler on PATH: apt-get install spin gcc');
    return;
  }
  const spinVersion = (spawnSync('spin', ['-V'], { encoding: 'utf8' }).stdout ?? '').trim();
  const gnuTime = existsSync('/usr/bin/time') && have('/usr/bin/time', ['-f', '%M', 'true']);

  console.log('seed 002 (p2pmem-alloc-vs-unbind): zonedev (DPOR) against SPIN on bench/spin/seed002.pml');
  console.log(`${spinVersion}; gcc -O2 -DSAFETY; pan -c0 (every error counted, the whole state space searched), partial-order reduction on`);
  console.log(`zonedev: explore(strategy dpor, maxFaults 0, timeLimitMs ${ZONEDEV_TIME_LIMIT_MS}) in a child node process per size`);
  console.log('faults are off on both sides: the Promela model has no fault injection\n');

  interface Row {
    c: Case;
    spin: SpinResult | string;
    zd: ZonedevResult | string;
  }
  const rows: Row[] = [];
  for (const c of CASES) {
    process.stderr.write(`${c.tree} pages=${c.pages} clients=${c.clients}: spin...`);
    const spin = runSpin(c, gnuTime);
    process.stderr.write(' zonedev...');
    const zd = runZonedev(c);
    process.stderr.write(' done\n');
    rows.push({ c, spin, zd });
  }

  const header = [
    'tree',
    'pages x clients',
    'SPIN s',
    '(pan s)',
    'zonedev s',
    'zonedev/SPIN',
    'SPIN states',
    'SPIN transitions',
    'zonedev execs',
    '(cut short)',
    'complete? SPIN/zd',
    'SPIN MiB (pan)',
    '(pan RSS)',
    'zonedev RSS MiB',
    'SPIN verdict',
    'zonedev verdict',
    'zonedev, other findings',
  ];
  const table: string[][] = [];
  const problems: string[] = [];
  for (const { c, spin, zd } of rows) {
    const size = `${c.pages} x ${c.clients}`;
    const s = typeof spin === 'string' ? null : spin;
    const z = typeof zd === 'string' ? null : zd;
    if (!s) problems.push(`${c.tree} ${size}: SPIN: ${spin as string}`);
    if (!z) problems.push(`${c.tree} ${size}: zonedev: ${zd as string}`);
    const spinVerdict = s ? (s.errors > 0 ? `bug found (${s.firstError ? spinErrorMeaning(s.firstError) : '?'}; ${s.errors} errors)` : 'clean') : 'failed';
    const shared = z ? z.findings.filter(sharedCheck) : [];
    const other = z ? z.findings.filter((f) => !sharedCheck(f)) : [];
    const zdVerdict = z ? (shared.length > 0 ? `bug found (${byKind(shared)})` : z.complete ? 'clean' : 'clean so far') : 'failed';
    if (s && z) {
      const spinBug = s.errors > 0;
      const zdBug = shared.length > 0;
      if (spinBug !== zdBug) {
        problems.push(`${c.tree} ${size}: THE VERDICTS DISAGREE: SPIN ${spinBug ? 'found a bug' : 'found nothing'}, zonedev ${zdBug ? 'found a bug' : 'found nothing'}${!z.complete && !zdBug ? ' (zonedev stopped at its time limit)' : ''}`);
      }
    }
    const spinComplete = s ? (s.complete ? 'yes' : `no (${s.why})`) : '-';
    const zdComplete = z ? (z.complete ? 'yes' : `no (${z.stopReason === 'time' ? `${ZONEDEV_TIME_LIMIT_MS / 1000} s limit` : z.stopReason})`) : '-';
    table.push([
      c.tree,
      size,
      s ? fmtS(s.totalMs) : '-',
      s && s.panSeconds !== null ? s.panSeconds.toFixed(2) : '-',
      z ? fmtS(z.ms) : '-',
      s && z ? `${(z.ms / s.totalMs).toFixed(1)}x` : '-',
      s ? fmtInt(s.states) : '-',
      s ? fmtInt(s.transitions) : '-',
      z ? fmtInt(z.explored) : '-',
      z ? fmtInt(z.sleepBlocked) : '-',
      `${spinComplete} / ${zdComplete}`,
      s ? fmtMiB(s.panMiB) : '-',
      s ? fmtMiB(s.rssMiB) : '-',
      z ? fmtMiB(z.maxRssKiB / 1024) : '-',
      spinVerdict,
      zdVerdict,
      other.length ? byKind(other) : '-',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const right = new Set([2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]);
  const line = (cells: string[]): string => `| ${cells.map((x, i) => (right.has(i) ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of table) console.log(line(r));

  console.log('');
  for (const p of problems) console.log(p);
  if (!problems.some((p) => p.includes('DISAGREE'))) console.log('The verdicts agree on every row (on the checks both models make).');
  console.log('');
  console.log('SPIN s: spin -a + gcc + pan, wall time (gcc on pan.c is most of it at small sizes); (pan s): pan\'s own elapsed time. zonedev s: explore() in the child (node start-up and module loading excluded).');
  console.log('SPIN errors: states in which pan found an error (pan -c0). zonedev execs: executions run to their end; cut short: redundant executions DPOR abandoned; a site: one de-duplicated finding.');
  console.log('SPIN MiB (pan): pan\'s "total actual memory usage", mostly its preallocated hash table (-w24, 128 MiB); (pan RSS) and zonedev RSS: peak resident set size of the process (getrusage), node\'s own baseline included.');
  console.log('Verdicts are on the checks both models make: the seed-002 panic (a struct page read after arch_remove_memory()), the genalloc BUG_ONs and percpu_ref WARNs, a hang (SPIN: invalid end state), a leak at the end.');
  console.log('"zonedev, other findings": zonedev also checks use of freed devres memory (KASAN) and the repeated loads of pdev->p2pdma in pci_alloc_p2pmem() (a NULL dereference); the Promela model has neither.');
}

if (process.argv[2] === '--zonedev-child') {
  zonedevChild(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
} else {
  main();
}
