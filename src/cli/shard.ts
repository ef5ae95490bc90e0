// A share of a check for one machine of many (`check --shard I/N`). The check's cells (one
// scenario on one tree) are in a canonical order, the order of the whole check's results, and
// shard I runs the cells at the positions p with p % N === I - 1. That balances the number of
// cells, not the work: cells differ in size by orders of magnitude (p2pdma-two-bars-vs-unbind
// is most of a full check). Because the positions of a shard's cells follow from I and N, a
// shard's results in order are enough for `zonedev merge` to put every result back in place.

import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { ScenarioRef } from './catalog.js';
import type { JobSpec } from './pool.js';

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly total: number;
}

/** How the text of the whole check is printed: every finding in full, or one line each. */
export type TextMode = 'detail' | 'summary';

/** The "shard" field of the JSON document of `check --json --shard I/N`. */
export interface ShardHeader {
  readonly index: number;
  readonly total: number;
  /** Cells of the whole check, over all shards. */
  readonly cells: number;
  /** Digest of the whole check's cells and settings: shards of one check carry the same. */
  readonly check: string;
  /** The matrix's columns, in order: what the text of the whole check needs besides the results. */
  readonly trees: readonly string[];
  readonly mode: TextMode;
}

/** Commander's parser for --shard. */
export function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = m ? Number(m[1]) : NaN;
  const total = m ? Number(m[2]) : NaN;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(total) || total < 1 || index < 1 || index > total) {
    throw new InvalidArgumentError('expected I/N with 1 <= I <= N, such as 2/4');
  }
  return { index, total };
}

export function inShard(position: number, shard: Shard): boolean {
  return position % shard.total === shard.index - 1;
}

/** How many of a check's cells fall to a shard. */
export function shardSize(cells: number, shard: Shard): number {
  return Math.max(0, Math.ceil((cells - (shard.index - 1)) / shard.total));
}

/** The cells of a shard, in canonical order. */
export function selectShard<T>(cells: readonly T[], shard: Shard): T[] {
  return cells.filter((_, p) => inShard(p, shard));
}

export function shardHeader(shard: Shard, specs: readonly JobSpec[], trees: readonly string[], mode: TextMode): ShardHeader {
  const cols = [...new Set(trees)];
  // A module path names the same scenario on machines that check it out in different places.
  const label = (r: ScenarioRef): string => (r.kind === 'library' ? r.name : basename(r.path));
  const cells = specs.map((s) => (s.kind === 'check' ? [label(s.scenario), s.tree, s.params, s.settings] : ['replay', s.token]));
  const check = createHash('sha256').update(JSON.stringify({ cells, trees: cols, mode })).digest('hex').slice(0, 16);
  return { index: shard.index, total: shard.total, cells: specs.length, check, trees: cols, mode };
}

/** The text output's first line: which share this is. */
export function shardLine(h: ShardHeader, ran: number): string {
  return `shard ${h.index}/${h.total}: ${ran} of the check's ${h.cells} cell${h.cells === 1 ? '' : 's'}; zonedev merge joins the --json output of all ${h.total} shard${h.total === 1 ? '' : 's'} into the whole check's result`;
}
