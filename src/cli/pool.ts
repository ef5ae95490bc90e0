// Runs jobs on a pool of worker threads (piscina), one per core, under a watchdog: a job whose
// model stops making progress (a loop that never yields to the engine) is cancelled, which
// ends its worker thread, and reported as a model error.
//
// The check of a cell by an exhaustive strategy is split into its fault plans (see
// engine/fault-plans.ts): the plan without faults first, then each plan it reaches, as jobs of
// their own that any worker takes; their results merge (in any order). When a worker is idle,
// a running plan hands a subtree of its exploration to it (engine/subtrees.ts), so that one
// big plan keeps every core busy. How many workers there are changes how long a check takes,
// never what it finds.

import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { type FaultPlan, mergePlanResults, type PlanResult, planKey, unionOfPlans } from '../engine/fault-plans.js';
import { mergeResults } from '../engine/merge.js';
import { SubtreeCoordinator, type TaskRun } from '../engine/subtrees.js';
import type { CheckJob, Job, JobOutcome, PlanJob, PlanJobOutcome, PlanMessage, PlanOutcome, ReplayJob, ToPlanMessage } from './jobs.js';
import { isJobError } from './jobs.js';
import { cellResult } from './run-job.js';
import { retarget, sourceKey } from './same-source.js';
import { answersAlike, familyKey, probeAsked } from './same-answers.js';

export type JobSpec = Omit<CheckJob, 'heartbeat'> | Omit<ReplayJob, 'heartbeat'>;
type AnySpec = JobSpec | Omit<PlanJob, 'heartbeat'>;

/** Ctrl-C: every running job stops after its current execution, and no new plan starts. */
const interruption = { requested: false, running: new Set<Int32Array>() };

/** Asks every job of this process, running or to come, to stop and return what it found. */
export function interruptJobs(): void {
  interruption.requested = true;
  for (const heartbeat of interruption.running) Atomics.store(heartbeat, 2, 1);
}

export interface RunningJob {
  readonly label: string;
  /** When a worker started it (Date.now()). */
  readonly since: number;
  readonly explored: number;
  readonly cutShort: number;
  readonly findings: number;
}

export interface PoolOptions {
  /** A job whose model takes no step for this long is stuck (default 20 s). */
  readonly stallMs?: number;
  /** Worker threads (default: the machine's cores). */
  readonly threads?: number;
  /** Counted as the jobs run: subtree tasks handed out, and cells that took another's result (for tests and the bench). */
  readonly stats?: { subtreeTasks: number; reused?: number };
}

