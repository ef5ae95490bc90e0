// Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010),
// as Shuttle's `PctScheduler`: random distinct thread priorities, the highest-priority runnable
// thread runs, and at d-1 random steps the running thread drops below all others. Finds any
// bug of depth d with probability at least 1/(n k^(d-1)) for n threads and k steps. Faults as
// random.ts: one fault point per execution (fault-target.ts).

import type { Execution } from '../execution.js';
import type { ChooseOp } from '../ops.js';
import type { Prng } from '../prng.js';
import type { Scheduler } from '../scheduler.js';
import { FaultTarget } from './fault-target.js';

export class Pct implements Scheduler {
  readonly exhaustive = false;
  readonly bounded = false;
  /** k: the longest execution seen so far (the change points are drawn among its steps). */
  private expectedSteps = 16;
  private priority = new Map<number, number>();
  private changeAt = new Map<number, number>();
  private stepNo = 0;

  private readonly faults: FaultTarget;

  constructor(
    private readonly rng: Prng,
    private readonly depth: number,
    faultRate?: number,
  ) {
    this.faults = new FaultTarget(rng, faultRate);
  }

  newExecution(): boolean {
    this.faults.newExecution();
    this.priority = new Map();
    this.changeAt = new Map();
    this.stepNo = 0;
    for (let i = 1; i < this.depth; i++) this.changeAt.set(1 + this.rng.below(this.expectedSteps), this.depth - i);
    return true;
  }

  nextThread(exec: Execution, runnable: readonly number[]): number {
    // Priorities above d-1 for threads as they appear; the change points use 1..d-1.
    for (const t of exec.threads) if (!this.priority.has(t.tid)) this.priority.set(t.tid, this.depth + this.rng.below(1 << 20));
    this.stepNo++;
    let tid = this.highest(runnable);
    const low = this.changeAt.get(this.stepNo);
    if (low !== undefined) {
      this.priority.set(tid, low);
      tid = this.highest(runnable);
    }
    return tid;
  }

  nextChoice(op: ChooseOp, allowed: number): number {
    return this.faults.choose(op, allowed);
  }

  endExecution(exec: Execution): void {
    this.expectedSteps = Math.max(this.expectedSteps, exec.events.length);
  }

  private highest(tids: readonly number[]): number {
    let best = tids[0]!;
    for (const t of tids) if ((this.priority.get(t) ?? 0) > (this.priority.get(best) ?? 0)) best = t;
    return best;
  }
}
