// Exploration: running a program's executions under a strategy, within limits, and collecting
// what they found. The loop knows no strategy (Shuttle's runner): a Scheduler decides each
// step and each choice; a strategy is one file under strategies/.
//
// Exploration is stateless: every execution starts from a fresh world built by the program's
// setup and follows a prefix of decisions, so the model never needs to be cloned.

import { Collector, type Finding } from './collector.js';
import { Execution, type ExecutionOptions, type Program } from './execution.js';
import { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';
import { Dfs } from './strategies/dfs.js';
import { Pct } from './strategies/pct.js';
import { PreemptionBound } from './strategies/preemption-bound.js';
import { RandomWalk } from './strategies/random.js';
import { ReplayScheduler } from './strategies/replay.js';
import { SourceDpor } from './strategies/source-dpor.js';
import { Symmetry } from './symmetry.js';

export { type Finding } from './collector.js';
export { ReplayMismatch } from './strategies/replay.js';

export type StrategyName = 'dfs' | 'dpor' | 'random' | 'pct';
export const STRATEGIES: readonly StrategyName[] = ['dpor', 'dfs', 'random', 'pct'];

/** Every setting of an exploration, with its default. */
export interface ExploreOptions {
  /** The strategy (default 'dpor'). */
  readonly strategy?: StrategyName;
  /** At most this many injected faults in one execution (default 1). */
  readonly maxFaults?: number;
  /** Stop after this many executions. Default: none for dfs/dpor; for random/pct 1000, or none with a time limit. */
  readonly maxExecutions?: number;
  /** An execution longer than this is a livelock (default 10000). */
  readonly maxSteps?: number;
  /** Stop after this much wall time (default: none). */
  readonly timeLimitMs?: number;
  /** Seed for random and pct (default 1). */
  readonly seed?: number;
  /** PCT's bug depth d (default 3). */
  readonly pctDepth?: number;
  /** random, pct: the share of executions that inject a fault (strategies/fault-target.ts). */
  readonly faultRate?: number;
  /** At most this many preemptions (switches away from a thread that could go on); default none. */
  readonly preemptionBound?: number;
  /**
   * dpor: explore the interleavings of interchangeable threads (ThreadSpec.symmetric) once per
   * permutation of them (default true).
   */
  readonly symmetry?: boolean;
  /** Called on every step (default none). */
  readonly heartbeat?: () => void;
  /** Told after each execution: executions, executions cut short, findings so far. */
  readonly progress?: (explored: number, cutShort: number, findings: number) => void;
  /** Keep the set of final-state summaries reached, for comparing strategies (default false). */
  readonly collectOutcomes?: boolean;
  /** The clock used for the time limit (default Date.now). */
  readonly now?: () => number;
  /** Asked after each execution: true stops the exploration (an interrupted run). */
  readonly interrupted?: () => boolean;
}

/** Why exploration ended: `steps` when it ended, but some execution was cut at the step bound. */
export type StopReason = 'done' | 'executions' | 'time' | 'interrupted' | 'steps';

export interface ExploreResult {
  readonly strategy: StrategyName;
  /** Executions run to their end. */
  readonly explored: number;
  /** Executions cut short because every enabled thread was asleep (redundant). */
  readonly sleepBlocked: number;
  readonly steps: number;
  /** True when the strategy covered everything it covers without a limit or bound. */
  readonly complete: boolean;
  readonly stopReason: StopReason;
  /** True when the preemption bound cut some schedule off. */
  readonly bounded: boolean;
  readonly findings: readonly Finding[];
  readonly outcomes?: readonly string[];
}

/**
 * The scheduler of a strategy, wrapped in the preemption bound when there is one. Threads whose
 * keys are in `distinguished` (those a fault plan names) are in no class of interchangeable ones.
 */
export function schedulerFor(strategy: StrategyName, options: ExploreOptions, distinguished?: ReadonlySet<string>): Scheduler {
  let s: Scheduler;
  switch (strategy) {
    case 'dfs':
      s = new Dfs();
      break;
    case 'dpor':
      s = new SourceDpor(options.symmetry === false ? undefined : new Symmetry(distinguished));
      break;
    case 'random':
      s = new RandomWalk(new Prng(options.seed ?? 1), options.faultRate);
      break;
    case 'pct':
      s = new Pct(new Prng(options.seed ?? 1), options.pctDepth ?? 3, options.faultRate);
      break;
  }
  return options.preemptionBound === undefined ? s : new PreemptionBound(s, options.preemptionBound);
}

/** Runs one execution of `program` under `scheduler`, to its end or until the scheduler abandons it. */
export function runExecution(program: Program, scheduler: Scheduler, options: ExecutionOptions): Execution {
  const exec = new Execution(program, (op, allowed, thread) => scheduler.nextChoice(op, allowed, thread), options);
  while (exec.status === 'running') {
    const tid = scheduler.nextThread(exec, exec.enabled());
    if (tid === undefined) {
      exec.abandon();
      break;
    }
    exec.step(tid);
  }
  scheduler.endExecution(exec);
  return exec;
}

/** Explores `program` under the chosen strategy. Throws ModelError when the model is at fault. */
export function explore(program: Program, options: ExploreOptions = {}): ExploreResult {
  return exploreWith(program, options, schedulerFor(options.strategy ?? 'dpor', options));
}

/**
 * Explores `program` under `scheduler`. Executions that `accepts` turns down are run (their
 * races count) but neither counted nor searched for findings: another exploration owns them.
 * `betweenExecutions` runs after each execution (a subtree task takes in requests, hands out work).
 */
export function exploreWith(
  program: Program,
  options: ExploreOptions,
  scheduler: Scheduler,
  accepts?: (exec: Execution) => boolean,
  betweenExecutions?: () => void,
): ExploreResult & { readonly declined: number } {
  const strategy = options.strategy ?? 'dpor';
  const now = options.now ?? Date.now;
  const start = now();
  const execOptions: ExecutionOptions = { maxSteps: options.maxSteps ?? 10_000, maxFaults: options.maxFaults ?? 1, heartbeat: options.heartbeat, recordTrace: false };
  // A sampling strategy stops at 1000 executions unless it has a time limit to stop it.
  const maxExecutions = options.maxExecutions ?? (scheduler.exhaustive || options.timeLimitMs !== undefined ? Infinity : 1000);
  const collector = new Collector((decisions) => replay(program, decisions, { maxSteps: execOptions.maxSteps, maxFaults: execOptions.maxFaults, extend: true }));
  const collectOutcomes = options.collectOutcomes ?? false;

  let stopReason: StopReason = 'done';
  let declined = 0;
  for (;;) {
    if (!scheduler.newExecution()) break;
    const exec = runExecution(program, scheduler, execOptions);
    if (!accepts || accepts(exec)) collector.add(exec, collectOutcomes);
    else {
      declined++;
      collector.steps += exec.events.length;
    }
    options.progress?.(collector.explored, collector.sleepBlocked, collector.sites);
    betweenExecutions?.();
    const counted = (scheduler.exhaustive ? collector.explored + collector.sleepBlocked : collector.explored) + declined;
    if (counted >= maxExecutions) {
      // An exhaustive strategy that has just run its last execution is done all the same.
      if (!scheduler.exhaustive || scheduler.newExecution()) stopReason = 'executions';
      break;
    }
    if (options.timeLimitMs !== undefined && now() - start >= options.timeLimitMs) {
      if (!scheduler.exhaustive || scheduler.newExecution()) stopReason = 'time';
      break;
    }
    if (options.interrupted?.()) {
      if (!scheduler.exhaustive || scheduler.newExecution()) stopReason = 'interrupted';
      break;
    }
  }

  // An execution cut at the step bound (reported as a livelock) leaves what follows it unexplored.
  if (stopReason === 'done' && collector.stepBounded > 0) stopReason = 'steps';
  return {
    strategy,
    explored: collector.explored,
    sleepBlocked: collector.sleepBlocked,
    declined,
    steps: collector.steps,
    complete: scheduler.exhaustive && stopReason === 'done' && !scheduler.bounded,
    stopReason,
    bounded: scheduler.bounded,
    findings: collector.findings(),
    outcomes: collectOutcomes ? [...collector.outcomes].sort() : undefined,
  };
}

/**
 * Runs the one execution that `decisions` describes. With `extend`, decisions that run out
 * before the execution ends (an execution cut short as redundant) are continued with the
 * first enabled thread and the first value of each choice, so that the result is a whole
 * execution whose decisions replay strictly.
 */
export function replay(program: Program, decisions: readonly number[], options: { maxSteps?: number; maxFaults?: number; heartbeat?: () => void; extend?: boolean; captureState?: boolean } = {}): Execution {
  const scheduler = new ReplayScheduler(decisions, options.extend ?? false);
  scheduler.newExecution();
  return runExecution(program, scheduler, { maxSteps: options.maxSteps ?? 10_000, maxFaults: options.maxFaults ?? Infinity, heartbeat: options.heartbeat, captureState: options.captureState ?? false });
}
