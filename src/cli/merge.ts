// zonedev merge: the JSON documents of the shards of one check (`check --json --shard I/N`)
// joined into the results of the whole check, in its canonical order, so that printing them
// gives what one machine running the whole check prints.

import { readFileSync } from 'node:fs';
import { oneLine, UsageError } from './catalog.js';
import type { CheckResult } from './jobs.js';
import { type ShardHeader, shardSize, type TextMode } from './shard.js';

export interface Merged {
  readonly results: CheckResult[];
  readonly trees: readonly string[];
  readonly mode: TextMode;
}

interface ShardFile {
  readonly file: string;
  readonly shard: ShardHeader;
  readonly results: CheckResult[];
}

export function mergeShards(files: readonly string[]): Merged {
  const shards = files.map(readShard);
  const first = shards[0]!;
  const { total, cells } = first.shard;
  for (const s of shards.slice(1)) {
    const h = s.shard;
    const differ = (what: string): UsageError => new UsageError(`${first.file} and ${s.file} are shards of different checks (${what})`);
    if (h.total !== total) throw differ(`one of ${total} shards, one of ${h.total}`);
    if (h.cells !== cells) throw differ(`of ${plural(cells, 'cell')} and of ${plural(h.cells, 'cell')}`);
    if (h.check !== first.shard.check || h.mode !== first.shard.mode || JSON.stringify(h.trees) !== JSON.stringify(first.shard.trees)) {
      throw differ(`other scenarios, trees, parameters or settings`);
    }
  }
  const byIndex = new Map<number, ShardFile>();
  for (const s of shards) {
    const seen = byIndex.get(s.shard.index);
    if (seen) throw new UsageError(`${seen.file} and ${s.file} are both shard ${s.shard.index}/${total}`);
    byIndex.set(s.shard.index, s);
  }
  const missing: string[] = [];
  for (let i = 1; i <= total; i++) if (!byIndex.has(i)) missing.push(`${i}/${total}`);
  if (missing.length > 0) throw new UsageError(`missing shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (given: ${[...byIndex.keys()].sort((a, b) => a - b).map((i) => `${i}/${total}`).join(', ')})`);
  for (const s of shards) {
    const want = shardSize(cells, s.shard);
    if (s.results.length !== want) throw new UsageError(`${s.file} has ${plural(s.results.length, 'result')}, but shard ${s.shard.index}/${total} of ${plural(cells, 'cell')} has ${want}`);
  }
  // Shard I holds the cells at positions I-1, I-1+N, I-1+2N, ... in that order.
  const results: CheckResult[] = [];
  for (let p = 0; p < cells; p++) results.push(byIndex.get((p % total) + 1)!.results[Math.floor(p / total)]!);
  return { results, trees: first.shard.trees, mode: first.shard.mode };
}

function readShard(file: string): ShardFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : oneLine(e)}`);
  }
  // What a shell redirection leaves when the check it captured failed.
  if (text.trim() === '') throw new UsageError(`${file} is empty (did its check fail?)`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // The parser's message quotes the text around the error, which may span lines.
    throw new UsageError(`${file} is not JSON (${(e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim()})`);
  }
  if (!isObject(doc) || !Array.isArray(doc.results)) throw new UsageError(`${file} is not the JSON document of zonedev check --json`);
  if (!('shard' in doc)) throw new UsageError(`${file} is not a shard: it has no "shard" field (shards are written by zonedev check --json --shard I/N)`);
  const h = doc.shard;
  const count = (x: unknown, min: number): boolean => Number.isSafeInteger(x) && (x as number) >= min;
  if (
    !isObject(h) ||
    !count(h.total, 1) ||
    !count(h.index, 1) ||
    (h.index as number) > (h.total as number) ||
    !count(h.cells, 0) ||
    typeof h.check !== 'string' ||
    !Array.isArray(h.trees) ||
    !h.trees.every((t) => typeof t === 'string') ||
    (h.mode !== 'detail' && h.mode !== 'summary')
  ) {
    throw new UsageError(`${file}: its "shard" field is not { index, total, cells, check, trees, mode } of a shard`);
  }
  doc.results.forEach((r: unknown, k: number) => {
    const bad = badResult(r);
    if (bad) throw new UsageError(`${file}: result ${k + 1} is not a check result (${bad})`);
  });
  return { file, shard: h as unknown as ShardHeader, results: doc.results as CheckResult[] };
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

type Shape = Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array'>;

const RESULT: Shape = { scenario: 'string', tree: 'string', params: 'object', status: 'string', strategy: 'string', explored: 'number', sleepBlocked: 'number', steps: 'number', complete: 'boolean', stopReason: 'string', findings: 'array' };
const FINDING: Shape = { kind: 'string', title: 'string', description: 'string', origin: 'string', thread: 'string', stack: 'array', count: 'number', faults: 'number', label: 'string', details: 'array', replay: 'string', trace: 'array' };
const STEP: Shape = { index: 'number', thread: 'string', tid: 'number', label: 'string', stack: 'array', notes: 'array' };

/** What a value lacks to have a shape, or undefined. */
function lacks(x: unknown, shape: Shape, what: string): string | undefined {
  if (!isObject(x)) return `${what} is not an object`;
  for (const [k, t] of Object.entries(shape)) {
    const v = x[k];
    const ok = t === 'array' ? Array.isArray(v) : t === 'object' ? isObject(v) : typeof v === t;
    if (!ok) return `${what} has no ${t} "${k}"`;
  }
  return undefined;
}

/** Checks what the reports read, so that a damaged file is an error naming it, not a crash. */
function badResult(r: unknown): string | undefined {
  const bad = lacks(r, RESULT, 'it');
  if (bad) return bad;
  for (const f of (r as { findings: unknown[] }).findings) {
    const badF = lacks(f, FINDING, 'a finding');
    if (badF) return badF;
    for (const s of (f as { trace: unknown[] }).trace) {
      const badS = lacks(s, STEP, 'a step of a trace');
      if (badS) return badS;
    }
  }
  return undefined;
}
