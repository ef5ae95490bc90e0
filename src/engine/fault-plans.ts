// Fault plans: exploration split by where the injected faults are, into units that can run
// anywhere (a worker thread, another machine) and merge into one result.
//
// A fault site is a fault point named without reference to the schedule: the n-th point with
// a given label reached by a given thread (by its key, see Execution). A plan is a set of
// sites that fail; every other fault point succeeds. The executions with at most k faults are
// partitioned by the plan they follow: the empty plan (no fault) first; each site reached in a
// plan's executions extends it by one, up to k sites. Each plan is explored on its own, as a
// program whose fault points are decided by the plan, so any sound strategy stays sound on it;
// an execution in which some site of its plan was not reached belongs to a smaller plan and is
// declined (run for its races, not counted).
//
// The result of a check is the merge of its plans' results (merge.ts: in any order), however many
// workers or machines ran them: the same verdicts, findings, counts and interleavings.

import type { Execution, Program } from './execution.js';
import { type ExploreOptions, type ExploreResult, exploreWith, schedulerFor } from './explore.js';
import { mergeResults } from './merge.js';
import { exploreTask, type Splittable, type TaskEnd, type TaskRun } from './subtrees.js';
import type { ChooseOp } from './ops.js';
import type { Scheduler } from './scheduler.js';

export interface FaultSite {
  /** The key of the thread that reaches it. */
  readonly thread: string;
  readonly label: string;
  /** 1 for the thread's first fault point with this label, 2 for its second, ... */
  readonly occurrence: number;
}

export type FaultPlan = readonly FaultSite[];

export function siteKey(s: FaultSite): string {
  return `${s.thread}\u0000${s.label}\u0000${s.occurrence}`;
}

/** A plan in its canonical form: its sites sorted by key. */
export function canonicalPlan(plan: FaultPlan): FaultSite[] {
  return [...plan].sort((a, b) => (siteKey(a) < siteKey(b) ? -1 : siteKey(a) > siteKey(b) ? 1 : 0));
}

export function planKey(plan: FaultPlan): string {
  return canonicalPlan(plan).map(siteKey).join('\u0001');
}

/** Plans in the order their results merge: fewer sites first, then by key. */
export function comparePlans(a: FaultPlan, b: FaultPlan): number {
  if (a.length !== b.length) return a.length - b.length;
  const ka = planKey(a);
  const kb = planKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Decides every fault point by the plan; other choices go to the wrapped scheduler. */
class FaultPlanScheduler implements Scheduler {
  private readonly planned: ReadonlySet<string>;
  private counts = new Map<string, number>();
  /** Plan sites that failed in the current execution. */
  fired = 0;
  /** Fault points the current execution reached while it could still inject a fault. */
  reached: FaultSite[] = [];

  constructor(
    private readonly inner: Scheduler,
    private readonly plan: FaultPlan,
  ) {
    this.planned = new Set(plan.map(siteKey));
  }

  get exhaustive(): boolean {
    return this.inner.exhaustive;
  }

  get bounded(): boolean {
    return this.inner.bounded;
  }

  get splittable(): Splittable | undefined {
    return this.inner.splittable;
  }

  newExecution(): boolean {
    this.counts = new Map();
    this.fired = 0;
    this.reached = [];
    return this.inner.newExecution();
  }

  nextThread(exec: Execution, runnable: readonly number[]): number | undefined {
    return this.inner.nextThread(exec, runnable);
  }

  nextChoice(op: ChooseOp, allowed: number, thread: string): number {
    if (!op.fault) return this.inner.nextChoice(op, allowed, thread);
    const k = `${thread}\u0000${op.label}`;
    const occurrence = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, occurrence);
    const site: FaultSite = { thread, label: op.label, occurrence };
    if (this.planned.has(siteKey(site))) {
      this.fired++;
      return 1;
    }
    this.reached.push(site);
    return 0;
  }

  endExecution(exec: Execution): void {
    this.inner.endExecution(exec);
  }

  /** Whether the current execution followed the whole plan. */
  followed(): boolean {
    return this.fired === this.plan.length;
  }
}

