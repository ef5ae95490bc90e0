// Source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal Dynamic Partial
// Order Reduction", POPL 2014, algorithm "Source-DPOR"): after each execution every race is
// reversed by adding, at the state before its first event, one of the threads that can start
// the reversed sequence (an initial of it), unless one already is there. The additions are
// requests that the node resolves when its current round ends (tree.ts), so that subtrees can
// be explored apart and the result stays the same. Sleep sets keep an
// explored thread from being explored again after steps independent of it; an execution in
// which every runnable thread is asleep is redundant and is cut short.
//
// Invariant: exactly one complete execution per Mazurkiewicz trace (each trace is explored, and
// no two complete executions are equivalent); sleep-set-blocked executions are the cost.
//
// A thread whose step the reversal needs but which is disabled at that state is never added:
// nothing in the reversed sequence can enable it, since enabling is a conflict. When no
// initial is enabled there, or the racing thread is an initial that cannot step there, the
// racing step was blocked until `first` enabled it (a lock's release, the end of the read-side
// section a grace period waits for): the reversal then goes before the latest earlier
// conflicting step at which it can start.

import { CounterEpochs } from '../counter-epochs.js';
import { counterValues, type Execution } from '../execution.js';
import { dependent, HappensBefore, type HbEvent } from '../happens-before.js';
import type { Access } from '../ops.js';
import { blocksWhile, storedValues } from '../value-views.js';
import type { SubtreeTask } from '../subtrees.js';
import type { VectorClock } from '../vector-clock.js';
import type { Symmetry } from '../symmetry.js';
import { closedUnder, type SchedNode, TreeScheduler } from './tree.js';

export class SourceDpor extends TreeScheduler {
  /** The counters' epochs at the current step, for the sleep sets. */
  private counters = new CounterEpochs();
  /** How many of the execution's events `counters` has taken. */
  private counted = 0;
  /** Happens-before over the last execution's events, and whether it holds that execution's. */
  private readonly hb = new HappensBefore([]);
  private hbHeld = false;

  /** With `symmetry`, interchangeable threads are explored once per permutation (symmetry.ts). */
  constructor(private readonly symmetry?: Symmetry) {
    super();
  }

  protected override classesAt(exec: Execution): readonly (readonly number[])[] | undefined {
    return this.symmetry?.classesNow(exec);
  }

  protected initialBacktrack(_node: SchedNode, first: number): Iterable<number> {
    return [first];
  }

  override restore(task: SubtreeTask): void {
    super.restore(task);
    this.hbHeld = false;
  }

  override newExecution(): boolean {
    this.counters = new CounterEpochs();
    this.counted = 0;
    return super.newExecution();
  }

  protected override beforeStep(exec: Execution, node: SchedNode, position: number): void {
    // The epochs as of now: the steps taken since the last call, with the counters' values the
    // execution recorded before each.
    for (; this.counted < exec.events.length; this.counted++) {
      const e = exec.events[this.counted]!;
      this.counters.advance(e.access, e.counts);
    }
    // Above the divergence the node replays the previous execution's pick with the same done
    // set: its child's sleep set is the one computed then.
    if (position >= this.divergence) {
      const chosenAccess = exec.pendingAccess(node.chosen);
      // Threads asleep here, or already explored here, stay asleep after this step if it
      // cannot affect them.
      const childSleep = new Set<number>();
      for (const r of node.sleep) if (r !== node.chosen && !this.counters.dependent(exec.pendingAccess(r), chosenAccess)) childSleep.add(r);
      // A thread interchangeable here with an explored one is explored (its mirror is).
      const done = node.symmetric ? closedUnder(node.done, node.symmetric) : node.done;
      for (const r of done) if (r !== node.chosen && !this.counters.dependent(exec.pendingAccess(r), chosenAccess)) childSleep.add(r);
      node.childSleep = childSleep;
    }
  }

  override endExecution(exec: Execution): void {
    super.endExecution(exec);
    this.reverseRaces(exec);
  }

