// The preemption bound (Musuvathi and Qadeer, PLDI 2007), as a wrapper around any scheduler:
// once an execution has switched away from a thread that could have gone on `bound` times,
// only the running thread may go on while it can.

import type { Execution } from '../execution.js';
import type { ChooseOp } from '../ops.js';
import type { Scheduler } from '../scheduler.js';
import type { Splittable } from '../subtrees.js';

export class PreemptionBound implements Scheduler {
  private preemptions = 0;
  private last = -1;
  private cut = false;

  constructor(
    private readonly inner: Scheduler,
    private readonly bound: number,
  ) {}

  get exhaustive(): boolean {
    return this.inner.exhaustive;
  }

  get bounded(): boolean {
    return this.cut || this.inner.bounded;
  }

  get splittable(): Splittable | undefined {
    return this.inner.splittable;
  }

  newExecution(): boolean {
    this.preemptions = 0;
    this.last = -1;
    return this.inner.newExecution();
  }

  nextThread(exec: Execution, runnable: readonly number[]): number | undefined {
    const lastRunnable = runnable.includes(this.last);
    let allowed = runnable;
    if (this.preemptions >= this.bound && lastRunnable) {
      allowed = [this.last];
      if (runnable.length > 1) this.cut = true;
    }
    const tid = this.inner.nextThread(exec, allowed);
    if (tid === undefined) return undefined;
    if (this.last >= 0 && tid !== this.last && lastRunnable) this.preemptions++;
    this.last = tid;
    return tid;
  }

  nextChoice(op: ChooseOp, allowed: number, thread: string): number {
    return this.inner.nextChoice(op, allowed, thread);
  }

  endExecution(exec: Execution): void {
    this.inner.endExecution(exec);
  }
}
