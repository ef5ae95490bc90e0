#!/usr/bin/env node
// The zonedev command: check, replay, bisect, list, merge. Exit status: 0 complete and no
// findings, 1 findings, 2 bad usage or bad input (one line on stderr, never a stack trace),
// 3 incomplete with nothing found (a limit reached is not a pass), 130 interrupted (what was
// found so far is printed).

import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SCENARIOS } from '../../scenarios/index.js';
import type { Scenario } from '../../scenarios/scenario.js';
import { STRATEGIES, type StrategyName } from '../engine/explore.js';
import { DEFAULT_FAULT_RATE } from '../engine/strategies/fault-target.js';
import { EXAMPLES } from '../examples/scenarios.js';
import { SERIES, WHAT_IF } from '../history/patches.js';
import { seriesPoints, TREES } from '../history/trees.js';
import { htmlReport } from '../report/html.js';
import { junitReport } from '../report/junit.js';
import { chromeTrace } from '../report/perfetto.js';
import { withStates } from './states.js';
import { resultsDocument } from '../report/json.js';
import { findingDetail, findingsList, findingSummary, groupFindings, matrix } from '../report/text.js';
import { bisect, bisectText } from './bisect.js';
import { decodeToken } from '../engine/token.js';
import { bugKey } from '../history/known-bugs.js';
import { mailReport } from '../report/mail.js';
import { applies, loadScenario, oneLine, refFor, resolveParams, resolveTree, type ScenarioRef, treesFor, UsageError } from './catalog.js';
import { type CheckResult, type CheckSettings, isJobError, type JobOutcome } from './jobs.js';
import { mergeShards } from './merge.js';
import { interruptJobs, type JobSpec, runJobs, runningJobs } from './pool.js';
import { LiveStatus } from './live.js';
import { parseShard, selectShard, type Shard, shardHeader, type ShardHeader, shardLine } from './shard.js';
import { applyWaivers, onlyKinds, readWaivers, type Waiver } from './waivers.js';

const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};
const collect = (v: string, prev: string[]): string[] => [...prev, v];
const rate = (name: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return n;
};

interface CheckFlags {
  tree: string[];
  strategy: StrategyName;
  maxFaults: number;
  maxExecutions?: number;
  maxSteps: number;
  timeLimit?: number;
  seed: number;
  pctDepth: number;
  faultRate?: number;
  preemptionBound?: number;
  symmetry: boolean;
  param: string[];
  json?: boolean;
  html?: string;
  traceOut?: string;
  junit?: string;
  fullTrace?: boolean;
  jobs?: number;
  stall: number;
  shard?: Shard;
  progress?: boolean;
  only?: string[];
  waivers?: string;
}

/** What narrows and marks the findings reported: --only and --waivers. */
interface TriageFlags {
  only?: string[];
  waivers?: string;
}

/** The kinds of finding (--only). */
const KINDS = ['kasan', 'panic', 'bug', 'warn', 'hang', 'leak', 'livelock'];

function parseKinds(v: string): string[] {
  const kinds = v.split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (kinds.length === 0) throw new InvalidArgumentError('expected a comma-separated list of kinds');
  for (const k of kinds) if (!KINDS.includes(k)) throw new InvalidArgumentError(`unknown kind '${k}' (${KINDS.join(', ')})`);
  return kinds;
}

/** The findings of the kinds asked for, each marked with the waiver that accepts it. */
function triaged(results: readonly CheckResult[], o: TriageFlags, waivers: readonly Waiver[]): CheckResult[] {
  return applyWaivers(onlyKinds(results, o.only), waivers);
}

function settingsOf(o: CheckFlags): CheckSettings {
  return {
    strategy: o.strategy,
    maxFaults: o.maxFaults,
    maxExecutions: o.maxExecutions,
    maxSteps: o.maxSteps,
    timeLimitMs: o.timeLimit === undefined ? undefined : o.timeLimit * 1000,
    seed: o.seed,
    pctDepth: o.pctDepth,
    ...(o.faultRate !== undefined ? { faultRate: o.faultRate } : {}),
    preemptionBound: o.preemptionBound,
    ...(o.symmetry === false ? { symmetry: false } : {}),
  };
}

