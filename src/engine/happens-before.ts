// Happens-before over the events of one execution, and the races between them.
//
// Two events conflict when they touch one object and at least one writes it, or one reads it
// and the other updates it (two updates commute, see AccessKind; an add to a counter that
// would make its epoch unsafe is ordered as a write, see counter-epochs.ts). Happens-before is the
// transitive closure of program order, spawn order and conflict order, kept as vector clocks.
// A race is a pair of conflicting events of different threads with no happens-before path
// between them other than their direct conflict: reversing it gives a different Mazurkiewicz
// trace (Abdulla, Aronis, Jonsson, Sagonas, "Source Sets", JACM 2017).
//
// Consecutive executions of a tree exploration share a prefix (everything above the node whose
// choice changed: about three quarters of the events on the kernel scenarios), and an event's
// ordering depends only on the events before it. So the relation is kept from one execution to
// the next: `resume()` takes back the events after the shared prefix (each event's changes to
// the object histories are logged so that they can be undone) and moves the histories from the
// previous execution's objects to the new one's, which the replayed prefix touches in the same
// order, footprint by footprint.

import { EMPTY_EPOCH, type Epoch, joinEpoch } from './counter-epochs.js';
import { type Access, type AccessKind, conflicting, forEachObject, kindOf } from './ops.js';
import { preserves, type StoredValue } from './value-views.js';
import { VectorClock } from './vector-clock.js';

export interface HbEvent {
  readonly tid: number;
  readonly access: readonly Access[];
  readonly spawnedAt: number;
  readonly firstOfThread: boolean;
  /** The values before the step of the counters it adds to, by footprint index (CounterAdd). */
  readonly counts?: readonly (bigint | undefined)[];
  /** For its writes with a value view, the value before and the value stored, by footprint index. */
  readonly stored?: readonly (StoredValue | undefined)[];
}

export interface Race {
  /** The earlier event. */
  readonly first: number;
  /** The later event (may be an index one past the real events: a pending step). */
  readonly second: number;
}

/** A write, with the value it changed and stored when it told them (value-views.ts). */
interface WriteRecord {
  readonly event: number;
  readonly stored: StoredValue | undefined;
}

interface ObjectHistory {
  /** The object, as the current execution's footprints name it. */
  key: unknown;
  /** The last resume() that renamed it. */
  generation: number;
  lastWrite: number;
  /** The reads not yet ordered before a write (every read since the last write, unless a write preserved what it observes). */
  readsSinceWrite: number[];
  updatesSinceWrite: number[];
  /**
   * The writes since the last one that changed the object in a way no read can see through: a
   * write that told no value, or one after updates (an update changes the value as well).
   */
  writes: WriteRecord[];
  /** The adds since the last read or write that commute (counter-epochs.ts). */
  epoch: Epoch;
}

/** How an event touches one object: its kind as ordered, and the object's epoch after it. */
interface Touch {
  readonly obj: unknown;
  readonly kind: AccessKind;
  readonly epoch: Epoch;
  /** For a write: what it stored, if it told; and the open reads it did not order itself after. */
  readonly stored?: StoredValue | undefined;
  readonly stillOpen?: number[];
}

interface Ordering {
  /** The events it is directly ordered after: program, spawn and conflict order. */
  readonly preds: readonly number[];
  /** Of those, the direct conflicts with other threads: the race candidates. */
  readonly conflicts: readonly number[];
  readonly clock: VectorClock;
  readonly local: number;
  readonly touches: readonly Touch[];
}

/**
 * What adding an event changed in one object's history, to undo it: the history, whether the
 * event created it, and its fields as they were, with the lengths of the arrays it pushed to.
 */
interface Undo {
  readonly h: ObjectHistory;
  readonly created: boolean;
  readonly lastWrite: number;
  readonly reads: number[];
  readonly readsLength: number;
  readonly updates: number[];
  readonly updatesLength: number;
  readonly writes: WriteRecord[];
  readonly writesLength: number;
  readonly epoch: Epoch;
}

export class HappensBefore {
  /** clock[e]: the events of each thread that happen before or at e. */
  readonly clock: VectorClock[] = [];
  /** local[e]: e's position in its thread, from 1. */
  readonly local: number[] = [];
  private readonly preds: (readonly number[])[] = [];
  private readonly conflictPreds: (readonly number[])[] = [];
  private readonly lastOfThread: (number | undefined)[] = [];
  private objects = new Map<unknown, ObjectHistory>();
  /** undo[e]: how to take event e back; previousOfThread[e]: its thread's last event before it. */
  private readonly undo: Undo[][] = [];
  private readonly previousOfThread: (number | undefined)[] = [];
  private generation = 0;

