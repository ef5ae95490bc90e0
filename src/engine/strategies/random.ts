// Uniformly random schedules and choices from a seed (Shuttle's `RandomScheduler`); one fault
// point per execution fails, drawn as fault-target.ts draws it.

import type { Execution } from '../execution.js';
import type { ChooseOp } from '../ops.js';
import type { Prng } from '../prng.js';
import type { Scheduler } from '../scheduler.js';
import { FaultTarget } from './fault-target.js';

export class RandomWalk implements Scheduler {
  readonly exhaustive = false;
  readonly bounded = false;

  private readonly faults: FaultTarget;

  constructor(
    private readonly rng: Prng,
    faultRate?: number,
  ) {
    this.faults = new FaultTarget(rng, faultRate);
  }

  newExecution(): boolean {
    this.faults.newExecution();
    return true;
  }

  nextThread(_exec: Execution, runnable: readonly number[]): number {
    return runnable[this.rng.below(runnable.length)]!;
  }

  nextChoice(op: ChooseOp, allowed: number): number {
    return this.faults.choose(op, allowed);
  }

  endExecution(): void {}
}