function parseParams(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of raw) {
    const m = /^([A-Za-z_][\w-]*)=(.*)$/.exec(p);
    if (!m) throw new UsageError(`--param ${p}: expected NAME=VALUE`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** The exit status of a finished check: findings 1; else incomplete 3; else 0. */
function statusOf(results: readonly CheckResult[]): number {
  if (results.some((r) => r.findings.some((f) => f.waived === undefined))) return 1;
  return results.some((r) => !r.complete) ? 3 : 0;
}

/**
 * Refuses, before a long run starts, an output path (--html, --trace-out, --junit) that cannot
 * be written: a missing or unwritable directory, or a directory in the file's place.
 */
function checkWritable(file: string | undefined, option = '--html'): void {
  if (file === undefined) return;
  const path = resolve(file);
  const dir = dirname(path);
  const bad = (why: string): never => {
    throw new UsageError(`${option} ${file}: ${why}`);
  };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) bad(`no directory ${dir}`);
  if (existsSync(path) && statSync(path).isDirectory()) bad('is a directory');
  try {
    accessSync(existsSync(path) ? path : dir, constants.W_OK);
  } catch {
    bad('not writable');
  }
}

/** The files a check, a replay or a merge writes besides what it prints. */
interface OutputFlags {
  json?: boolean;
  html?: string;
  traceOut?: string;
  junit?: string;
  fullTrace?: boolean;
}

function checkOutputs(o: OutputFlags): void {
  checkWritable(o.html, '--html');
  checkWritable(o.traceOut, '--trace-out');
  checkWritable(o.junit, '--junit');
}

/** Results in order, or the first error. */
function unwrap(outcomes: readonly JobOutcome[]): CheckResult[] {
  for (const o of outcomes) if (isJobError(o)) throw new UsageError(o.error);
  return outcomes as CheckResult[];
}

async function check(names: string[], o: CheckFlags): Promise<number> {
  checkOutputs(o);
  const waivers = o.waivers !== undefined ? readWaivers(o.waivers) : [];
  const given = parseParams(o.param);
  const explicit = names.length > 0;
  for (const t of o.tree) resolveTree(t);
  const scenarios: { ref: ReturnType<typeof refFor>; s: Scenario }[] = [];
  for (const n of explicit ? names : SCENARIOS.map((s) => s.name)) {
    const ref = refFor(n);
    scenarios.push({ ref, s: await loadScenario(ref) });
  }
  if (scenarios.length === 0) throw new UsageError('no scenario to check');
  const specs: JobSpec[] = [];
  for (const { ref, s } of scenarios) {
    const params = resolveParams(s, given);
    let trees: string[];
    if (s.treeless) trees = ['-'];
    else if (o.tree.length > 0) {
      trees = o.tree.filter((t) => applies(s, resolveTree(t)));
      if (explicit && trees.length === 0) throw new UsageError(`scenario ${s.name} does not apply to ${o.tree.join(', ')} (it needs ${s.requires ?? 'a tree'}${s.removedBy ? `, and not ${s.removedBy}` : ''})`);
    } else trees = treesFor(s).map((t) => t.name);
    for (const tree of trees) specs.push({ kind: 'check', scenario: ref, tree, params, settings: settingsOf(o) });
  }
  const share = o.shard ? selectShard(specs, o.shard) : specs;
  // Progress on a terminal, or with --progress (a CI log): each scenario and tree as it
  // finishes (the whole run can be long).
  const started = Date.now();
  // On a terminal, a line per running job, updated every second (live.ts).
  const live = process.stderr.isTTY ? new LiveStatus(process.stderr, runningJobs) : undefined;
  const say = (line: string): void => {
    if (live) live.log(line);
    else process.stderr.write(`${line}\n`);
  };
  const progress = process.stderr.isTTY || o.progress
    ? (i: number, r: JobOutcome): void => {
        const spec = share[i]!;
        const name = spec.kind === 'check' ? `${spec.scenario.kind === 'library' ? spec.scenario.name : spec.scenario.path}${spec.tree === '-' ? '' : ` on ${spec.tree}`}` : 'replay';
        const what = isJobError(r) ? 'error' : `${r.findings.length ? [...new Set(r.findings.map((f) => f.kind))].join(',') : 'ok'}, ${r.explored} executions`;
        say(`[${Math.round((Date.now() - started) / 1000)}s] ${name}: ${what}`);
      }
    : undefined;
  // Ctrl-C: the jobs stop after their current execution and what they found is printed (exit
  // status 130); a second Ctrl-C ends the process at once.
  let interrupted = false;
  const onInterrupt = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('zonedev: interrupted; printing what was found so far (Ctrl-C again to quit)');
    interruptJobs();
  };
  process.on('SIGINT', onInterrupt);
  let results: CheckResult[];
  try {
    results = share.length > 0 ? unwrap(await runJobs(share, { threads: o.jobs, stallMs: o.stall * 1000 }, progress)) : [];
  } finally {
    live?.stop();
    process.off('SIGINT', onInterrupt);
  }
  const treeOrder = [...TREES.map((t) => t.name), ...o.tree, '-'];
  const mode = explicit ? 'detail' : 'summary';
  results = triaged(results, o, waivers);
  return (await emit(results, treeOrder, o, mode, o.shard && shardHeader(o.shard, specs, treeOrder, mode), o.jobs)) ?? (interrupted ? 130 : statusOf(results));
}