  constructor(readonly events: HbEvent[]) {
    for (let i = 0; i < events.length; i++) this.add(i);
  }

  /**
   * Goes on with another execution, whose first `shared` events are those of the previous one
   * replayed (same threads, same footprints, each naming the new execution's objects): takes the
   * later events back, names the histories by the new objects, and adds `events` from `shared` on.
   */
  resume(events: readonly HbEvent[], shared: number): void {
    for (let i = this.events.length - 1; i >= shared; i--) this.takeBack(i);
    const renamed = new Map<unknown, ObjectHistory>();
    const generation = ++this.generation;
    for (let j = 0; j < shared; j++) {
      // The event's touches are its footprint's distinct objects in order (forEachObject), and
      // its undo record holds the history of each: the new execution's footprint names the
      // same objects in the same order.
      const touched = this.undo[j]!;
      const now = events[j]!.access;
      let t = 0;
      for (let k = 0; k < now.length && t < touched.length; k++) {
        const obj = now[k]!.obj;
        let seenBefore = false;
        for (let m = 0; m < k; m++) if (now[m]!.obj === obj) seenBefore = true;
        if (seenBefore) continue;
        const h = touched[t++]!.h;
        if (h.generation === generation) continue;
        h.generation = generation;
        h.key = obj;
        renamed.set(obj, h);
      }
      this.events[j] = events[j]!;
    }
    this.objects = renamed;
    for (let i = shared; i < events.length; i++) {
      this.events.push(events[i]!);
      this.add(i);
    }
  }

  /** Takes back the last event. */
  private takeBack(i: number): void {
    const undo = this.undo[i]!;
    for (let k = undo.length - 1; k >= 0; k--) {
      const u = undo[k]!;
      const h = u.h;
      if (u.created) {
        this.objects.delete(h.key);
        continue;
      }
      h.lastWrite = u.lastWrite;
      h.readsSinceWrite = u.reads;
      u.reads.length = u.readsLength;
      h.updatesSinceWrite = u.updates;
      u.updates.length = u.updatesLength;
      h.writes = u.writes;
      u.writes.length = u.writesLength;
      h.epoch = u.epoch;
    }
    const tid = this.events[i]!.tid;
    const previous = this.previousOfThread[i];
    this.lastOfThread[tid] = previous;
    this.events.length = i;
    this.clock.length = i;
    this.local.length = i;
    this.preds.length = i;
    this.conflictPreds.length = i;
    this.undo.length = i;
    this.previousOfThread.length = i;
  }