  private reverseRaces(exec: Execution): void {
    const events = exec.events;
    // The events chosen above the divergence are the previous execution's, replayed: their
    // happens-before is kept (when the previous execution was this exploration's) and their
    // races were reversed then.
    let shared = 0;
    while (shared < events.length && this.nodeOfEvent[shared]! < this.divergence) shared++;
    const hb = this.hb;
    hb.resume(events, this.hbHeld ? shared : 0);
    this.hbHeld = true;
    for (let j = shared; j < events.length; j++) {
      for (const race of hb.racesOf(j)) this.reverse(hb, race.first, j, events[j]!.tid, events[j]!.spawnedAt, hb.clock[j]!, events[j]!.access);
    }
    // Steps announced but never taken race too: a thread left blocked, or cut off by its
    // sleeping siblings, might have gone first.
    for (const t of exec.threads) {
      if (!t.pending) continue;
      const access = exec.pendingAccess(t.tid);
      const pendingEvent: HbEvent = { tid: t.tid, access, spawnedAt: t.spawnedAt, firstOfThread: t.steps === 0, counts: counterValues(access), stored: storedValues(access) };
      const { races, clock } = hb.pendingRaces(pendingEvent);
      for (const first of races) this.reverse(hb, first, events.length, t.tid, t.spawnedAt, clock, pendingEvent.access);
    }
  }

  /** Reverses the race between event `first` and a later step of thread `tid` at `second`. */
  private reverse(hb: HappensBefore, first: number, second: number, tid: number, spawnedAt: number, clock: VectorClock, access: readonly Access[]): void {
    if (!enabledBy(hb, first, access) && this.tryReverse(hb, first, second, tid, clock)) return;
    const before = hb.threadPredecessor(second, tid, spawnedAt);
    for (let k = first - 1; k >= 0; k--) {
      const e = hb.events[k]!;
      // A step that happens before the racing thread got there is no race of the racing step:
      // an order with the racing step first breaks a conflict on that path, a race of its own.
      if (e.tid === tid || (before >= 0 && hb.hb(k, before)) || !dependent(e.access, access)) continue;
      if (enabledBy(hb, k, access)) continue;
      if (this.tryReverse(hb, k, second, tid, clock)) return;
    }
  }

  /** Adds a backtrack point for the reversal; false when no thread can start it there. */
  private tryReverse(hb: HappensBefore, first: number, second: number, tid: number, clock: VectorClock): boolean {
    const node = this.stack[this.nodeOfEvent[first]!] as SchedNode;
    // The initials of the reversed sequence: the steps after `first` that do not depend on
    // it and on no earlier one of them, then the racing step.
    const initials: number[] = [];
    const seq: number[] = [];
    for (let e = first + 1; e < second; e++) {
      if (hb.hb(first, e)) continue;
      if (!seq.some((f) => hb.hb(f, e)) && !initials.includes(hb.events[e]!.tid)) initials.push(hb.events[e]!.tid);
      seq.push(e);
    }
    if (!seq.some((f) => hb.hbClock(f, clock)) && !initials.includes(tid)) initials.push(tid);
    // The racing thread is an initial but cannot step here: nothing before its step in the
    // reversed sequence enables it, so `first` did, and the race cannot be reversed here; the
    // other initials would only reorder steps independent of `first`.
    if (initials.includes(tid) && !node.enabled.includes(tid)) return false;
    // Explored or to be explored there already (the backtrack set only grows).
    if (initials.some((t) => node.backtrack.has(t))) return true;
    // A thread disabled there can never be explored there.
    const enabled = initials.filter((t) => node.enabled.includes(t));
    if (enabled.length === 0) return false;
    this.request(this.nodeOfEvent[first]!, enabled);
    return true;
  }
}

/**
 * Whether the racing step (footprint `access`) is a wait that event `first` enabled: one of its
 * reads cannot be ready with the value that `first` overwrote (ValueView.enables). The steps
 * that a reversal would run before it do not depend on `first`, so none of them writes that
 * object: the wait would meet the old value there and be blocked, and the race cannot be
 * reversed at `first`, as when its thread is blocked there.
 */
function enabledBy(hb: HappensBefore, first: number, access: readonly Access[]): boolean {
  const e = hb.events[first]!;
  if (!e.stored) return false;
  for (let i = 0; i < e.access.length; i++) {
    const w = e.access[i]!;
    const s = e.stored[i];
    if (!s || w.kind !== 'write') continue;
    for (const r of access) if (r.obj === w.obj && blocksWhile(r, s.before)) return true;
  }
  return false;
}