/**
 * Prints the results, then writes the files asked for: the JUnit XML, and the HTML report and
 * the Perfetto trace, for which each finding is replayed once with the model's state captured
 * (states.ts). A file that cannot be written is one line and exit status 2 (returned), after
 * the results: the run is not lost.
 */
async function emit(results: readonly CheckResult[], treeOrder: readonly string[], o: OutputFlags, mode: 'detail' | 'summary', shard?: ShardHeader, threads?: number): Promise<number | undefined> {
  print(results, treeOrder, o, mode, shard);
  let status: number | undefined;
  const write = (option: string, file: string | undefined, text: () => string): void => {
    if (file === undefined) return;
    try {
      writeFileSync(file, text());
    } catch (e) {
      process.stderr.write(`zonedev: ${option} ${file}: ${oneLine(e)}\n`);
      status = 2;
    }
  };
  write('--junit', o.junit, () => junitReport(results));
  if (o.html === undefined && o.traceOut === undefined) return status;
  let stepped: readonly CheckResult[] = results;
  try {
    const s = await withStates(results, { threads });
    stepped = s.results;
    for (const f of s.failed) process.stderr.write(`zonedev: the state of a finding could not be captured, its viewer shows none: ${f}\n`);
  } catch (e) {
    process.stderr.write(`zonedev: the states of the findings could not be captured: ${oneLine(e)}\n`);
  }
  write('--html', o.html, () => htmlReport(stepped, [...new Set(treeOrder)], 'zonedev report'));
  write('--trace-out', o.traceOut, () => JSON.stringify(chromeTrace(stepped)));
  return status;
}

