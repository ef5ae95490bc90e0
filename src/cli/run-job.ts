// Runs one job: build the scenario's program for a tree and explore it (whole, or one fault
// plan of it), or replay a token.
// Runs inside a worker thread (see worker.ts), or in the calling thread for tests.

import { explore, type ExploreOptions, type ExploreResult, replay, ReplayMismatch } from '../engine/explore.js';
import { explorePlan } from '../engine/fault-plans.js';
import { childTask, type Splittable, type SubtreeTask } from '../engine/subtrees.js';
import { receiveMessageOnPort } from 'node:worker_threads';
import { ModelError, type Program } from '../engine/execution.js';
import { BadToken, decodeToken, encodeToken } from '../engine/token.js';
import { triageLabel } from '../report/triage.js';
import { findingTitle } from '../report/titles.js';
import { knownBug, origin } from '../history/known-bugs.js';
import { loadScenario, oneLine, resolveTree, type ScenarioRef, UsageError } from './catalog.js';
import type { CheckJob, CheckResult, CheckSettings, FindingReport, JobOutcome, PlanJob, PlanJobOutcome, PlanMessage, PlanOutcome, ReplayJob, ToPlanMessage } from './jobs.js';
import { askedWhile } from '../kernel/machine.js';
import type { Scenario } from '../../scenarios/scenario.js';

export async function runJob(job: CheckJob | PlanJob | ReplayJob): Promise<JobOutcome | PlanJobOutcome> {
  try {
    return job.kind === 'check' ? await runCheck(job) : job.kind === 'plan' ? await runPlan(job) : await runReplay(job);
  } catch (e) {
    if (e instanceof UsageError || e instanceof BadToken || e instanceof ReplayMismatch) return { error: e.message };
    if (e instanceof ModelError) return { error: `model error: ${e.message}` };
    return { error: `model error: ${oneLine(e)}` };
  }
}

async function programFor(ref: ScenarioRef, tree: string, params: Readonly<Record<string, number>>): Promise<{ name: string; program: Program }> {
  return buildProgram(await loadScenario(ref), tree, params);
}

function buildProgram(s: Scenario, tree: string, params: Readonly<Record<string, number>>): { name: string; program: Program } {
  if (!s.treeless) resolveTree(tree);
  let program: Program;
  try {
    program = s.build(tree, params);
  } catch (e) {
    throw new ModelError(`scenario ${s.name} failed to build: ${oneLine(e)}`);
  }
  return { name: s.name, program };
}

function exploreOptions(s: CheckSettings, heartbeat: Int32Array): ExploreOptions {
  return {
    strategy: s.strategy,
    maxFaults: s.maxFaults,
    maxExecutions: s.maxExecutions,
    maxSteps: s.maxSteps,
    timeLimitMs: s.deadline !== undefined ? Math.max(1, s.deadline - Date.now()) : s.timeLimitMs,
    seed: s.seed,
    pctDepth: s.pctDepth,
    ...(s.faultRate !== undefined ? { faultRate: s.faultRate } : {}),
    preemptionBound: s.preemptionBound,
    ...(s.symmetry === false ? { symmetry: false } : {}),
    heartbeat: () => {
      Atomics.add(heartbeat, 0, 1);
    },
    interrupted: () => Atomics.load(heartbeat, 2) === 1,
    progress: (explored, cutShort, findings) => {
      Atomics.store(heartbeat, 3, explored);
      Atomics.store(heartbeat, 4, cutShort);
      Atomics.store(heartbeat, 5, findings);
    },
  };
}

async function runCheck(job: CheckJob): Promise<CheckResult> {
  const { name, program } = await programFor(job.scenario, job.tree, job.params);
  return cellResult(job, name, explore(program, exploreOptions(job.settings, job.heartbeat)));
}

/** Executions a subtree task's run explores before it hands any of its work out. */
const HAND_OUT_AFTER = 128;

async function runPlan(job: PlanJob): Promise<PlanJobOutcome> {
  const scenario = await loadScenario(job.scenario);
  // The patch ids the model asks about, building the program and exploring it.
  const { value, asked } = askedWhile(() => explorePlanJob(job, scenario));
  return { ...value, patchesAsked: asked };
}