  /** Adds event `i` of `events` (which must be the next one). */
  add(i: number): void {
    const e = this.events[i]!;
    const o = this.order(e);
    this.local[i] = o.local;
    this.clock[i] = o.clock;
    this.preds[i] = o.preds;
    this.conflictPreds[i] = o.conflicts;
    this.previousOfThread[i] = this.lastOfThread[e.tid];
    this.lastOfThread[e.tid] = i;
    const undo: Undo[] = [];
    this.undo[i] = undo;
    for (const { obj, kind, epoch, stored, stillOpen } of o.touches) {
      let h = this.objects.get(obj);
      if (!h) {
        this.objects.set(obj, (h = { key: obj, generation: this.generation, lastWrite: -1, readsSinceWrite: [], updatesSinceWrite: [], writes: [], epoch: EMPTY_EPOCH }));
        undo.push({ h, created: true, lastWrite: -1, reads: h.readsSinceWrite, readsLength: 0, updates: h.updatesSinceWrite, updatesLength: 0, writes: h.writes, writesLength: 0, epoch: EMPTY_EPOCH });
      } else {
        const reads = h.readsSinceWrite;
        const updates = h.updatesSinceWrite;
        const writes = h.writes;
        undo.push({ h, created: false, lastWrite: h.lastWrite, reads, readsLength: reads.length, updates, updatesLength: updates.length, writes, writesLength: writes.length, epoch: h.epoch });
      }
      h.epoch = epoch;
      if (kind === 'write') {
        h.lastWrite = i;
        h.readsSinceWrite = stillOpen ?? [];
        if (stored && h.updatesSinceWrite.length === 0) h.writes.push({ event: i, stored });
        else h.writes = [{ event: i, stored: undefined }];
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
  pendingRaces(e: HbEvent): { races: number[]; clock: VectorClock } {
    const o = this.order(e);
    return { races: o.conflicts.filter((c) => !o.preds.some((p) => p !== c && this.hb(c, p))), clock: o.clock };
  }

  /**
   * The event right before step `i` of thread `tid` in that thread (`i` may be one past the
   * events: the thread's pending step), or the spawn that started the thread; -1 for neither.
   */
  threadPredecessor(i: number, tid: number, spawnedAt: number): number {
    const previous = i < this.events.length ? this.previousOfThread[i] : this.lastOfThread[tid];
    return previous ?? spawnedAt;
  }

  /** Whether event a happens before a step whose clock is `clock`. */
  hbClock(a: number, clock: VectorClock): boolean {
    return clock.includes(this.events[a]!.tid, this.local[a]!);
  }

  /** Whether event a happens before (or is) event b. */
  hb(a: number, b: number): boolean {
    return this.clock[b]!.includes(this.events[a]!.tid, this.local[a]!);
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

  private order(e: HbEvent): Ordering {
    const preds: number[] = [];
    const prev = this.lastOfThread[e.tid];
    if (prev !== undefined) preds.push(prev);
    else if (e.spawnedAt >= 0) preds.push(e.spawnedAt);
    const conflicts: number[] = [];
    const addConflict = (c: number): void => {
      if (preds.includes(c)) return;
      preds.push(c);
      if (this.events[c]!.tid !== e.tid) conflicts.push(c);
    };
    const touches: Touch[] = [];
    forEachObject(e.access, (obj, accessKind, only, index) => {
      const h = this.objects.get(obj);
      // An add stays an update while its counter's epoch stays safe with it.
      const joined = accessKind === 'update' ? joinEpoch(h?.epoch ?? EMPTY_EPOCH, only?.add, e.counts?.[index]) : undefined;
      const kind = accessKind === 'update' && !joined ? 'write' : accessKind;
      const stored = kind === 'write' && only ? e.stored?.[index] : undefined;
      if (!h) {
        touches.push({ obj, kind, epoch: joined ?? EMPTY_EPOCH, stored });
        return;
      }
      if (kind === 'read' && only?.view?.observe) {
        // After the latest write that changed what it observes (value-views.ts).
        const w = lastChange(h.writes, only);
        if (w >= 0) addConflict(w);
      } else if (h.lastWrite >= 0) addConflict(h.lastWrite);
      let stillOpen: number[] | undefined;
      if (kind === 'write' && stored) {
        // Before the reads that it changes what they observe; the others stay open.
        for (const r of h.readsSinceWrite) {
          const read = onlyAccess(this.events[r]!.access, obj);
          if (read && preserves(stored, read)) (stillOpen ??= []).push(r);
          else addConflict(r);
        }
      } else if (kind !== 'read') for (const r of h.readsSinceWrite) addConflict(r);
      if (kind !== 'update') for (const u of h.updatesSinceWrite) addConflict(u);
      touches.push({ obj, kind, epoch: joined ?? EMPTY_EPOCH, stored, stillOpen });
    });
    const clock = new VectorClock();
    for (const p of preds) clock.join(this.clock[p]!);
    const local = (prev === undefined ? 0 : this.local[prev]!) + 1;
    clock.set(e.tid, local);
    return { preds, conflicts, clock, local, touches };
  }
}

/**
 * The latest of `writes` that changed what `read` observes (or told no value); -1 if none did.
 * The updates since the last write are the read's conflicts already (a read conflicts with them).
 */
function lastChange(writes: readonly WriteRecord[], read: Access): number {
  for (let k = writes.length - 1; k >= 0; k--) {
    const w = writes[k]!;
    if (!preserves(w.stored, read)) return w.event;
  }
  return -1;
}

/** The access of `footprint` to `obj` when it touches it exactly once (as forEachObject's `only`). */
function onlyAccess(footprint: readonly Access[], obj: unknown): Access | undefined {
  let found: Access | undefined;
  for (const a of footprint) {
    if (a.obj !== obj) continue;
    if (found) return undefined;
    found = a;
  }
  return found;
}

/** Whether two footprints conflict: a shared object that they touch in conflicting kinds. */
export function dependent(a: readonly Access[], b: readonly Access[]): boolean {
  // Pairwise on the kinds as listed: a footprint that reads and updates one object conflicts
  // with every access of it, as the write it amounts to does.
  for (const x of a) for (const y of b) if (x.obj === y.obj && conflicting(kindOf(x), kindOf(y))) return true;
  return false;
}
