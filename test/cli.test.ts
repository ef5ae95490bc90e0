// The command's contract (DESIGN.md): exit status 0/1/2/3, --json everywhere, one-line errors,
// replay across processes. Runs the built command (npm test builds it first).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { expectUsageError } from './usage-error.js';

/** The repository root (tests run from dist/test). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function zonedev(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('zonedev list', () => {
  it('lists trees in series order as JSON', () => {
    const r = zonedev('list', 'trees', '--json');
    expect(r.code).toBe(0);
    const trees = JSON.parse(r.out) as { name: string; patches: string[] }[];
    expect(trees.map((t) => t.name).slice(0, 10)).toEqual(['v5.1', 'v5.2', 'v5.10', 'v5.15', 'v6.0', 'v6.1', 'v6.6', 'v6.12', 'v6.14', 'v6.15']);
    expect(trees[0]!.patches).toEqual([]);
    // Each tree's patches extend the previous tree's.
    for (let i = 1; i < trees.length; i++) expect(trees[i]!.patches.slice(0, trees[i - 1]!.patches.length)).toEqual(trees[i - 1]!.patches);
  });

  it('lists patches and scenarios as JSON', () => {
    const patches = JSON.parse(zonedev('list', 'patches', '--json').out) as { id: string; subject: string }[];
    expect(patches.map((p) => p.subject)).toContain('mm/devm_memremap_pages: Fix final page put race');
    const scenarios = JSON.parse(zonedev('list', 'scenarios', '--json').out) as { name: string }[];
    expect(scenarios.map((s) => s.name)).toContain('example-lost-update');
  });
});

describe('zonedev check', () => {
  it('exits 1 with findings and prints the JSON document of the contract', () => {
    const r = zonedev('check', 'example-lost-update', '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { results: { scenario: string; tree: string; status: string; explored: number; complete: boolean; findings: { kind: string; title: string; replay: string; trace: unknown[] }[] }[] };
    expect(doc.results).toHaveLength(1);
    const res = doc.results[0]!;
    expect(res.status).toBe('finding');
    expect(res.complete).toBe(true);
    expect(res.explored).toBe(4);
    expect(res.findings[0]!.kind).toBe('bug');
    expect(res.findings[0]!.trace.length).toBe(4);
  });

  it('exits 0 when nothing is found', () => {
    const r = zonedev('check', 'example-locked-counter');
    expect(r.code).toBe(0);
    expect(r.out).toContain('no findings');
  });

  it('prints the numbered interleaving and the replay command', () => {
    const r = zonedev('check', 'example-lock-order');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\] hang: INFO: task hung\n/);
    expect(r.out).toMatch(/\n {4}task hung: T0 waits for lock B; T1 waits for lock A\n/);
    expect(r.out).toMatch(/ 1\) T\d /);
    expect(r.out).toMatch(/replay: zonedev replay zd1-/);
  });

  it('writes an HTML report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonedev-'));
    const file = join(dir, 'r.html');
    expect(zonedev('check', 'example-lost-update', '--html', file).code).toBe(1);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<table');
    expect(html).toContain('lost update');
  });
});

describe('the command line', () => {
  it('bare zonedev prints its help', () => {
    const r = zonedev();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: zonedev/);
    expect(r.out).toMatch(/Commands:[\s\S]*check[\s\S]*replay[\s\S]*merge/);
  });

  it('--version prints the package version', () => {
    const r = zonedev('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('exits 3 when a limit stops a check that found nothing', () => {
    const r = zonedev('check', 'example-locked-counter', '--max-executions', '1');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/no findings; 1 executions, incomplete \(stopped: executions\)/);
  });

  it('a reader that goes away ends the output without a stack trace', async () => {
    const child = spawn(process.execPath, [MAIN, 'check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--full-trace', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // Read the first chunk of a document far larger than a pipe holds, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(err).toBe('');
    expect(code).toBe(1);
  });

  it('Ctrl-C stops the run and prints what was found so far, exit 130', async () => {
    const child = spawn(process.execPath, [MAIN, 'check', 'p2pdma-two-bars-vs-unbind', '--tree', 'v6.14', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // Long enough to be exploring: this cell takes minutes.
    await new Promise((done) => setTimeout(done, 3000));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(130);
    expect(err.trimEnd().split('\n')).toEqual(['zonedev: interrupted; printing what was found so far (Ctrl-C again to quit)']);
    const doc = JSON.parse(out) as { results: { status: string; complete: boolean; stopReason: string; explored: number }[] };
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({ complete: false, stopReason: 'interrupted' });
    expect(doc.results[0]!.explored).toBeGreaterThan(0);
  });

  it('--progress says on stderr as each cell finishes, also when stderr is not a terminal', () => {
    const quiet = zonedev('check', 'example-lost-update', 'example-locked-counter');
    expect(quiet.err).toBe('');
    const r = zonedev('check', 'example-lost-update', 'example-locked-counter', '--progress');
    expect(r.out).toBe(quiet.out);
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => /^\[\d+s\] example-lost-update: bug, 4 executions$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\[\d+s\] example-locked-counter: ok, \d+ executions$/.test(l))).toBe(true);
  });

  it('refuses an --html path it cannot write before the run, in one line', () =>
    expectUsageError(zonedev('check', 'example-lost-update', '--html', join(tmpdir(), 'no-such-dir-zonedev', 'r.html')), /--html .*: no directory/));

  it('refuses a --trace-out or --junit path it cannot write before the run, in one line', () => {
    expectUsageError(zonedev('check', 'example-lost-update', '--trace-out', join(tmpdir(), 'no-such-dir-zonedev', 't.json')), /--trace-out .*: no directory/);
    expectUsageError(zonedev('merge', 'x.json', '--junit', tmpdir()), /--junit .*: is a directory/);
  });
});

describe('zonedev replay', () => {
  it('reproduces the identical execution in a fresh process', () => {
    for (const name of ['example-lost-update', 'example-lock-order']) {
      const found = JSON.parse(zonedev('check', name, '--json').out) as { results: { findings: { replay: string; trace: unknown }[] }[] };
      for (const f of found.results[0]!.findings) {
        const r = zonedev('replay', f.replay, '--json');
        expect(r.code).toBe(1);
        const again = JSON.parse(r.out) as { results: { findings: { trace: unknown }[] }[] };
        expect(again.results[0]!.findings[0]!.trace).toEqual(f.trace);
      }
    }
  });
});

describe('the live status on a terminal', () => {
  it('one line per running job: executions, cut short, rate, findings so far, elapsed; cut to the width', async () => {
    const { liveLines } = await import('../src/cli/live.js');
    const jobs = [
      { label: 'scenario p2pmem-mmap-vs-unbind on v6.14', since: 0, explored: 500, cutShort: 20, findings: 2 },
      { label: 'scenario p2pmem-alloc-vs-unbind on v5.1 (a plan of 1 fault)', since: 5000, explored: 30, cutShort: 0, findings: 1 },
    ];
    expect(liveLines(jobs, 10_000, 200)).toEqual([
      '  p2pmem-mmap-vs-unbind on v6.14: 500 executions (+20 cut short), 50/s, 2 found, 10s',
      '  p2pmem-alloc-vs-unbind on v5.1 (a plan of 1 fault): 30 executions, 6/s, 1 found, 5s',
    ]);
    for (const l of liveLines(jobs, 10_000, 40)) expect(l.length).toBeLessThanOrEqual(40);
  });

  it('a pipe gets no status lines and no escape codes', () => {
    const r = zonedev('check', 'example-lock-order');
    expect(r.err).not.toContain('\x1b');
  });
});

describe('zonedev report', () => {
  it('from a replay token: the mail of that finding, with how to reproduce it', () => {
    const found = JSON.parse(zonedev('check', 'example-lock-order', '--json').out) as { results: { findings: { replay: string }[] }[] };
    const t = found.results[0]!.findings[0]!.replay;
    const r = zonedev('report', t);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('Subject: [zonedev] INFO: task hung');
    expect(r.out).toContain('upstream:     new: not in the catalogue of known upstream bugs');
    expect(r.out).toContain(`  zonedev replay ${t}\n`);
    expect(r.out).toContain('  zonedev check example-lock-order --tree -');
  });

  it('bad input: exit 2, one line', () => {
    expectUsageError(zonedev('report', 'p2pmem-alloc-vs-unbind'), /needs --tree/);
    expectUsageError(zonedev('report', 'hello-there', '--tree', 'v5.1'), /unknown scenario/);
    expectUsageError(zonedev('report', 'zd1-AAAAAAAAAAAAAAAA'), /replay token/);
    expectUsageError(zonedev('report', 'example-lock-order', '--finding', '5'), /--finding 5: the check found 1 bug/);
  });
});

describe('bad input: exit 2, one line, no stack trace, no finding', () => {
  const token = (): string => (JSON.parse(zonedev('check', 'example-lost-update', '--json').out) as { results: { findings: { replay: string }[] }[] }).results[0]!.findings[0]!.replay;

  it('an unknown scenario', () => expectUsageError(zonedev('check', 'no-such-scenario'), /unknown scenario 'no-such-scenario'/));
  it('an unknown tree', () => expectUsageError(zonedev('check', '--tree', 'v9.99'), /unknown tree 'v9.99'/));
  it('an unknown option', () => expectUsageError(zonedev('check', '--frobnicate'), /unknown option/));
  it('a bad parameter', () => expectUsageError(zonedev('check', 'example-lost-update', '--param', 'threads=100'), /threads=100: must be an integer from 2 to 6/));
  it('a corrupted replay token', () => {
    const t = token();
    const corrupted = t.slice(0, 20) + (t[20] === 'A' ? 'B' : 'A') + t.slice(21);
    expectUsageError(zonedev('replay', corrupted), /corrupted/);
  });
  it('a truncated replay token', () => expectUsageError(zonedev('replay', token().slice(0, 30)), /truncated/));
  it('something that is not a token', () => expectUsageError(zonedev('replay', 'hello'), /not a replay token/));
  it('a model that throws an ordinary JavaScript error', () =>
    expectUsageError(zonedev('check', join(ROOT, 'test', 'fixtures', 'throws.mjs')), /model error: thread T threw TypeError/));
  it('a model that never yields', () =>
    expectUsageError(zonedev('check', join(ROOT, 'test', 'fixtures', 'loops.mjs'), '--stall', '2'), /made no progress for 2 s/));
  it('a module that is not a scenario', () =>
    expectUsageError(zonedev('check', join(ROOT, 'test', 'fixtures', 'not-a-scenario.mjs')), /does not export a scenario/));
});

describe('cells of one source', () => {
  it('v6.12 and v6.14 (one point of the series) are explored once: each cell reports what it reports alone, with tokens naming its own tree', () => {
    const doc = (...args: string[]): { tree: string; explored: number; findings: { title: string; replay: string }[] }[] =>
      (JSON.parse(zonedev('check', 'p2pmem-alloc-vs-unbind', ...args, '--max-faults', '0', '--json').out) as { results: { tree: string; explored: number; findings: { title: string; replay: string }[] }[] }).results;
    const both = doc('--tree', 'v6.12', '--tree', 'v6.14');
    expect(both.map((r) => r.tree)).toEqual(['v6.12', 'v6.14']);
    expect(both[0]).toEqual(doc('--tree', 'v6.12')[0]);
    expect(both[1]).toEqual(doc('--tree', 'v6.14')[0]);
    const token = both[0]!.findings[0]!.replay;
    const replayed = JSON.parse(zonedev('replay', token, '--json').out) as { results: { tree: string; findings: { title: string }[] }[] };
    expect(replayed.results[0]!.tree).toBe('v6.12');
    expect(replayed.results[0]!.findings.map((f) => f.title)).toContain(both[0]!.findings[0]!.title);
  });
});