export interface PlanResult {
  readonly plan: FaultPlan;
  readonly result: ExploreResult;
  /** Executions run for their races that belong to a smaller plan. */
  readonly declined: number;
  /** Plans of one more site: this plan and a site its executions reached. */
  readonly next: FaultPlan[];
}

/**
 * Explores the executions that follow `plan` exactly. `onNext` hears of each plan of one more
 * fault as soon as an execution reaches its site, so that it can be started before this one ends.
 * With `subtree`, only that subtree task of the plan's exploration is run (subtrees.ts).
 */
export function explorePlan(
  program: Program,
  plan: FaultPlan,
  options: ExploreOptions = {},
  onNext?: (next: FaultPlan) => void,
  subtree?: { readonly run: TaskRun; readonly between?: (split: Splittable) => void },
): PlanResult & { readonly end?: TaskEnd; readonly blocking?: readonly string[] } {
  const maxFaults = options.maxFaults ?? 1;
  if (plan.length > maxFaults) throw new Error(`a plan of ${plan.length} faults exceeds the bound of ${maxFaults}`);
  const scheduler = new FaultPlanScheduler(schedulerFor(options.strategy ?? 'dpor', options, new Set(plan.map((s) => s.thread))), plan);
  const more = new Map<string, FaultSite>();
  const accepts = (): boolean => {
    if (!scheduler.followed()) return false;
    if (plan.length < maxFaults) {
      for (const s of scheduler.reached) {
        const key = siteKey(s);
        if (more.has(key)) continue;
        more.set(key, s);
        onNext?.(canonicalPlan([...plan, s]));
      }
    }
    return true;
  };
  const part = subtree ? exploreTask(program, options, scheduler, subtree.run, { accepts, between: subtree.between }) : undefined;
  const r = part ? part.result : exploreWith(program, options, scheduler, accepts);
  const next = [...more.values()].map((s) => canonicalPlan([...plan, s])).sort(comparePlans);
  return { plan: canonicalPlan(plan), result: r, declined: r.declined, next, ...(part ? { end: part.end, blocking: part.blocking } : {}) };
}

/** The plans of one more fault that any of `lists` names, each once, in plan order. */
export function unionOfPlans(lists: readonly (readonly FaultPlan[])[]): FaultPlan[] {
  const byKey = new Map<string, FaultPlan>();
  for (const l of lists) for (const p of l) byKey.set(planKey(p), p);
  return [...byKey.values()].sort(comparePlans);
}

/** Merges the results of plans (in any order) into the result of the whole exploration. */
export function mergePlanResults(results: readonly PlanResult[]): ExploreResult & { readonly declined: number; readonly plans: number } {
  return { ...mergeResults(results.map((p) => ({ ...p.result, declined: p.declined }))), plans: results.length };
}

/** Explores `program` plan by plan in one thread: what the parallel and sharded runs equal. */
export function exploreByPlans(program: Program, options: ExploreOptions = {}): ExploreResult & { readonly declined: number; readonly plans: number } {
  const done: PlanResult[] = [];
  const seen = new Set<string>();
  const queue: FaultPlan[] = [[]];
  seen.add(planKey([]));
  const now = options.now ?? Date.now;
  const deadline = options.timeLimitMs === undefined ? undefined : now() + options.timeLimitMs;
  while (queue.length > 0) {
    const plan = queue.shift()!;
    // The time limit is the whole exploration's: each plan gets what the earlier ones left.
    const left = deadline === undefined ? undefined : Math.max(1, deadline - now());
    const r = explorePlan(program, plan, left === undefined ? options : { ...options, timeLimitMs: left });
    done.push(r);
    for (const p of r.next) {
      const k = planKey(p);
      if (seen.has(k)) continue;
      seen.add(k);
      queue.push(p);
    }
  }
  return mergePlanResults(done);
}