export async function runJobs(specs: readonly JobSpec[], options: PoolOptions = {}, onDone?: (i: number, r: JobOutcome) => void): Promise<JobOutcome[]> {
  const stallMs = options.stallMs ?? 20_000;
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const pool = new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    maxThreads: threads,
    minThreads: 0,
    idleTimeout: 1000,
  });
  // How many workers have nothing to do: the jobs given to the pool and not yet done, queued
  // ones included, against its threads.
  const idle = new Int32Array(new SharedArrayBuffer(4));
  let active = 0;
  const run = async (spec: AnySpec, transfer?: MessagePort): Promise<JobOutcome | PlanJobOutcome> => {
    active++;
    Atomics.store(idle, 0, Math.max(0, threads - active));
    try {
      return await watched(pool, spec, stallMs, transfer);
    } finally {
      active--;
      Atomics.store(idle, 0, Math.max(0, threads - active));
    }
  };
  try {
    // A cell whose tree is the same point of the series as an earlier cell's takes that cell's result.
    const firstOf = new Map<string, number>();
    const outcomes: Promise<JobOutcome>[] = [];
    // A cell whose first execution asks the patches an earlier cell's first execution asked,
    // and answers them alike, waits for that cell and takes its result if its whole
    // exploration was asked nothing the two trees answer differently (same-answers.ts).
    const families = new Map<string, { tree: string; probe: readonly string[] | undefined; done: Promise<CellRun> }[]>();
    specs.forEach((spec, i) => {
      const key = spec.kind === 'check' ? sourceKey(spec) : undefined;
      const first = key === undefined ? undefined : firstOf.get(key);
      if (key !== undefined && first === undefined) firstOf.set(key, i);
      const byPlans = spec.kind === 'check' && (spec.settings.strategy === 'dpor' || spec.settings.strategy === 'dfs');
      const family = spec.kind === 'check' && byPlans && first === undefined ? familyKey(spec) : undefined;
      let outcome: Promise<JobOutcome>;
      if (first !== undefined && spec.kind === 'check') outcome = outcomes[first]!.then((r) => (isJobError(r) ? r : retarget(r, spec)));
      else if (family !== undefined && spec.kind === 'check') {
        const members = families.get(family) ?? [];
        families.set(family, members);
        const probe = probeAsked(spec);
        const leader = probe && members.find((m) => m.probe && answersAlike(m.probe, m.tree, spec.tree));
        const check = (): Promise<CellRun> => checkByPlans(spec, run, idle, options.stats);
        const done = leader
          ? leader.done.then((r) => {
              if (!r.asked || isJobError(r.outcome) || !r.outcome.complete || !answersAlike(r.asked, leader.tree, spec.tree)) return check();
              if (options.stats) options.stats.reused = (options.stats.reused ?? 0) + 1;
              return { outcome: retarget(r.outcome, spec), asked: r.asked };
            })
          : check();
        members.push({ tree: spec.tree, probe, done });
        outcome = done.then((r) => r.outcome);
      } else {
        outcome = byPlans && spec.kind === 'check' ? checkByPlans(spec, run, idle, options.stats).then((r) => r.outcome) : (run(spec) as Promise<JobOutcome>);
      }
      outcomes.push(
        outcome.then((r) => {
          onDone?.(i, r);
          return r;
        }),
      );
    });
    return await Promise.all(outcomes);
  } finally {
    await pool.destroy();
  }
}

type Run = (s: AnySpec, transfer?: MessagePort) => Promise<JobOutcome | PlanJobOutcome>;

/** A cell's check, and every patch id its model asked about. */
interface CellRun {
  readonly outcome: JobOutcome;
  readonly asked?: ReadonlySet<string>;
}

/**
 * Checks one cell plan by plan. With an execution limit the plans run one after another, each
 * with what the earlier ones left of the limit, so that where the limit stops does not depend
 * on the workers; otherwise every plan a running plan reaches is started as soon as it is
 * reached, and a plan's exploration is split into subtree tasks while workers are idle. The
 * plans are the same either way, and their results merge, in any order.
 */
async function checkByPlans(spec: Omit<CheckJob, 'heartbeat'>, run: Run, idle: Int32Array, stats?: { subtreeTasks: number }): Promise<CellRun> {
  const asked = new Set<string>();
  const outcome = await checkPlans(spec, run, idle, asked, stats);
  return { outcome, asked };
}

