// The work the command hands to worker threads, and what comes back. Everything here is plain
// data, so that it crosses thread boundaries and prints as JSON (and a plan job's port, which is
// transferred).

import type { MessagePort } from 'node:worker_threads';
import type { ExploreResult, StrategyName } from '../engine/explore.js';
import type { FaultPlan } from '../engine/fault-plans.js';
import type { Delivery, SubtreeTask, TaskEnd, TaskRun } from '../engine/subtrees.js';
import type { TraceStep } from '../engine/execution.js';
import type { ModelState } from '../engine/state.js';
import type { ScenarioRef } from './catalog.js';
import type { TriageLabel } from '../report/triage.js';

export interface CheckSettings {
  readonly strategy: StrategyName;
  readonly maxFaults: number;
  readonly maxExecutions?: number;
  readonly maxSteps: number;
  readonly timeLimitMs?: number;
  /** When the time limit runs out (Date.now() scale), for the plans of one cell. */
  readonly deadline?: number;
  readonly seed: number;
  readonly pctDepth: number;
  readonly faultRate?: number;
  readonly preemptionBound?: number;
  /** false: no symmetry reduction (--no-symmetry). */
  readonly symmetry?: boolean;
}

export interface CheckJob {
  readonly kind: 'check';
  readonly scenario: ScenarioRef;
  readonly tree: string;
  readonly params: Readonly<Record<string, number>>;
  readonly settings: CheckSettings;
  /** Incremented by the worker as the model makes progress; watched by the supervisor. */
  readonly heartbeat: Int32Array;
}

/**
 * One fault plan of a check (see engine/fault-plans.ts): the unit a worker explores. A check
 * of a cell is its plans, run on any workers and merged in plan order.
 */
export interface PlanJob {
  readonly kind: 'plan';
  readonly scenario: ScenarioRef;
  readonly tree: string;
  readonly params: Readonly<Record<string, number>>;
  readonly settings: CheckSettings;
  readonly plan: FaultPlan;
  readonly heartbeat: Int32Array;
  /**
   * The job's line to the command: the worker posts each plan of one more fault as soon as it
   * is reached, and each subtree task it hands out; it takes in the requests of its handed-out
   * tasks that are done (PlanMessage, ToPlanMessage).
   */
  readonly reached?: MessagePort;
  /** Only this subtree task of the plan's exploration (engine/subtrees.ts). */
  readonly subtree?: TaskRun;
  /** [0]: how many workers are idle; a running task hands a subtree out while it is above 0. */
  readonly idle?: Int32Array;
}

/** From a plan job to the command. */
export type PlanMessage = { readonly kind: 'reached'; readonly plan: FaultPlan } | { readonly kind: 'handed-out'; readonly task: SubtreeTask };

/** From the command to a plan job: the requests of a task it handed out, now done. */
export interface ToPlanMessage {
  readonly kind: 'deliver';
  readonly delivery: Delivery;
}

/** What a plan's exploration found, and the plans of one more fault that it reached. */
export interface PlanOutcome {
  readonly scenario: string;
  readonly plan: FaultPlan;
  readonly result: ExploreResult;
  readonly declined: number;
  readonly next: readonly FaultPlan[];
  /** For a subtree task: how its run ended, what its round waits for, and the tasks it handed out. */
  readonly end?: TaskEnd;
  readonly blocking?: readonly string[];
  readonly handedOut?: readonly SubtreeTask[];
  /** The patch ids the model asked patched() about (kernel/machine.ts askedWhile), sorted. */
  readonly patchesAsked?: readonly string[];
}

export interface ReplayJob {
  readonly kind: 'replay';
  readonly token: string;
  /** Capture the model's state after setup and every step (for the trace viewer and --trace-out). */
  readonly states?: boolean;
  readonly heartbeat: Int32Array;
}

export type Job = CheckJob | PlanJob | ReplayJob;

export interface FindingReport {
  readonly kind: string;
  /** The title as syzbot forms it: "KASAN: use-after-free Read in pci_alloc_p2pmem" (report/titles.ts). */
  readonly title: string;
  /** The model's line: what was hit, which object, who allocated it. */
  readonly description: string;
  /** The catalogue entry it is (history/known-bugs.ts), if any. */
  readonly bug?: string;
  /** known: upstream has fixed it (or removed it, or it is the kernel's intended warning); new: otherwise. */
  readonly origin: 'known' | 'new';
  readonly thread: string;
  /** The thread's id, the PID its kernel report shows. */
  readonly tid?: number;
  readonly stack: readonly string[];
  readonly count: number;
  /** The faults injected in the kept interleaving: the fewest of any execution that reached it. */
  readonly faults: number;
  /** How it was reached (report/triage.ts). */
  readonly label: TriageLabel;
  /** The waiver that accepts it (--waivers), as written. */
  readonly waived?: string;
  /** More of the kernel's report, line by line (KASAN: who allocated and who freed the object, at which step). */
  readonly details: readonly string[];
  readonly replay: string;
  readonly trace: readonly TraceStep[];
  /** The state after setup, when its replay captured the model's state (ReplayJob.states; then every step has its state too). */
  readonly initialState?: ModelState;
}

export interface CheckResult {
  readonly scenario: string;
  readonly tree: string;
  readonly params: Readonly<Record<string, number>>;
  readonly status: 'ok' | 'finding' | 'incomplete';
  readonly strategy: StrategyName;
  readonly explored: number;
  readonly sleepBlocked: number;
  readonly steps: number;
  readonly complete: boolean;
  readonly stopReason: string;
  readonly findings: readonly FindingReport[];
}

/** A job that could not run: bad input, or a fault of the model. */
export interface JobError {
  readonly error: string;
}

export type JobOutcome = CheckResult | JobError;

export type PlanJobOutcome = PlanOutcome | JobError;

export function isJobError(x: JobOutcome | PlanJobOutcome): x is JobError {
  return 'error' in x;
}
