// One exhaustive exploration split into subtree tasks that run anywhere, in any order, and
// merge into exactly the result of running it in one piece, as in the parallel DPOR of Simsa,
// Bryant and Gibson ("Scalable Dynamic Partial Order Reduction", RV 2012), made deterministic.
//
// A task explores the subtree below a prefix of the tree (its nodes above its floor are
// frozen). Between executions it may hand out one unexplored thread of one of its rounds as a
// new task (tree.ts), and it then passes over that thread as if it had explored it. The
// requests the handed-out task makes for the nodes it shares with its parent come back when it
// is done; the parent cannot end the round that thread belongs to before they are in, so when
// it gets there first it stops, waiting, as a task of its own that resumes where it stopped.
// Because a node resolves its requests as a set when its round ends, each node explores the
// same rounds with the same sleep sets however the tasks ran: the executions, their counts and
// what they find are those of the exploration in one piece.
//
// The coordinator keeps the tasks' dependencies: which task is waiting for which, who gets the
// requests of a task that is done. It knows nothing of threads or workers: `start` runs a task
// somewhere, `deliver` hands requests to a task that is running.

import type { Program } from './execution.js';
import { type ExploreOptions, exploreWith } from './explore.js';
import { mergeResults, type PartResult } from './merge.js';
import { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';

/** A request to explore one of `initials` at the node at `position`, from the subtree of its round `tag` (tree.ts). */
export interface Request {
  readonly position: number;
  readonly tag: number;
  readonly initials: readonly number[];
}

/** A node of the tree as plain data (strategies/tree.ts SchedNode, ChoiceNode). */
export type FrozenNode =
  | { readonly kind: 'choice'; readonly allowed: number; readonly label: string; readonly chosen: number }
  | {
      readonly kind: 'sched';
      readonly enabled: readonly number[];
      readonly allowed: readonly number[];
      readonly backtrack: readonly number[];
      readonly done: readonly number[];
      readonly sleep: readonly number[];
      readonly chosen: number;
      readonly chosenRound: number;
      readonly childSleep: readonly number[];
      readonly rounds: readonly (readonly number[])[];
      readonly fixed: number;
      readonly explored: readonly number[];
      readonly requests: readonly { readonly tag: number; readonly initials: readonly number[] }[];
      readonly later: readonly number[];
      readonly awaiting: readonly (readonly [string, number])[];
      readonly symmetric?: readonly (readonly number[])[];
    };

/** A subtree to explore: the nodes from the root to where it starts, and how to start. */
export interface SubtreeTask {
  /** "0" for the whole tree; the k-th task that task X hands out is "X.k". */
  readonly id: string;
  /** Nodes above this position are frozen: the task explores below them. */
  readonly floor: number;
  /** The first execution diverges from what was explored before at this node. */
  readonly divergence: number;
  /** A task that stopped to wait and now resumes: it moves to its next branch first. */
  readonly resumed: boolean;
  readonly nodes: readonly FrozenNode[];
  /** Requests it made for frozen nodes before it stopped. */
  readonly upward: readonly Request[];
  /** How many tasks it has handed out (the next one's id). */
  readonly handedOut: number;
}

/** How a task's run ended: its subtree done, or stopped until tasks it handed out are done. */
export type TaskEnd =
  | { readonly kind: 'done'; readonly upward: readonly Request[] }
  | {
      readonly kind: 'waiting';
      readonly task: SubtreeTask;
      /** Every handed-out task whose requests it has not taken in. */
      readonly awaiting: readonly string[];
    };

/** The requests a done task made for its parent's nodes. */
export interface Delivery {
  readonly from: string;
  readonly requests: readonly Request[];
}

/** What runs a task: where to start it, and the deliveries it takes in before its first execution. */
export interface TaskRun {
  readonly task: SubtreeTask;
  readonly deliveries: readonly Delivery[];
}

/** The part of an exhaustive scheduler that subtree tasks use (strategies/tree.ts). */
export interface Splittable {
  restore(task: SubtreeTask): void;
  handOut(id: string): SubtreeTask | undefined;
  merge(from: string, requests: readonly Request[]): void;
  end(id: string): TaskEnd;
  /** What a waiting task's round waits for: the tasks handed out at its deepest node. */
  blocking(): readonly string[];
}

export const ROOT_TASK: SubtreeTask = { id: '0', floor: 0, divergence: 0, resumed: false, nodes: [], upward: [], handedOut: 0 };

export function parentTask(id: string): string | undefined {
  const dot = id.lastIndexOf('.');
  return dot < 0 ? undefined : id.slice(0, dot);
}

export function childTask(parent: string, k: number): string {
  return `${parent}.${k}`;
}

export class SubtreeCoordinator {
  private readonly finished = new Map<string, readonly Request[]>();
  private readonly waiting = new Map<string, { task: SubtreeTask; blocking: Set<string>; deliveries: Delivery[] }>();
  private rootDone = false;

  constructor(private readonly io: { start(run: TaskRun): void; deliver(to: string, delivery: Delivery): void }) {}

  /** Whether the whole tree is explored. */
  get done(): boolean {
    return this.rootDone;
  }

  /** Tasks waiting for others. */
  get waitingTasks(): number {
    return this.waiting.size;
  }

  begin(): void {
    this.io.start({ task: ROOT_TASK, deliveries: [] });
  }

  /** A running task handed `task` out. */
  handedOut(task: SubtreeTask): void {
    this.io.start({ task, deliveries: [] });
  }

  /** A task's run ended. */
  ended(id: string, end: TaskEnd, blocking: readonly string[]): void {
    if (end.kind === 'done') {
      this.finished.set(id, end.upward);
      const parent = parentTask(id);
      if (parent === undefined) {
        this.rootDone = true;
        return;
      }
      const delivery = { from: id, requests: end.upward };
      const w = this.waiting.get(parent);
      if (!w) {
        // Running, or about to: it takes the requests in between two executions.
        this.io.deliver(parent, delivery);
        return;
      }
      w.deliveries.push(delivery);
      w.blocking.delete(id);
      if (w.blocking.size === 0) {
        this.waiting.delete(parent);
        this.io.start({ task: w.task, deliveries: w.deliveries });
      }
      return;
    }
    // Deliveries made to its run that it stopped before taking in are made again.
    const deliveries = end.awaiting.filter((a) => this.finished.has(a)).map((a) => ({ from: a, requests: this.finished.get(a)! }));
    const left = new Set(blocking.filter((b) => !this.finished.has(b)));
    if (left.size === 0) this.io.start({ task: end.task, deliveries });
    else this.waiting.set(id, { task: end.task, blocking: left, deliveries });
  }
}

/** Runs one task's exploration under `scheduler` (fresh), with `between` called after each execution. */
export function exploreTask(
  program: Program,
  options: ExploreOptions,
  scheduler: Scheduler,
  run: TaskRun,
  hooks: { readonly accepts?: Parameters<typeof exploreWith>[3]; readonly between?: (split: Splittable) => void } = {},
): { result: PartResult; end: TaskEnd; blocking: readonly string[] } {
  const split = scheduler.splittable;
  if (!split) throw new Error(`strategy ${options.strategy ?? 'dpor'} cannot be split into subtrees`);
  split.restore(run.task);
  for (const d of run.deliveries) split.merge(d.from, d.requests);
  const result = exploreWith(program, options, scheduler, hooks.accepts, hooks.between && (() => hooks.between!(split)));
  const end = split.end(run.task.id);
  return { result, end, blocking: end.kind === 'waiting' ? split.blocking() : [] };
}

/**
 * Explores `program` as subtree tasks in one thread, handing out and interleaving them at
 * random (seeded): what a pool of workers does, for testing that the result is the same.
 * Each task's run may, between its executions, hand a subtree out and run a queued task to
 * its end on the spot (as another worker would meanwhile).
 */
export function exploreInSubtrees(
  program: Program,
  options: ExploreOptions,
  makeScheduler: () => Scheduler,
  policy: { readonly seed: number; readonly handOutRate: number; readonly nestRate: number },
): PartResult & { readonly tasks: number; readonly runs: number } {
  const prng = new Prng(policy.seed);
  const queue: TaskRun[] = [];
  const inbox = new Map<string, Delivery[]>();
  const parts: PartResult[] = [];
  const ids = new Set<string>();
  const coordinator = new SubtreeCoordinator({
    start: (r) => queue.push(r),
    deliver: (to, d) => {
      const box = inbox.get(to) ?? [];
      box.push(d);
      inbox.set(to, box);
    },
  });
  const runTask = (run: TaskRun): void => {
    ids.add(run.task.id);
    const scheduler = makeScheduler();
    let handed = run.task.handedOut;
    const { result, end, blocking } = exploreTask(program, options, scheduler, run, {
      between: (split) => {
        const box = inbox.get(run.task.id);
        if (box) {
          inbox.delete(run.task.id);
          for (const d of box) split.merge(d.from, d.requests);
        }
        if (prng.nextU32() / 0x1_0000_0000 < policy.handOutRate) {
          const task = split.handOut(childTask(run.task.id, handed));
          if (task) {
            handed++;
            coordinator.handedOut(task);
          }
        }
        if (queue.length > 0 && prng.nextU32() / 0x1_0000_0000 < policy.nestRate) runTask(queue.splice(prng.below(queue.length), 1)[0]!);
      },
    });
    parts.push(result);
    inbox.delete(run.task.id);
    coordinator.ended(run.task.id, end, blocking);
  };
  coordinator.begin();
  while (queue.length > 0) runTask(queue.splice(prng.below(queue.length), 1)[0]!);
  if (!coordinator.done) throw new Error(`subtree tasks left waiting: ${coordinator.waitingTasks}`);
  return { ...mergeResults(parts), tasks: ids.size, runs: parts.length };
}
