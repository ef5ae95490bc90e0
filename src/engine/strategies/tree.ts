// The tree of schedules and choices that the exhaustive strategies (DFS, source-set DPOR) walk
// depth-first, one execution per branch, as Shuttle's `DfsScheduler` walks its schedule prefix.
//
// Exploration is stateless: every execution replays the decisions of the current branch from a
// fresh world, then extends it. A node is a scheduling point (which thread steps) or a choice
// point (which value a choice takes). The model must be deterministic: replaying a prefix must
// meet the same enabled threads and choices, which is checked at every node.

import { type Execution, ModelError } from '../execution.js';
import type { ChooseOp } from '../ops.js';
import type { Scheduler } from '../scheduler.js';

export interface SchedNode {
  readonly kind: 'sched';
  /** The threads enabled here. */
  readonly enabled: readonly number[];
  /** The threads the strategy may pick here (the enabled ones, narrowed by a bound). */
  readonly allowed: readonly number[];
  /** The threads to explore here. */
  readonly backtrack: Set<number>;
  /** The threads explored here. */
  readonly done: Set<number>;
  /** The threads not to explore here: their step starts only executions explored already. */
  readonly sleep: ReadonlySet<number>;
  chosen: number;
  /** The sleep set of the node after this one (DPOR). */
  childSleep: ReadonlySet<number>;
}

export interface ChoiceNode {
  readonly kind: 'choice';
  readonly allowed: number;
  readonly label: string;
  chosen: number;
}

export type TreeNode = SchedNode | ChoiceNode;

const NO_THREADS: ReadonlySet<number> = new Set();

export abstract class TreeScheduler implements Scheduler {
  readonly exhaustive = true;
  bounded = false;
  protected readonly stack: TreeNode[] = [];
  /** Position in `stack` of the next decision of the current execution. */
  protected pos = 0;
  /**
   * Nodes above this position are replayed exactly as in the previous execution (same pick,
   * same done set): what was computed for them then still holds.
   */
  protected divergence = 0;
  /** For each event of the current execution, the position in `stack` of the node that chose it. */
  protected nodeOfEvent: number[] = [];
  private lastSched: SchedNode | undefined;
  private started = false;

  /** The threads to explore first at a new node. */
  protected abstract initialBacktrack(node: { allowed: readonly number[]; sleep: ReadonlySet<number> }, first: number): Iterable<number>;

  /** The sleep set of a new node, from its parent's pick (DPOR); DFS sleeps nothing. */
  protected sleepOf(parent: SchedNode | undefined): ReadonlySet<number> {
    return parent?.childSleep ?? NO_THREADS;
  }

  /** Called when `node` is about to take its pick in `exec` (DPOR computes the child's sleep set). */
  protected beforeStep(_exec: Execution, _node: SchedNode, _position: number): void {}

  newExecution(): boolean {
    if (this.started && !this.nextBranch()) return false;
    this.started = true;
    this.pos = 0;
    this.nodeOfEvent = [];
    this.lastSched = undefined;
    return true;
  }

  nextChoice(op: ChooseOp, allowed: number): number {
    if (this.pos < this.stack.length) {
      const node = this.stack[this.pos++]!;
      if (node.kind !== 'choice' || node.allowed !== allowed) throw nondeterministic(`choice ${op.label}`);
      return node.chosen;
    }
    this.stack.push({ kind: 'choice', allowed, label: op.label, chosen: 0 });
    this.pos++;
    return 0;
  }

  nextThread(exec: Execution, runnable: readonly number[]): number | undefined {
    const enabled = exec.enabled();
    let node: SchedNode;
    if (this.pos < this.stack.length) {
      const n = this.stack[this.pos]!;
      if (n.kind !== 'sched' || !sameList(n.enabled, enabled)) throw nondeterministic('enabled threads');
      node = n;
    } else {
      const sleep = this.sleepOf(this.lastSched);
      const first = runnable.find((t) => !sleep.has(t));
      if (first === undefined) return undefined; // every runnable thread is asleep: redundant
      node = {
        kind: 'sched',
        enabled,
        allowed: runnable,
        backtrack: new Set(),
        done: new Set(),
        sleep,
        chosen: first,
        childSleep: NO_THREADS,
      };
      for (const t of this.initialBacktrack(node, first)) node.backtrack.add(t);
      this.stack.push(node);
    }
    this.beforeStep(exec, node, this.pos);
    this.nodeOfEvent.push(this.pos);
    this.pos++;
    this.lastSched = node;
    return node.chosen;
  }

  endExecution(exec: Execution): void {
    if (this.pos < this.stack.length && exec.status !== 'abandoned') throw nondeterministic('execution ended early');
  }

  /** Moves to the next unexplored branch; false when the tree is exhausted. */
  private nextBranch(): boolean {
    const stack = this.stack;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.kind === 'choice') {
        if (top.chosen + 1 < top.allowed) {
          top.chosen++;
          this.divergence = stack.length - 1;
          return true;
        }
      } else {
        top.done.add(top.chosen);
        const next = top.allowed.find((t) => top.backtrack.has(t) && !top.done.has(t) && !top.sleep.has(t));
        if (next !== undefined) {
          top.chosen = next;
          this.divergence = stack.length - 1;
          return true;
        }
      }
      stack.pop();
    }
    return false;
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function nondeterministic(what: string): ModelError {
  return new ModelError(`the model is not deterministic: ${what} differ when the same schedule is replayed`);
}
