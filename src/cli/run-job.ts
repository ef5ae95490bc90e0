// Runs one job: build the scenario's program for a tree and explore it, or replay a token.
// Runs inside a worker thread (see worker.ts), or in the calling thread for tests.

import { explore, replay, ReplayMismatch } from '../engine/explore.js';
import { ModelError, type Program } from '../engine/execution.js';
import { BadToken, decodeToken, encodeToken } from '../engine/token.js';
import { loadScenario, oneLine, resolveTree, type ScenarioRef, UsageError } from './catalog.js';
import type { CheckJob, CheckResult, FindingReport, JobOutcome, ReplayJob } from './jobs.js';

export async function runJob(job: CheckJob | ReplayJob): Promise<JobOutcome> {
  try {
    return job.kind === 'check' ? await runCheck(job) : await runReplay(job);
  } catch (e) {
    if (e instanceof UsageError || e instanceof BadToken || e instanceof ReplayMismatch) return { error: e.message };
    if (e instanceof ModelError) return { error: `model error: ${e.message}` };
    return { error: `model error: ${oneLine(e)}` };
  }
}

async function programFor(ref: ScenarioRef, tree: string, params: Readonly<Record<string, number>>): Promise<{ name: string; program: Program }> {
  const s = await loadScenario(ref);
  if (!s.treeless) resolveTree(tree);
  let program: Program;
  try {
    program = s.build(tree, params);
  } catch (e) {
    throw new ModelError(`scenario ${s.name} failed to build: ${oneLine(e)}`);
  }
  return { name: s.name, program };
}

async function runCheck(job: CheckJob): Promise<CheckResult> {
  const { name, program } = await programFor(job.scenario, job.tree, job.params);
  const s = job.settings;
  const beat = (): void => {
    Atomics.add(job.heartbeat, 0, 1);
  };
  const r = explore(program, {
    strategy: s.strategy,
    maxFaults: s.maxFaults,
    maxExecutions: s.maxExecutions,
    maxSteps: s.maxSteps,
    timeLimitMs: s.timeLimitMs,
    seed: s.seed,
    pctDepth: s.pctDepth,
    preemptionBound: s.preemptionBound,
    heartbeat: beat,
  });
  const findings: FindingReport[] = r.findings.map((f) => ({
    kind: f.kind,
    title: f.title,
    thread: f.thread,
    stack: f.stack,
    count: f.count,
    trace: f.trace,
    replay: encodeToken({ program: { scenario: job.scenario, tree: job.tree, params: job.params }, maxFaults: s.maxFaults, maxSteps: s.maxSteps, decisions: f.decisions }),
  }));
  return {
    scenario: name,
    tree: job.tree,
    params: job.params,
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
  const exec = replay(program, rec.decisions, { maxFaults: rec.maxFaults ?? Infinity, maxSteps: rec.maxSteps, heartbeat: () => Atomics.add(job.heartbeat, 0, 1) });
  // Findings of one execution, grouped as check groups them.
  const bySite = new Map<string, FindingReport>();
  for (const f of exec.findings) {
    if (bySite.has(f.site)) continue;
    bySite.set(f.site, { kind: f.kind, title: f.title, thread: f.thread, stack: f.stack, count: 1, trace: exec.trace.filter((s) => s.index <= f.traceLength), replay: job.token.trim() });
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

function isRef(x: unknown): x is ScenarioRef {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return (r.kind === 'library' && typeof r.name === 'string') || (r.kind === 'file' && typeof r.path === 'string');
}
