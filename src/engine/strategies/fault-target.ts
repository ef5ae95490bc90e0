// How the sampling strategies (random, PCT) inject faults: as syzkaller's fault injection fails
// the n-th fallible call of a program, each execution draws one fault point to fail — the n-th
// it reaches, n uniform over the fault points the longest execution so far reached, or none —
// instead of failing every fault point with probability 1/2, which fails an early one almost
// always and so rarely gets far enough to reach a race. Faults are rare by default: an
// execution fails a point at all with probability `rate` (DEFAULT_FAULT_RATE), so most
// executions explore the schedule without one. The other choices stay uniform.

import type { ChooseOp } from '../ops.js';
import type { Prng } from '../prng.js';

/** The share of sampled executions that inject a fault, unless --fault-rate says otherwise. */
export const DEFAULT_FAULT_RATE = 0.1;

export class FaultTarget {
  /** The most fault points one execution has reached so far. */
  private seen = 0;
  /** The fault point this execution fails (0-based), or -1. */
  private target = -1;
  private reached = 0;

  constructor(
    private readonly rng: Prng,
    private readonly rate = DEFAULT_FAULT_RATE,
  ) {}

  newExecution(): void {
    // n in 0..seen: `seen` (one past the last known point) fails a point not reached before,
    // if the execution gets that far, else nothing.
    this.target = this.rng.below(1_000_000) < this.rate * 1_000_000 ? this.rng.below(this.seen + 1) : -1;
    this.reached = 0;
  }

  /** The value of a choice: for a fault point, whether it is the one this execution fails. */
  choose(op: ChooseOp, allowed: number): number {
    if (!op.fault) return this.rng.below(allowed);
    const n = this.reached++;
    this.seen = Math.max(this.seen, this.reached);
    return allowed > 1 && n === this.target ? 1 + this.rng.below(allowed - 1) : 0;
  }
}