async function checkPlans(spec: Omit<CheckJob, 'heartbeat'>, run: Run, idle: Int32Array, asked: Set<string>, stats?: { subtreeTasks: number }): Promise<JobOutcome> {
  const s = spec.settings;
  const settings = s.timeLimitMs !== undefined ? { ...s, deadline: Date.now() + s.timeLimitMs } : s;
  const done: PlanResult[] = [];
  const seen = new Set<string>([planKey([])]);
  let name = '';
  let error: string | undefined;
  let left = s.maxExecutions;
  const planJob = (plan: FaultPlan): Omit<PlanJob, 'heartbeat'> => ({ kind: 'plan', scenario: spec.scenario, tree: spec.tree, params: spec.params, settings: left === undefined ? settings : { ...settings, maxExecutions: left }, plan });
  const explorePlan = async (plan: FaultPlan): Promise<void> => {
    if (error !== undefined || left === 0 || interruption.requested) return;
    // Without a limit, each plan a running plan reaches starts at once, on another worker,
    // while the plan that reached it goes on.
    const started: Promise<void>[] = [];
    const start = (q: FaultPlan): void => {
      if (seen.has(planKey(q))) return;
      seen.add(planKey(q));
      started.push(explorePlan(q));
    };
    if (left === undefined) {
      const r = await exploreSplit(planJob(plan), plan.length < s.maxFaults ? start : undefined, run, idle, stats);
      if ('error' in r) error ??= r.error;
      else {
        for (const id of r.asked) asked.add(id);
        name = r.scenario;
        done.push(r.result);
        for (const q of r.result.next) start(q);
      }
      await Promise.all(started);
      return;
    }
    const r = await run(planJob(plan));
    if (isJobError(r)) {
      error ??= r.error;
      return;
    }
    const p = r as PlanOutcome;
    for (const id of p.patchesAsked ?? []) asked.add(id);
    name = p.scenario;
    done.push({ plan: p.plan, result: p.result, declined: p.declined, next: [...p.next] });
    left = Math.max(0, left - p.result.explored - p.result.sleepBlocked - p.declined);
    const fresh = p.next.filter((q) => !seen.has(planKey(q)));
    for (const q of fresh) seen.add(planKey(q));
    for (const q of fresh) await explorePlan(q);
  };
  await explorePlan([]);
  if (error !== undefined) return { error };
  const merged = mergePlanResults(done);
  // A plan that was never run because the limit ran out, or the run was interrupted, leaves
  // the check incomplete.
  const unrun = done.length === 0 || done.some((d) => d.next.some((q) => !done.some((x) => planKey(x.plan) === planKey(q))));
  if (unrun && interruption.requested) {
    const scenario = name || (spec.scenario.kind === 'library' ? spec.scenario.name : spec.scenario.path);
    return cellResult(spec, scenario, { ...merged, complete: false, stopReason: 'interrupted' });
  }
  return cellResult(spec, name, unrun && left === 0 ? { ...merged, complete: false, stopReason: 'executions' } : merged);
}

/**
 * Explores one plan as subtree tasks: the whole tree first, and each subtree a running task
 * hands out for an idle worker, each task run as a job of its own (engine/subtrees.ts). The
 * result is the merge of the tasks' results, the same as one job exploring the plan.
 */
async function exploreSplit(
  job: Omit<PlanJob, 'heartbeat'>,
  reached: ((q: FaultPlan) => void) | undefined,
  run: Run,
  idle: Int32Array,
  stats?: { subtreeTasks: number },
): Promise<{ scenario: string; result: PlanResult; asked: readonly string[] } | { error: string }> {
  const parts: PlanOutcome[] = [];
  const ports = new Map<string, MessagePort>();
  const startedTasks = new Set<string>();
  const runs: Promise<void>[] = [];
  let error: string | undefined;
  const coordinator: SubtreeCoordinator = new SubtreeCoordinator({
    start: (r) => {
      startedTasks.add(r.task.id);
      runs.push(runTask(r));
    },
    deliver: (to, delivery) => ports.get(to)?.postMessage({ kind: 'deliver', delivery } satisfies ToPlanMessage),
  });
  const handedOut = (task: TaskRun['task']): void => {
    if (startedTasks.has(task.id) || error !== undefined) return;
    if (stats) stats.subtreeTasks++;
    coordinator.handedOut(task);
  };
  const runTask = async (r: TaskRun): Promise<void> => {
    const channel = new MessageChannel();
    ports.set(r.task.id, channel.port1);
    channel.port1.on('message', (m: PlanMessage) => (m.kind === 'reached' ? reached?.(m.plan) : handedOut(m.task)));
    const out = await run({ ...job, reached: channel.port2, subtree: r, idle }, channel.port2);
    channel.port1.close();
    ports.delete(r.task.id);
    if (isJobError(out)) {
      error ??= out.error;
      return;
    }
    const p = out as PlanOutcome;
    parts.push(p);
    // What was still on its way when the port closed.
    for (const q of p.next) reached?.(q);
    for (const t of p.handedOut ?? []) handedOut(t);
    coordinator.ended(r.task.id, p.end!, p.blocking ?? []);
  };
  coordinator.begin();
  // Runs start more runs; wait until none is left.
  for (let n = 0; n < runs.length; ) {
    const batch = runs.slice(n);
    n = runs.length;
    await Promise.all(batch);
  }
  if (error !== undefined) return { error };
  if (!coordinator.done) return { error: `model error: the subtree tasks of a plan were left waiting (${coordinator.waitingTasks})` };
  const result = mergeResults(parts.map((p) => ({ ...p.result, declined: p.declined })));
  const asked = new Set(parts.flatMap((p) => p.patchesAsked ?? []));
  return { scenario: parts[0]!.scenario, result: { plan: parts[0]!.plan, result: result, declined: result.declined, next: unionOfPlans(parts.map((p) => p.next)) }, asked: [...asked] };
}