function print(results: readonly CheckResult[], treeOrder: readonly string[], o: { json?: boolean; fullTrace?: boolean }, mode: 'detail' | 'summary', shard?: ShardHeader): void {
  if (o.json) {
    process.stdout.write(`${JSON.stringify(resultsDocument(results, shard), null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  if (shard) {
    out.push(shardLine(shard, results.length));
    if (results.length === 0) {
      process.stdout.write(`${out[0]}\n`);
      return;
    }
    out.push('');
  }
  if (mode === 'summary' || results.length > 1) out.push(matrix(results, [...new Set(treeOrder)]), '');
  const status = (r: CheckResult): string =>
    `${r.scenario}${r.tree === '-' ? '' : ` on ${r.tree}`}: ${r.findings.length ? `${r.findings.length} finding${r.findings.length > 1 ? 's' : ''}` : 'no findings'}; ${r.stopReason === 'replay' ? 'one execution replayed' : `${r.explored} executions${r.sleepBlocked ? ` (+${r.sleepBlocked} redundant, cut short)` : ''}, ${r.complete ? 'complete' : `incomplete (${whyIncomplete(r.stopReason)})`}`}`;
  // On a terminal, the interleavings fit its width (a file or a pipe gets every character).
  const width = process.stdout.isTTY ? process.stdout.columns : undefined;
  if (mode === 'detail') {
    // The cells' verdicts, the list of bugs, then each bug in full: one per group, a member per
    // tree and call path.
    out.push(...results.map(status));
    const groups = groupFindings(results);
    if (groups.length > 0) out.push('', ...findingsList(groups, width));
    groups.forEach((g, i) => {
      g.members.forEach((m, k) => out.push('', findingDetail(m.result, m.finding, g.members.length > 1 ? `${i + 1}.${k + 1}` : i + 1, o.fullTrace ?? false, width)));
    });
  } else {
    for (const r of results) for (const f of r.findings) out.push(findingSummary(r, f));
  }
  process.stdout.write(`${out.join('\n').trimEnd()}\n`);
}

/** Why a result is incomplete, in words. */
function whyIncomplete(stopReason: string): string {
  if (stopReason === 'done') return 'stopped: done, preemption bound';
  if (stopReason === 'steps') return 'an execution reached the step bound, --max-steps';
  return `stopped: ${stopReason}`;
}

async function replayCmd(token: string, o: OutputFlags & { stall: number } & TriageFlags): Promise<number> {
  checkOutputs(o);
  const waivers = o.waivers !== undefined ? readWaivers(o.waivers) : [];
  const results = triaged(unwrap(await runJobs([{ kind: 'replay', token }], { threads: 1, stallMs: o.stall * 1000 })), o, waivers);
  return (await emit(results, [...TREES.map((t) => t.name), results[0]!.tree], o, 'detail', undefined, 1)) ?? statusOf(results);
}

/**
 * `zonedev report`: the finding (from a token's replay, or bug N of a scenario's check on one
 * tree), the bisect of its scenario, and the mail.
 */
async function reportCmd(arg: string, o: CheckFlags & { tree?: string | string[]; finding: number; bisect: boolean }): Promise<number> {
  const tree = Array.isArray(o.tree) ? o.tree[0] : o.tree;
  const pool = { threads: o.jobs, stallMs: o.stall * 1000 };
  let result: CheckResult;
  let ref;
  let params: Record<string, number>;
  if (arg.trim().startsWith('zd1-')) {
    if (tree !== undefined) throw new UsageError('--tree goes with a scenario, not with a replay token');
    let rec;
    try {
      rec = decodeToken(arg);
    } catch (e) {
      throw new UsageError(oneLine(e));
    }
    result = unwrap(await runJobs([{ kind: 'replay', token: arg }], { threads: 1, stallMs: o.stall * 1000 }))[0]!;
    const p = rec.program as { scenario: ScenarioRef; tree: string; params: Record<string, number> };
    ref = p.scenario;
    params = p.params;
  } else {
    ref = refFor(arg);
    const s = await loadScenario(ref);
    // A scenario without a kernel runs on the tree '-'.
    const cell = s.treeless ? '-' : tree;
    if (cell === undefined) throw new UsageError('report SCENARIO needs --tree (or give a replay token)');
    if (!s.treeless && !applies(s, resolveTree(cell))) throw new UsageError(`scenario ${s.name} does not apply to tree ${cell}`);
    params = resolveParams(s, parseParams(o.param));
    result = unwrap(await runJobs([{ kind: 'check', scenario: ref, tree: cell, params, settings: settingsOf(o) }], pool))[0]!;
  }
  const groups = groupFindings([result]);
  if (groups.length === 0) {
    process.stderr.write(`zonedev: ${result.scenario} on ${result.tree}: no findings${result.complete ? '' : ' (incomplete)'}; nothing to report\n`);
    return result.complete ? 0 : 3;
  }
  const g = groups[o.finding - 1];
  if (!g) throw new UsageError(`--finding ${o.finding}: the check found ${groups.length} bug${groups.length > 1 ? 's' : ''}`);
  const f = g.members[0]!.finding;
  const paramArgs = Object.entries(params).map(([k, v]) => ` --param ${k}=${v}`).join('');
  const checkCommand = `zonedev check ${ref.kind === 'library' ? ref.name : ref.path} --tree ${result.tree}${paramArgs}`;
  let bisected;
  const s = await loadScenario(ref);
  if (o.bisect && !s.treeless) {
    const b = await bisect(s, ref, params, settingsOf(o), pool);
    bisected = { result: b, finding: b.findings.find((x) => bugKey(x) === bugKey(f)) };
  }
  process.stdout.write(`${mailReport(result, f, bisected, checkCommand)}\n`);
  return 0;
}

function list(what: string | undefined, o: { json?: boolean }): number {
  const w = what ?? 'scenarios';
  const print = (doc: unknown, text: string[]): void => {
    process.stdout.write(o.json ? `${JSON.stringify(doc, null, 2)}\n` : `${text.join('\n')}\n`);
  };
  if (w === 'trees') {
    const doc = TREES.map((t) => ({ name: t.name, description: t.description, patches: seriesPoints().find((p) => p.upTo === t.upTo) ? patchIds(t.upTo) : [] }));
    print(doc, TREES.map((t) => `${t.name.padEnd(8)} ${t.description} (${patchIds(t.upTo).length} modelled patches)`));
  } else if (w === 'patches') {
    const doc = [...SERIES.map((p) => ({ ...p, whatIf: false })), ...WHAT_IF.map((p) => ({ ...p, whatIf: true }))];
    print(doc, doc.map((p) => `${p.id.padEnd(38)} ${p.date}  ${p.commit ? p.commit.slice(0, 12).padEnd(12) : '-'.padEnd(12)}  ${p.subject}${p.seed ? ` [seed ${p.seed}]` : ''}${p.whatIf ? ` [what-if: --tree ${p.base ?? '<tree>'}+${p.id}]` : ''}`));
  } else if (w === 'scenarios') {
    const all = [...SCENARIOS, ...EXAMPLES];
    const doc = all.map((s) => ({ name: s.name, description: s.description, trees: treesFor(s).map((t) => t.name), params: s.params, example: EXAMPLES.includes(s) }));
    print(doc, all.map((s) => `${s.name.padEnd(28)} ${s.description}\n${' '.repeat(29)}trees: ${treesFor(s).map((t) => t.name).join(' ')}${Object.keys(s.params).length ? `; params: ${Object.entries(s.params).map(([k, p]) => `${k}=${p.default}`).join(' ')}` : ''}`));
  } else {
    throw new UsageError(`cannot list '${w}' (scenarios, trees or patches)`);
  }
  return 0;
}

function patchIds(upTo: string | undefined): string[] {
  if (upTo === undefined) return [];
  const end = SERIES.findIndex((p) => p.id === upTo);
  return SERIES.slice(0, end + 1).map((p) => p.id);
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('zonedev')
    .description('Model-checks the Linux ZONE_DEVICE subsystem across kernel versions')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.split('\n')[0] + '\n') })
    .showSuggestionAfterError(false);

  const checkOptions = (c: Command): Command =>
    c
      .addOption(new Option('--strategy <name>', 'exploration strategy').choices(STRATEGIES).default('dpor'))
      .option('--max-faults <n>', 'injected failures per execution at most', int('--max-faults', 0), 1)
      .option('--max-executions <n>', 'stop after this many executions', int('--max-executions', 1))
      .option('--max-steps <n>', 'steps per execution; one that reaches it is truncated (a livelock, or a bound too small) and the run incomplete', int('--max-steps', 1), 10_000)
      .option('--time-limit <s>', 'stop each scenario after this many seconds', int('--time-limit', 1))
      .option('--seed <n>', 'seed for random and pct', int('--seed', 0), 1)
      .option('--pct-depth <d>', 'bug depth for pct', int('--pct-depth', 1), 3)
      .option('--fault-rate <p>', `random, pct: the share of executions that inject a failure, 0 to 1 (default: ${DEFAULT_FAULT_RATE})`, rate('--fault-rate'))
      .option('--preemption-bound <n>', 'at most this many preemptions per execution', int('--preemption-bound', 0))
      .option('--no-symmetry', 'explore every permutation of interchangeable actors (by default, one of each)')
      .option('--param <name=value>', 'scenario size parameter (repeatable)', collect, [])
      .option('--jobs <n>', "worker threads (default: the machine's cores)", int('--jobs', 1))
      .option('--stall <s>', 'a model that takes no step for this long is stuck', int('--stall', 1), 20);
  const triageOptions = (c: Command): Command =>
    c
      .option('--only <kinds>', `report only findings of these kinds, comma-separated (${KINDS.join(', ')})`, parseKinds)
      .option('--waivers <file>', 'accepted findings, one per line (<scenario|*> <tree|*> <kind>: <title>[*]): reported as waived, exit status 0');

  checkOptions(triageOptions(
    program
      .command('check')
      .description('check scenarios on kernel trees (default: every scenario on every tree it applies to)')
      .argument('[scenario...]', 'scenario names, or paths of scenario modules')
      .option('--tree <name>', 'kernel tree (repeatable)', collect, [])
      .option('--json', 'print one JSON document')
      .option('--html <file>', 'also write an HTML report: the matrix, and a step-by-step viewer of each finding with the model state')
      .option('--trace-out <file>', 'also write the findings\' interleavings as a Chrome JSON trace (open it in Perfetto UI or chrome://tracing)')
      .option('--junit <file>', 'also write JUnit XML: a test case per scenario and tree, a failure per unwaived finding')
      .option('--full-trace', 'show every step of an interleaving, not runs folded into one line')
      .option('--progress', 'say on stderr as each scenario and tree finishes, also when stderr is not a terminal')
      .option('--shard <i/n>', "run only shard I of N of the check's cells (join the --json output of all N with merge)", parseShard),
  )).action(async (names: string[], o: CheckFlags) => {
    code = await check(names, o);
  });

  triageOptions(
    program
      .command('replay')
      .description('run again the one execution a replay token describes')
      .argument('<token>', 'replay token printed with a finding')
      .option('--json', 'print one JSON document')
      .option('--html <file>', 'also write an HTML report with a step-by-step viewer of the interleaving')
      .option('--trace-out <file>', 'also write the interleaving as a Chrome JSON trace (Perfetto UI, chrome://tracing)')
      .option('--junit <file>', 'also write JUnit XML')
      .option('--full-trace', 'show every step of the interleaving')
      .option('--stall <s>', 'a model that takes no step for this long is stuck', int('--stall', 1), 20),
  ).action(async (token: string, o: OutputFlags & { stall: number } & TriageFlags) => {
      code = await replayCmd(token, o);
    });

  checkOptions(
    program
      .command('bisect')
      .description('walk the patch series and name the patch that introduced and the one that removed each finding')
      .argument('<scenario>', 'scenario name or module path')
      .option('--json', 'print one JSON document'),
  ).action(async (name: string, o: CheckFlags) => {
    const ref = refFor(name);
    const s = await loadScenario(ref);
    if (s.treeless) throw new UsageError(`scenario ${s.name} runs on no kernel tree; there is nothing to bisect`);
    const params = resolveParams(s, parseParams(o.param));
    const result = await bisect(s, ref, params, settingsOf(o), { threads: o.jobs, stallMs: o.stall * 1000 });
    process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${bisectText(result)}\n`);
    // As check: 1 when some point has a finding, 3 when none has and some point is incomplete.
    code = result.findings.length > 0 ? 1 : result.points.every((p) => p.complete) ? 0 : 3;
  });

  triageOptions(
    program
      .command('merge')
      .description('join the --json output of the shards of one check (check --shard I/N) into what the whole check prints')
      .argument('<file...>', 'JSON documents written by check --json --shard I/N, one per shard')
      .option('--json', 'print one JSON document')
      .option('--html <file>', 'also write an HTML report: the matrix, and a step-by-step viewer of each finding with the model state')
      .option('--trace-out <file>', 'also write the findings\' interleavings as a Chrome JSON trace (Perfetto UI, chrome://tracing)')
      .option('--junit <file>', 'also write JUnit XML: a test case per scenario and tree, a failure per unwaived finding')
      .option('--full-trace', 'show every step of an interleaving, not runs folded into one line'),
  ).action(async (files: string[], o: OutputFlags & TriageFlags) => {
    checkOutputs(o);
    const waivers = o.waivers !== undefined ? readWaivers(o.waivers) : [];
    const m = mergeShards(files);
    const results = triaged(m.results, o, waivers);
    code = (await emit(results, m.trees, o, m.mode)) ?? statusOf(results);
  });

  checkOptions(
    program
      .command('report')
      .description('write a mail-ready report of one finding, syzbot-style: title, trees, bisect, the kernel report, the interleaving, how to reproduce')
      .argument('<token-or-scenario>', 'a replay token, or a scenario name or module path (with --tree)')
      .option('--tree <name>', 'kernel tree, with a scenario')
      .option('--finding <n>', 'which bug of the check, as numbered in its list (default: 1)', int('--finding', 1), 1)
      .option('--no-bisect', 'do not walk the patch series (faster; no trees or patches named)'),
  ).action(async (arg: string, o: CheckFlags & { tree?: string | string[]; finding: number; bisect: boolean }) => {
    code = await reportCmd(arg, o);
  });

  program
    .command('list')
    .description('list scenarios, trees or patches')
    .argument('[what]', 'scenarios, trees or patches', 'scenarios')
    .option('--json', 'print JSON')
    .action((what: string | undefined, o: { json?: boolean }) => {
      code = list(what, o);
    });

  if (argv.length <= 2) {
    // Bare `zonedev`: what it can do, on stdout.
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2; // commander has printed its one-line message
    }
    process.stderr.write(`zonedev: ${oneLine(e)}\n`);
    return 2;
  }
  return code;
}

/** The package's version, from its package.json (two levels above dist/src/cli). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// A reader that goes away (`zonedev check | head`) ends the output, not the run's status: no
// stack trace for the broken pipe.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`zonedev: ${oneLine(e)}\n`);
    process.exitCode = 2;
  },
);
