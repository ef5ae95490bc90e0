// Happens-before over the events of one execution, and the races between them.
//
// Two events conflict when they touch one object and at least one writes it, or one reads it
// and the other updates it (two updates commute, see AccessKind). Happens-before
// is the transitive closure of program order, spawn order and conflict order, kept as vector
// clocks. A race is a pair of conflicting events of different threads with no happens-before
// path between them other than their direct conflict: reversing it gives a different
// Mazurkiewicz trace (Abdulla et al., "Source Sets", JACM 2017).

import { type Access, type AccessKind, combined, conflicting } from './ops.js';

export interface HbEvent {
  readonly tid: number;
  readonly access: readonly Access[];
  readonly spawnedAt: number;
  readonly firstOfThread: boolean;
}

export interface Race {
  /** The earlier event. */
  readonly first: number;
  /** The later event (may be an index one past the real events: a pending step). */
  readonly second: number;
}

interface ObjectHistory {
  lastWrite: number;
  readsSinceWrite: number[];
  updatesSinceWrite: number[];
}

export class HappensBefore {
  /** clock[e][t]: how many events of thread t happen before or at e. */
  readonly clock: number[][] = [];
  /** local[e]: e's position in its thread, from 1. */
  readonly local: number[] = [];
  /** The events each event is directly ordered after (program, spawn, or conflict order). */
  private readonly preds: number[][] = [];
  /** Of `preds`, those that are direct conflicts with other threads: race candidates. */
  private readonly conflictPreds: number[][] = [];
  private readonly lastOfThread = new Map<number, number>();
  private readonly objects = new Map<unknown, ObjectHistory>();

  constructor(readonly events: HbEvent[]) {
    for (let i = 0; i < events.length; i++) this.add(i);
  }

  /** Adds event `i` of `events` (which must be the next one). */
  add(i: number): void {
    const e = this.events[i]!;
    const { preds, conflicts, clock, local } = this.order(e);
    this.local[i] = local;
    this.clock[i] = clock;
    this.preds[i] = preds;
    this.conflictPreds[i] = conflicts;
    this.lastOfThread.set(e.tid, i);
    for (const [obj, kind] of mergeAccess(e.access)) {
      let h = this.objects.get(obj);
      if (!h) this.objects.set(obj, (h = { lastWrite: -1, readsSinceWrite: [], updatesSinceWrite: [] }));
      if (kind === 'write') {
        h.lastWrite = i;
        h.readsSinceWrite = [];
        h.updatesSinceWrite = [];
      } else if (kind === 'read') {
        h.readsSinceWrite.push(i);
      } else {
        h.updatesSinceWrite.push(i);
      }
    }
  }

  /**
   * The races a step that has not been taken (a thread's pending announcement) would be in,
   * were it taken now; and its clock, to tell which events it would be ordered after.
   */
  pendingRaces(e: HbEvent): { races: number[]; clock: number[] } {
    const { preds, conflicts, clock } = this.order(e);
    return { races: conflicts.filter((c) => !preds.some((p) => p !== c && this.hb(c, p))), clock };
  }

  /** Whether event a happens before a step whose clock is `clock`. */
  hbClock(a: number, clock: readonly number[]): boolean {
    return (clock[this.events[a]!.tid] ?? 0) >= this.local[a]!;
  }

  private order(e: HbEvent): { preds: number[]; conflicts: number[]; clock: number[]; local: number } {
    const all: number[] = [];
    const prev = this.lastOfThread.get(e.tid);
    if (prev !== undefined) all.push(prev);
    const spawn = prev === undefined && e.spawnedAt >= 0 ? e.spawnedAt : -1;
    if (spawn >= 0) all.push(spawn);
    const conflictSet = new Set<number>();
    for (const [obj, kind] of mergeAccess(e.access)) {
      const h = this.objects.get(obj);
      if (!h) continue;
      if (h.lastWrite >= 0) conflictSet.add(h.lastWrite);
      if (kind !== 'read') for (const r of h.readsSinceWrite) conflictSet.add(r);
      if (kind !== 'update') for (const u of h.updatesSinceWrite) conflictSet.add(u);
    }
    for (const c of conflictSet) all.push(c);
    const preds = unique(all);
    const clock: number[] = [];
    for (const p of preds) joinInto(clock, this.clock[p]!);
    const local = (prev === undefined ? 0 : this.local[prev]!) + 1;
    clock[e.tid] = local;
    const conflicts = [...conflictSet].filter((c) => this.events[c]!.tid !== e.tid);
    return { preds, conflicts, clock, local };
  }

  /** Whether event a happens before (or is) event b. */
  hb(a: number, b: number): boolean {
    return (this.clock[b]![this.events[a]!.tid] ?? 0) >= this.local[a]!;
  }

  /** The races in which event i is the later event. */
  racesOf(i: number): Race[] {
    const out: Race[] = [];
    const preds = this.preds[i]!;
    for (const c of this.conflictPreds[i]!) {
      if (preds.some((p) => p !== c && this.hb(c, p))) continue;
      out.push({ first: c, second: i });
    }
    return out;
  }
}

/** Whether two footprints conflict: a shared object that they touch in conflicting kinds. */
export function dependent(a: readonly Access[], b: readonly Access[]): boolean {
  // Pairwise on the kinds as listed: a footprint that reads and updates one object conflicts
  // with every access of it, as the write it amounts to does.
  for (const x of a) for (const y of b) if (x.obj === y.obj && conflicting(x.kind, y.kind)) return true;
  return false;
}

/** One kind per object a footprint touches (a step that reads and updates an object writes it). */
function mergeAccess(access: readonly Access[]): Map<unknown, AccessKind> {
  const m = new Map<unknown, AccessKind>();
  for (const a of access) {
    const k = m.get(a.obj);
    m.set(a.obj, k === undefined ? a.kind : combined(k, a.kind));
  }
  return m;
}

function joinInto(into: number[], from: readonly number[]): void {
  for (let t = 0; t < from.length; t++) if ((from[t] ?? 0) > (into[t] ?? 0)) into[t] = from[t]!;
}

function unique(xs: number[]): number[] {
  return xs.length < 2 ? xs : [...new Set(xs)];
}
