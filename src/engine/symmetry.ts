// Thread symmetry: threads of one class (ThreadSpec.symmetric) are interchangeable, so an
// interleaving and the one with two of them swapped reach states that differ only in which of
// them is which, and finding one is finding the other. At a state that swapping threads a and b
// leaves as it is, everything that starts with b is the mirror of something that starts with a:
// source DPOR (strategies/source-dpor.ts, tree.ts) puts b to sleep wherever a sleeps there, and
// below every later sibling of a wherever a has been explored there. (Sleep sets and symmetry
// combined as Emerson, Jha and Peled combine partial order and symmetry reductions, TACAS
// 1997.) A request to explore b there is still one for b, not for a: the subtree of a is not
// the mirror of b's as explored, since a sleeps in b's and b does not in a's, and the requests
// that b's subtree would make can be ones a's never does; the differential test finds programs
// (a blocking wait behind a commuting add) where taking b's request for a loses a trace.
//
// The engine has no state to compare, so a state counts as symmetric in a and b only when the
// execution so far is the same Mazurkiewicz trace after swapping them: a and b took as many
// steps, their k-th steps touched the same objects in the same way (or objects first touched
// there, one each, which the swap exchanges: a section, a buffer of their own) with the same
// choices, no other thread's step touches one of an exchanged pair without the other, and no
// step that conflicts with a's k-th or b's k-th lies between the two (then the swap could not
// be undone by reordering independent steps). Dependence is the footprints' alone (the value-
// aware rules of counter-epochs.ts and value-views.ts are not used), which can only say
// "conflict" more often. A thread that has spawned one is never symmetric: its children would
// have to be swapped too.
//
// Threads a fault plan names (fault-plans.ts) fail where their class-mates do not, so a plan
// leaves them out of their class.

import { type Execution, ModelError } from './execution.js';
import { dependent } from './happens-before.js';
import { type Access, kindOf } from './ops.js';

/** Which threads are interchangeable in one execution, at each of its scheduling points. */
export class Symmetry {
  /** For each thread, the events it took, by index in the execution's events. */
  private byThread: number[][] = [];
  /** For each object, the first event that touched it. */
  private firstTouch = new Map<unknown, number>();
  private indexed = 0;
  private exec: Execution | undefined;

  constructor(private readonly distinguished: ReadonlySet<string> = new Set()) {}


  /**
   * The classes of threads interchangeable now (each of two threads or more, in id order), or
   * undefined when there is none. Only threads that can run or are asleep matter to a
   * scheduling point, but all are returned.
   */
  classesNow(exec: Execution): readonly (readonly number[])[] | undefined {
    let candidates: Map<string, number[]> | undefined;
    for (const t of exec.threads) {
      if (t.symmetric === undefined || t.spawns > 0 || this.distinguished.has(t.key)) continue;
      const list = (candidates ??= new Map()).get(t.symmetric);
      if (list) list.push(t.tid);
      else candidates.set(t.symmetric, [t.tid]);
    }
    if (!candidates) return undefined;
    let classes: number[][] | undefined;
    for (const members of candidates.values()) {
      if (members.length < 2) continue;
      // Symmetry is an equivalence (a swap of a and c is the swaps a-b, b-c, a-b), so each
      // thread joins the first class whose first member it is interchangeable with.
      const groups: number[][] = [];
      for (const t of members) {
        const g = groups.find((grp) => this.interchangeable(exec, grp[0]!, t));
        if (!g) {
          groups.push([t]);
          continue;
        }
        // The same trace so far, so the same next step: a check of the class's promise.
        if (announced(exec, g[0]!) !== announced(exec, t)) throw asymmetric(exec, g[0]!, t);
        g.push(t);
      }
      for (const g of groups) if (g.length > 1) (classes ??= []).push(g);
    }
    return classes;
  }

