// Uniformly random schedules and choices from a seed (Shuttle's `RandomScheduler`).

import type { Execution } from '../execution.js';
import type { ChooseOp } from '../ops.js';
import type { Prng } from '../prng.js';
import type { Scheduler } from '../scheduler.js';

export class RandomWalk implements Scheduler {
  readonly exhaustive = false;
  readonly bounded = false;

  constructor(private readonly rng: Prng) {}

  newExecution(): boolean {
    return true;
  }

  nextThread(_exec: Execution, runnable: readonly number[]): number {
    return runnable[this.rng.below(runnable.length)]!;
  }

  nextChoice(_op: ChooseOp, allowed: number): number {
    return this.rng.below(allowed);
  }

  endExecution(): void {}
}
