// The interface between the exploration loop and a strategy, in the manner of Shuttle's
// `Scheduler` trait: the loop (explore.ts) runs executions and knows no strategy; a strategy
// decides which thread takes each step and which value each choice gets, and learns how each
// execution ended. Cross-cutting concerns (the preemption bound) wrap a scheduler.

import type { Execution } from './execution.js';
import type { ChooseOp } from './ops.js';
import type { Splittable } from './subtrees.js';

export interface Scheduler {
  /** Prepares the next execution; false when the strategy has nothing more to run. */
  newExecution(): boolean;
  /**
   * The thread that takes the next step, one of `runnable` (the enabled threads, never empty,
   * perhaps narrowed by a wrapper); undefined abandons the execution as redundant.
   */
  nextThread(exec: Execution, runnable: readonly number[]): number | undefined;
  /** The value of a choice made by the thread whose key is `thread`: one of 0..allowed-1. */
  nextChoice(op: ChooseOp, allowed: number, thread: string): number;
  /** The execution is over: finished, failed, hung or abandoned. */
  endExecution(exec: Execution): void;
  /** Whether running until `newExecution()` says no covers every execution (DFS, DPOR). */
  readonly exhaustive: boolean;
  /** Whether a bound left some execution out. */
  readonly bounded: boolean;
  /** An exhaustive tree strategy's subtree tasks (subtrees.ts); wrappers pass it on. */
  readonly splittable?: Splittable;
}
