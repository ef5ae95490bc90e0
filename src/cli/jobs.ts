// The work the command hands to worker threads, and what comes back. Everything here is plain
// data, so that it crosses thread boundaries and prints as JSON.

import type { StrategyName } from '../engine/explore.js';
import type { TraceStep } from '../engine/execution.js';
import type { ScenarioRef } from './catalog.js';

export interface CheckSettings {
  readonly strategy: StrategyName;
  readonly maxFaults: number;
  readonly maxExecutions?: number;
  readonly maxSteps: number;
  readonly timeLimitMs?: number;
  readonly seed: number;
  readonly pctDepth: number;
  readonly preemptionBound?: number;
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

export interface ReplayJob {
  readonly kind: 'replay';
  readonly token: string;
  readonly heartbeat: Int32Array;
}

export type Job = CheckJob | ReplayJob;

export interface FindingReport {
  readonly kind: string;
  readonly title: string;
  readonly thread: string;
  readonly stack: readonly string[];
  readonly count: number;
  readonly replay: string;
  readonly trace: readonly TraceStep[];
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

export function isJobError(x: JobOutcome): x is JobError {
  return 'error' in x;
}
