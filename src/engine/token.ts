// Replay tokens: everything needed to run one execution again in a fresh process — what
// program (an opaque description the caller gives), the limits that shape choices, and the
// decisions. Compressed, base64url, and checksummed so that a corrupted or truncated token is
// told apart from a valid one that does not fit.

import { deflateRawSync, inflateRawSync } from 'node:zlib';

export interface ReplayRecord {
  /** What program this is, as the caller identifies it (e.g. scenario, tree, parameters). */
  readonly program: Readonly<Record<string, unknown>>;
  readonly maxFaults: number;
  readonly maxSteps: number;
  readonly decisions: readonly number[];
}

const PREFIX = 'zd1-';

export class BadToken extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadToken';
  }
}

export function encodeToken(r: ReplayRecord): string {
  const json = JSON.stringify({ p: r.program, f: r.maxFaults, s: r.maxSteps, d: r.decisions });
  const body = deflateRawSync(Buffer.from(json, 'utf8')).toString('base64url');
  return `${PREFIX}${body}${checksum(body)}`;
}

export function decodeToken(token: string): ReplayRecord {
  const t = token.trim();
  if (!t.startsWith(PREFIX)) throw new BadToken(`not a replay token (it should start with ${PREFIX})`);
  const rest = t.slice(PREFIX.length);
  if (rest.length < 9) throw new BadToken('replay token is truncated');
  const body = rest.slice(0, -8);
  if (checksum(body) !== rest.slice(-8)) throw new BadToken('replay token is corrupted or truncated (checksum mismatch)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(inflateRawSync(Buffer.from(body, 'base64url')).toString('utf8'));
  } catch {
    throw new BadToken('replay token is corrupted (cannot be decoded)');
  }
  if (!isRecord(parsed)) throw new BadToken('replay token is corrupted (unexpected content)');
  return { program: parsed.p, maxFaults: parsed.f, maxSteps: parsed.s, decisions: parsed.d };
}

function isRecord(x: unknown): x is { p: Record<string, unknown>; f: number; s: number; d: number[] } {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return (
    typeof o.p === 'object' && o.p !== null &&
    typeof o.f === 'number' && typeof o.s === 'number' &&
    Array.isArray(o.d) && o.d.every((v) => Number.isInteger(v) && v >= 0)
  );
}

/** FNV-1a, 32 bits, as 8 hex digits. */
function checksum(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