function explorePlanJob(job: PlanJob, scenario: Scenario): PlanOutcome {
  const { name, program } = buildProgram(scenario, job.tree, job.params);
  const port = job.reached;
  const handedOut: SubtreeTask[] = [];
  let executions = 0;
  const subtree = job.subtree && {
    run: job.subtree,
    between: (split: Splittable): void => {
      executions++;
      // Requests of handed-out tasks that are done.
      for (let m = port && receiveMessageOnPort(port); m; m = port && receiveMessageOnPort(port)) {
        const msg = m.message as ToPlanMessage;
        split.merge(msg.delivery.from, msg.delivery.requests);
      }
      // A subtree for an idle worker, claimed from the count so that one worker gets one.
      // A run hands work out only once it has some of its own to go on with: a subtree task's
      // run costs a job's start, and one that has just started often has little left to share.
      const idle = job.idle;
      if (!idle || !port || executions < HAND_OUT_AFTER) return;
      const n = Atomics.load(idle, 0);
      if (n <= 0 || Atomics.compareExchange(idle, 0, n, n - 1) !== n) return;
      const task = split.handOut(childTask(job.subtree!.task.id, job.subtree!.task.handedOut + handedOut.length));
      if (!task) {
        Atomics.add(idle, 0, 1);
        return;
      }
      handedOut.push(task);
      port.postMessage({ kind: 'handed-out', task } satisfies PlanMessage);
    },
  };
  const r = explorePlan(program, job.plan, exploreOptions(job.settings, job.heartbeat), port && ((next) => port.postMessage({ kind: 'reached', plan: next } satisfies PlanMessage)), subtree);
  port?.close();
  return { scenario: name, plan: r.plan, result: r.result, declined: r.declined, next: r.next, ...(r.end ? { end: r.end, blocking: r.blocking ?? [], handedOut } : {}) };
}

/** The result of a cell, from the exploration of the whole of it (or its plans merged). */
export function cellResult(cell: Pick<CheckJob, 'scenario' | 'tree' | 'params' | 'settings'>, name: string, r: ExploreResult): CheckResult {
  const s = cell.settings;
  const findings: FindingReport[] = r.findings.map((f) => ({
    ...identify(f.kind, f.title, f.stack, f.details),
    thread: f.thread,
    ...(f.tid !== undefined ? { tid: f.tid } : {}),
    stack: f.stack,
    count: f.count,
    faults: f.faults,
    label: triageLabel(f),
    details: f.details,
    trace: f.trace,
    replay: encodeToken({ program: { scenario: cell.scenario, tree: cell.tree, params: cell.params }, maxFaults: s.maxFaults, maxSteps: s.maxSteps, decisions: f.decisions }),
  }));
  return {
    scenario: name,
    tree: cell.tree,
    params: cell.params,
    status: findings.length > 0 ? 'finding' : r.complete ? 'ok' : 'incomplete',
    strategy: r.strategy,
    explored: r.explored,
    sleepBlocked: r.sleepBlocked,
    steps: r.steps,
    complete: r.complete,
    stopReason: r.stopReason,
    findings,
  };
}

async function runReplay(job: ReplayJob): Promise<CheckResult> {
  const rec = decodeToken(job.token);
  const p = rec.program as { scenario?: unknown; tree?: unknown; params?: unknown };
  if (!isRef(p.scenario) || typeof p.tree !== 'string' || typeof p.params !== 'object' || p.params === null) {
    throw new BadToken('replay token is corrupted (unexpected program)');
  }
  const params = p.params as Record<string, number>;
  const { name, program } = await programFor(p.scenario, p.tree, params);
  const exec = replay(program, rec.decisions, { maxFaults: rec.maxFaults ?? Infinity, maxSteps: rec.maxSteps, heartbeat: () => Atomics.add(job.heartbeat, 0, 1), captureState: job.states ?? false });
  // Findings of one execution, grouped as check groups them.
  const bySite = new Map<string, FindingReport>();
  for (const f of exec.findings) {
    if (bySite.has(f.site)) continue;
    const trace = exec.trace.filter((s) => s.index <= f.traceLength);
    bySite.set(f.site, { ...identify(f.kind, f.title, f.stack, f.details ?? []), thread: f.thread, ...(f.tid !== undefined ? { tid: f.tid } : {}), stack: f.stack, count: 1, faults: f.faults, label: triageLabel({ ...f, trace }), details: f.details ?? [], trace, replay: job.token.trim(), ...(exec.initialState ? { initialState: exec.initialState } : {}) });
  }
  const findings = [...bySite.values()];
  return {
    scenario: name,
    tree: p.tree,
    params,
    status: findings.length > 0 ? 'finding' : 'ok',
    strategy: 'dfs',
    explored: 1,
    sleepBlocked: 0,
    steps: exec.events.length,
    complete: true,
    stopReason: 'replay',
    findings,
  };
}

/** What a finding is called and whether it is known: its syzbot-style title and catalogue entry. */
function identify(kind: string, description: string, stack: readonly string[], details: readonly string[]): Pick<FindingReport, 'kind' | 'title' | 'description' | 'bug' | 'origin'> {
  const bug = knownBug(kind, description, stack);
  return { kind, title: findingTitle(kind, description, stack, details), description, ...(bug ? { bug: bug.id } : {}), origin: origin(bug) };
}

function isRef(x: unknown): x is ScenarioRef {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (r.kind === 'library' && typeof r.name === 'string') || (r.kind === 'file' && typeof r.path === 'string');
}
