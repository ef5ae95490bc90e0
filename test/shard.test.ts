// check --shard I/N and zonedev merge (DESIGN.md "The command and its contract"): the merged
// shards of a check print exactly what the check prints on one machine, byte for byte, and
// anything that is not the complete set of shards of one check is refused with one line.
// Runs the built command (npm test builds it first).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { expect } from 'expect';
import { expectUsageError } from './usage-error.js';
import { mergeShards } from '../src/cli/merge.js';
import { parseShard } from '../src/cli/shard.js';

/** The repository root (tests run from dist/test). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the command without blocking, so that the runs of one test share the cores. */
function zonedev(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

interface ShardDoc {
  shard: { index: number; total: number; cells: number };
  results: { scenario: string; tree: string; complete: boolean; findings: unknown[] }[];
}

/**
 * Runs a check whole (JSON and text, with an HTML report), and as 1/N..N/N for each N, then
 * merges each set of shards and expects the whole check's output.
 */
async function roundTrip(check: string[], totals: number[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zonedev-shard-'));
  const shardRuns = totals.flatMap((n) => Array.from({ length: n }, (_, i) => ({ n, i: i + 1 })));
  const [json, text, ...shards] = await Promise.all([
    zonedev('check', ...check, '--json'),
    zonedev('check', ...check, '--html', join(dir, 'whole.html')),
    ...shardRuns.map(({ n, i }) => zonedev('check', ...check, '--json', '--shard', `${i}/${n}`)),
  ]);
  expect({ code: json!.code, err: json!.err }).toEqual({ code: expect.any(Number), err: '' });
  expect([0, 1, 3]).toContain(json!.code);
  expect({ code: text!.code, err: text!.err }).toEqual({ code: json!.code, err: '' });
  expect(JSON.parse(json!.out)).not.toHaveProperty('shard');
  const whole = (JSON.parse(json!.out) as ShardDoc).results;
  const cells = whole.length;

  const merges: Promise<Run>[] = [];
  for (const n of totals) {
    const files: string[] = [];
    let sum = 0;
    shardRuns.forEach(({ n: total, i }, k) => {
      if (total !== n) return;
      const r = shards[k]!;
      expect(r.err).toBe('');
      const doc = JSON.parse(r.out) as ShardDoc;
      expect(doc.shard).toMatchObject({ index: i, total: n, cells });
      // The shard's share: the cells at positions p with p % n === i - 1.
      expect(doc.results.map((x) => `${x.scenario}@${x.tree}`)).toEqual(whole.filter((_, p) => p % n === i - 1).map((x) => `${x.scenario}@${x.tree}`));
      expect(r.code).toBe(doc.results.some((x) => x.findings.length > 0) ? 1 : doc.results.some((x) => !x.complete) ? 3 : 0);
      sum += doc.results.length;
      const file = join(dir, `shard-${i}-of-${n}.json`);
      writeFileSync(file, r.out);
      files.push(file);
    });
    expect(sum).toBe(cells);
    // The files in an order other than 1..N: the shard field says where each one goes.
    files.reverse();
    merges.push(zonedev('merge', ...files, '--json'), zonedev('merge', ...files, '--html', join(dir, `merged-${n}.html`)));
  }
  const merged = await Promise.all(merges);
  totals.forEach((n, k) => {
    const [mj, mt] = [merged[2 * k]!, merged[2 * k + 1]!];
    expect({ n, code: mj.code, err: mj.err }).toEqual({ n, code: json!.code, err: '' });
    expect(mj.out).toBe(json!.out);
    expect({ n, code: mt.code, err: mt.err }).toEqual({ n, code: text!.code, err: '' });
    expect(mt.out).toBe(text!.out);
    expect(readFileSync(join(dir, `merged-${n}.html`), 'utf8')).toBe(readFileSync(join(dir, 'whole.html'), 'utf8'));
  });
}

describe('check --shard and merge give what the whole check gives', () => {
  it('p2pdma-add-resource-fault on every tree, as 2 and as 3 shards', { timeout: 120_000 }, () => roundTrip(['p2pdma-add-resource-fault'], [2, 3]));

  // Two cells: as three shards, the third is empty. The scenarios are named out of library
  // order, which the canonical order keeps. The limit keeps p2pmem-alloc-vs-unbind short.
  it('two scenarios on v5.2, as 2 and as 3 shards (one of them empty)', { timeout: 120_000 }, () =>
    roundTrip(['p2pmem-alloc-vs-unbind', 'p2pdma-add-resource-fault', '--tree', 'v5.2', '--max-executions', '50'], [2, 3]));

  // No scenario named: the matrix and one line per finding. The limit keeps it short, and
  // makes cells incomplete, which the matrix marks.
  it('every scenario on v5.2, stopped at a limit, as 2 shards', { timeout: 120_000 }, () => roundTrip(['--tree', 'v5.2', '--max-executions', '20'], [2]));
});

// Each of these runs a process that does little: they run side by side.
describe('check --shard', { concurrency: true }, () => {
  it('says in its text which share it ran', async () => {
    const r = await zonedev('check', 'example-lost-update', '--shard', '1/2');
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toBe("shard 1/2: 1 of the check's 1 cell; zonedev merge joins the --json output of all 2 shards into the whole check's result");
    expect(r.out).toContain('example-lost-update: 1 finding');
  });

  it('prints an empty result list for a shard with no cells, and exits 0', async () => {
    const [json, text] = await Promise.all([zonedev('check', 'example-lost-update', '--json', '--shard', '2/2'), zonedev('check', 'example-lost-update', '--shard', '2/2')]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ shard: { index: 2, total: 2, cells: 1 }, results: [] });
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^shard 2\/2: 0 of the check's 1 cell;[^\n]*\n$/);
  });

  for (const bad of ['0/2', '3/2', 'x', '1/0'])
    it(`refuses --shard '${bad}'`, async () => expectUsageError(await zonedev('check', 'example-lost-update', '--shard', bad), /--shard .*expected I\/N with 1 <= I <= N/));

  it('parses I/N and nothing else', () => {
    expect(parseShard('1/1')).toEqual({ index: 1, total: 1 });
    expect(parseShard('12/12')).toEqual({ index: 12, total: 12 });
    for (const bad of ['2', '1/', '/2', '1/2/3', '-1/2', ' 1/2', '1/2 ', '1.0/2', '0x1/2', '1/99999999999999999999']) expect(() => parseShard(bad)).toThrow(/expected I\/N/);
  });
});

describe('merge refuses what is not the complete set of shards of one check', { concurrency: true }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'zonedev-merge-'));
  const f = (name: string): string => join(dir, name);

  before(async () => {
    const runs: [string, string[]][] = [
      ['a1of2.json', ['check', 'example-lost-update', '--json', '--shard', '1/2']],
      ['a2of2.json', ['check', 'example-lost-update', '--json', '--shard', '2/2']],
      ['a1of3.json', ['check', 'example-lost-update', '--json', '--shard', '1/3']],
      // Another check with as many cells.
      ['b2of2.json', ['check', 'example-locked-counter', '--json', '--shard', '2/2']],
      ['whole.json', ['check', 'example-lost-update', '--json']],
    ];
    const done = await Promise.all(runs.map(([, args]) => zonedev(...args)));
    runs.forEach(([name], k) => writeFileSync(f(name), done[k]!.out));
    copyFileSync(f('a1of2.json'), f('a1of2-again.json'));
    writeFileSync(f('not-json.json'), 'zonedev: no such scenario\n');
    writeFileSync(f('empty.json'), '');
    const a1 = JSON.parse(readFileSync(f('a1of2.json'), 'utf8')) as { results: { findings: { trace: { stack?: unknown }[] }[] }[] };
    writeFileSync(f('a1of2-short.json'), JSON.stringify({ ...a1, results: [] }));
    delete a1.results[0]!.findings[0]!.trace[0]!.stack;
    writeFileSync(f('a1of2-damaged.json'), JSON.stringify(a1));
  });

  it('accepts the complete set', async () => {
    const m = await zonedev('merge', f('a2of2.json'), f('a1of2.json'), '--json');
    expect(m.code).toBe(1);
    expect(m.out).toBe(readFileSync(f('whole.json'), 'utf8'));
  });
  it('a missing shard', async () => expectUsageError(await zonedev('merge', f('a1of2.json')), /missing shard 2\/2 \(given: 1\/2\)/));
  it('a duplicate shard', async () => expectUsageError(await zonedev('merge', f('a1of2.json'), f('a1of2-again.json'), f('a2of2.json')), /a1of2\.json and .*a1of2-again\.json are both shard 1\/2/));
  it('shards of different checks', async () => expectUsageError(await zonedev('merge', f('a1of2.json'), f('b2of2.json')), /a1of2\.json and .*b2of2\.json are shards of different checks/));
  it('a file that is not JSON', async () => expectUsageError(await zonedev('merge', f('not-json.json'), f('a2of2.json')), /not-json\.json is not JSON \(/));
  it('no file at all', async () => expectUsageError(await zonedev('merge'), /missing required argument/));

  // The same code as through the command, without a process each.
  it('shards of different totals, a shard short of results, a damaged result, a check without --shard, a file that does not exist', () => {
    const refused = (files: string[], pattern: RegExp): void => {
      expect(() => mergeShards(files.map(f))).toThrow(pattern);
      let message = '';
      try {
        mergeShards(files.map(f));
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toContain('\n');
    };
    refused(['a1of3.json', 'a2of2.json'], /shards of different checks \(one of 3 shards, one of 2\)/);
    refused(['a1of2-short.json', 'a2of2.json'], /a1of2-short\.json has 0 results, but shard 1\/2 of 1 cell has 1$/);
    refused(['a1of2-damaged.json', 'a2of2.json'], /a1of2-damaged\.json: result 1 is not a check result \(a step of a trace has no array "stack"\)/);
    refused(['whole.json'], /whole\.json is not a shard: it has no "shard" field/);
    refused(['a1of2.json', 'nope.json'], /cannot read .*nope\.json: no such file/);
    refused(['empty.json', 'a2of2.json'], /empty\.json is empty/);
    refused(['a1of2.json', 'a2of2.json', 'a2of2.json'], /a2of2\.json and .*a2of2\.json are both shard 2\/2/);
  });
});
