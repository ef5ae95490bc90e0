// Replay: the one execution a sequence of decisions describes (Shuttle's `ReplayScheduler`).
// With `extend`, decisions that run out before the execution ends (an execution cut short as
// redundant) are continued with the first runnable thread and the first value of each choice,
// so that the result is a whole execution whose decisions replay strictly.

import type { Execution } from '../execution.js';
import type { ChooseOp } from '../ops.js';
import type { Scheduler } from '../scheduler.js';

export class ReplayMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayMismatch';
  }
}

export class ReplayScheduler implements Scheduler {
  readonly exhaustive = true;
  readonly bounded = false;
  private pos = 0;
  private started = false;

  constructor(
    private readonly decisions: readonly number[],
    private readonly extend: boolean,
  ) {}

  newExecution(): boolean {
    if (this.started) return false;
    this.started = true;
    return true;
  }

  nextThread(_exec: Execution, runnable: readonly number[]): number {
    return this.next('thread pick', (v) => runnable.includes(v), runnable[0]!);
  }

  nextChoice(op: ChooseOp, allowed: number): number {
    return this.next(`choice ${op.label}`, (v) => v >= 0 && v < allowed, 0);
  }

  endExecution(): void {
    if (this.pos < this.decisions.length) throw new ReplayMismatch(`replay does not fit this program: ${this.decisions.length - this.pos} decisions left over`);
  }

  private next(what: string, valid: (v: number) => boolean, fallback: number): number {
    if (this.pos >= this.decisions.length && this.extend) return fallback;
    const v = this.decisions[this.pos++];
    if (v === undefined || !valid(v)) throw new ReplayMismatch(`replay does not fit this program: decision ${this.pos} (${what})`);
    return v;
  }
}