async function watched(pool: Piscina, spec: AnySpec, stallMs: number, transfer?: MessagePort): Promise<JobOutcome | PlanJobOutcome> {
  // [0]: steps taken by the model; [1]: set when a worker picks the job up; [2]: set to stop it;
  // [3..5]: executions, executions cut short, findings so far (for the live status).
  const heartbeat = new Int32Array(new SharedArrayBuffer(24));
  const status = { label: spec.kind === 'plan' && spec.plan.length > 0 ? `${describe(spec)} (a plan of ${spec.plan.length} fault${spec.plan.length > 1 ? 's' : ''})` : describe(spec), heartbeat, since: 0 };
  running.add(status);
  if (interruption.requested) Atomics.store(heartbeat, 2, 1);
  interruption.running.add(heartbeat);
  const job = { ...spec, heartbeat } as Job;
  const ctl = new AbortController();
  let last = 0;
  let lastChange = -1;
  const watch = setInterval(() => {
    if (Atomics.load(heartbeat, 1) === 0) return; // still queued
    const now = Date.now();
    if (status.since === 0) status.since = now;
    const v = Atomics.load(heartbeat, 0);
    if (lastChange < 0 || v !== last) {
      last = v;
      lastChange = now;
    } else if (now - lastChange > stallMs) {
      ctl.abort();
    }
  }, 250);
  try {
    return (await pool.run(job, { signal: ctl.signal, transferList: transfer ? [transfer] : undefined })) as JobOutcome | PlanJobOutcome;
  } catch (e) {
    return ctl.signal.aborted
      ? { error: `model error: ${describe(spec)} made no progress for ${Math.round(stallMs / 1000)} s (a loop that never yields to the engine?)` }
      : { error: `model error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  } finally {
    clearInterval(watch);
    interruption.running.delete(heartbeat);
    running.delete(status);
  }
}

/** The jobs a worker is running now, for the live status (live.ts). */
const running = new Set<{ readonly label: string; readonly heartbeat: Int32Array; since: number }>();

export function runningJobs(): RunningJob[] {
  return [...running].filter((j) => j.since > 0).map((j) => ({ label: j.label, since: j.since, explored: Atomics.load(j.heartbeat, 3), cutShort: Atomics.load(j.heartbeat, 4), findings: Atomics.load(j.heartbeat, 5) }));
}

function describe(spec: AnySpec): string {
  if (spec.kind === 'replay') return 'the replayed execution';
  const name = spec.scenario.kind === 'library' ? spec.scenario.name : spec.scenario.path;
  return `scenario ${name}${spec.tree === '-' ? '' : ` on ${spec.tree}`}`;
}