  /** Whether the execution so far is the same trace with threads a and b swapped. */
  interchangeable(exec: Execution, a: number, b: number): boolean {
    const ta = exec.threads[a]!;
    const tb = exec.threads[b]!;
    if (ta.steps !== tb.steps || !sameList(ta.startChoices, tb.startChoices)) return false;
    if (ta.steps === 0) return true;
    this.index(exec);
    const A = this.byThread[a]!;
    const B = this.byThread[b]!;
    const events = exec.events;
    const swap = new Map<unknown, unknown>();
    for (let k = 0; k < A.length; k++) {
      const ea = events[A[k]!]!;
      const eb = events[B[k]!]!;
      if (!sameChoices(exec, A[k]!, B[k]!)) return false;
      if (ea.access.length !== eb.access.length) return false;
      const lo = Math.min(A[k]!, B[k]!);
      for (let p = 0; p < ea.access.length; p++) {
        const x = ea.access[p]!;
        const y = eb.access[p]!;
        if (!sameAccess(x, y)) return false;
        if (x.obj === y.obj) {
          if (swap.has(x.obj)) return false;
          continue;
        }
        const sx = swap.get(x.obj);
        if (sx !== undefined || swap.has(y.obj)) {
          if (sx !== y.obj) return false;
          continue;
        }
        // A pair first touched here, one by each: theirs, exchanged by the swap.
        if (this.firstTouch.get(x.obj)! < lo || this.firstTouch.get(y.obj)! < lo) return false;
        swap.set(x.obj, y.obj);
        swap.set(y.obj, x.obj);
      }
    }
    for (let k = 0; k < A.length; k++) {
      const pa = A[k]!;
      const pb = B[k]!;
      if (dependent(events[pa]!.access, events[pb]!.access)) return false;
      const lo = Math.min(pa, pb);
      const hi = Math.max(pa, pb);
      for (let e = lo + 1; e < hi; e++) {
        const ev = events[e]!;
        // A step of a between a's and b's k-th must not conflict with b's k-th, and the other
        // way round; another thread's step must conflict with neither.
        if (ev.tid !== b && dependent(ev.access, events[pb]!.access)) return false;
        if (ev.tid !== a && dependent(ev.access, events[pa]!.access)) return false;
      }
    }
    if (swap.size > 0) {
      // Every other step touches an exchanged pair as a whole or not at all.
      for (let e = 0; e < events.length; e++) {
        const ev = events[e]!;
        if (ev.tid === a || ev.tid === b) continue;
        for (const x of ev.access) {
          const y = swap.get(x.obj);
          if (y !== undefined && !ev.access.some((z) => z.obj === y && sameAccess(x, z))) return false;
        }
      }
    }
    return true;
  }

  /** Takes in the events the execution took since the last call. */
  private index(exec: Execution): void {
    if (this.exec !== exec) {
      // A new execution: its events are new ones.
      this.byThread = [];
      this.firstTouch = new Map();
      this.indexed = 0;
      this.exec = exec;
    }
    const events = exec.events;
    for (; this.indexed < events.length; this.indexed++) {
      const e = events[this.indexed]!;
      (this.byThread[e.tid] ??= []).push(this.indexed);
      for (const x of e.access) if (!this.firstTouch.has(x.obj)) this.firstTouch.set(x.obj, this.indexed);
    }
  }
}

/** The model broke the promise of a class: two threads found interchangeable go different ways. */
export function asymmetric(exec: Execution, a: number, b: number): ModelError {
  return new ModelError(`threads ${exec.threadName(a)} and ${exec.threadName(b)} are declared interchangeable (class '${exec.threads[a]!.symmetric}') but do different things from the same state`);
}

/** What thread `t` announced it does next, as a label. */
function announced(exec: Execution, t: number): string {
  const ann = exec.pending(t);
  if (!ann) return '(finished)';
  return ann.op === 'step' || ann.op === 'block' ? `${ann.op} ${ann.label}` : ann.op;
}

function sameAccess(x: Access, y: Access): boolean {
  return kindOf(x) === kindOf(y) && x.add?.delta === y.add?.delta;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether events i and j made the same choices. */
function sameChoices(exec: Execution, i: number, j: number): boolean {
  const log = exec.choiceLog;
  const end = (e: number): number => exec.events[e + 1]?.choiceAt ?? log.length;
  const from = exec.events[i]!.choiceAt;
  const to = exec.events[j]!.choiceAt;
  const n = end(i) - from;
  if (n !== end(j) - to) return false;
  for (let q = 0; q < n; q++) if (log[from + q] !== log[to + q]) return false;
  return true;
}
