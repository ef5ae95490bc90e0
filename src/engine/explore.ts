// Exploration: running a program's executions under a strategy, within limits, and
// collecting what they found.
//
// Exploration is stateless: every execution starts from a fresh world built by the program's
// setup and follows a prefix of decisions, so the model never needs to be cloned.

import { Execution, ModelError, type Program, type RawFinding, type TraceStep } from './execution.js';
import { dependent, HappensBefore } from './happens-before.js';
import type { Access, ChooseOp } from './ops.js';
import { Prng } from './prng.js';

export type StrategyName = 'dfs' | 'dpor' | 'random' | 'pct';
export const STRATEGIES: readonly StrategyName[] = ['dpor', 'dfs', 'random', 'pct'];

export interface ExploreOptions {
  readonly strategy?: StrategyName;
  /** At most this many injected faults in one execution (default 1). */
  readonly maxFaults?: number;
  /** Stop after this many executions. Default: none for dfs/dpor, 1000 for random/pct. */
  readonly maxExecutions?: number;
  /** An execution longer than this is a livelock (default 10000). */
  readonly maxSteps?: number;
  /** Stop after this much wall time. */
  readonly timeLimitMs?: number;
  /** Seed for random and pct (default 1). */
  readonly seed?: number;
  /** PCT's bug depth d (default 3). */
  readonly pctDepth?: number;
  /** At most this many preemptions (switches away from a thread that could go on). */
  readonly preemptionBound?: number;
  readonly heartbeat?: () => void;
  /** Keep the set of final-state summaries reached (for comparing strategies). */
  readonly collectOutcomes?: boolean;
  /** The clock used for the time limit. */
  readonly now?: () => number;
}

export interface Finding {
  readonly kind: string;
  readonly title: string;
  readonly site: string;
  readonly thread: string;
  readonly stack: readonly string[];
  /** How many executions reached it. */
  readonly count: number;
  /** The shortest interleaving found that leads to it. */
  readonly trace: readonly TraceStep[];
  /** The decisions of that execution, for replay. */
  readonly decisions: readonly number[];
}

export type StopReason = 'done' | 'executions' | 'time';

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

interface SchedNode {
  readonly kind: 'sched';
  readonly enabled: readonly number[];
  readonly allowed: readonly number[];
  readonly backtrack: Set<number>;
  readonly done: Set<number>;
  readonly sleep: ReadonlySet<number>;
  readonly lastTid: number;
  readonly preemptions: number;
  chosen: number;
  childSleep: Set<number>;
}

interface ChoiceNode {
  readonly kind: 'choice';
  readonly allowed: number;
  readonly label: string;
  chosen: number;
}

type Node = SchedNode | ChoiceNode;

class Collector {
  private readonly bySite = new Map<string, { f: RawFinding; count: number; trace: readonly TraceStep[]; decisions: readonly number[] }>();
  readonly outcomes = new Set<string>();
  explored = 0;
  sleepBlocked = 0;
  steps = 0;

  /** `traceOf` replays an execution's decisions with its trace recorded. */
  constructor(private readonly wholeRun: (decisions: readonly number[]) => Execution) {}

  add(exec: Execution, collectOutcomes: boolean): void {
    if (exec.status === 'abandoned') {
      this.sleepBlocked++;
    } else {
      this.explored++;
      if (collectOutcomes && exec.outcome !== undefined) this.outcomes.add(exec.outcome);
    }
    this.steps += exec.events.length;
    // A finding's interleaving and decisions come from replaying its execution with the trace
    // recorded (exploration does not record it); an execution cut short is completed.
    let whole: { trace: readonly TraceStep[]; decisions: readonly number[] } | undefined =
      exec.status !== 'abandoned' && (exec.trace.length > 0 || exec.events.length === 0) ? { trace: exec.trace, decisions: exec.decisions } : undefined;
    const get = (): { trace: readonly TraceStep[]; decisions: readonly number[] } => {
      if (!whole) {
        const w = this.wholeRun(exec.decisions);
        whole = { trace: w.trace, decisions: w.decisions.slice() };
      }
      return whole;
    };
    for (const f of exec.findings) {
      const prev = this.bySite.get(f.site);
      if (!prev) {
        const w = get();
        this.bySite.set(f.site, { f, count: 1, trace: w.trace.filter((s) => s.index <= f.traceLength), decisions: w.decisions });
      } else {
        prev.count++;
        if (f.traceLength < prev.f.traceLength) {
          const w = get();
          prev.f = f;
          prev.trace = w.trace.filter((s) => s.index <= f.traceLength);
          prev.decisions = w.decisions;
        }
      }
    }
  }

  findings(): Finding[] {
    return [...this.bySite.values()].map(({ f, count, trace, decisions }) => ({
      kind: f.kind,
      title: f.title,
      site: f.site,
      thread: f.thread,
      stack: f.stack,
      count,
      trace,
      decisions,
    }));
  }
}

/** Explores `program` under the chosen strategy. Throws ModelError when the model is at fault. */
export function explore(program: Program, options: ExploreOptions = {}): ExploreResult {
  const strategy = options.strategy ?? 'dpor';
  const now = options.now ?? Date.now;
  const start = now();
  const execOptions = { maxSteps: options.maxSteps ?? 10_000, maxFaults: options.maxFaults ?? 1, heartbeat: options.heartbeat, recordTrace: false };
  const maxExecutions = options.maxExecutions ?? (strategy === 'random' || strategy === 'pct' ? 1000 : Infinity);
  const collector = new Collector((decisions) => replay(program, decisions, { maxSteps: execOptions.maxSteps, maxFaults: execOptions.maxFaults, extend: true }));
  const outOfTime = (): boolean => options.timeLimitMs !== undefined && now() - start >= options.timeLimitMs;

  let stopReason: StopReason = 'done';
  let bounded = false;

  if (strategy === 'dfs' || strategy === 'dpor') {
    const tree = new TreeExplorer(program, strategy === 'dpor', execOptions, options.preemptionBound);
    for (;;) {
      const exec = tree.runOne();
      collector.add(exec, options.collectOutcomes ?? false);
      if (!tree.nextBranch()) break;
      if (collector.explored + collector.sleepBlocked >= maxExecutions) {
        stopReason = 'executions';
        break;
      }
      if (outOfTime()) {
        stopReason = 'time';
        break;
      }
    }
    bounded = tree.bounded;
  } else {
    const rng = new Prng(options.seed ?? 1);
    const walker = strategy === 'random' ? new RandomWalk(rng, options.preemptionBound) : new Pct(rng, options.pctDepth ?? 3, options.preemptionBound);
    for (;;) {
      const exec = walker.runOne(program, execOptions);
      collector.add(exec, options.collectOutcomes ?? false);
      bounded ||= walker.bounded;
      if (collector.explored >= maxExecutions) {
        stopReason = 'executions';
        break;
      }
      if (outOfTime()) {
        stopReason = 'time';
        break;
      }
    }
  }

  const complete = (strategy === 'dfs' || strategy === 'dpor') && stopReason === 'done' && !bounded;
  return {
    strategy,
    explored: collector.explored,
    sleepBlocked: collector.sleepBlocked,
    steps: collector.steps,
    complete,
    stopReason,
    bounded,
    findings: collector.findings(),
    outcomes: options.collectOutcomes ? [...collector.outcomes].sort() : undefined,
  };
}

/**
 * Runs the one execution that `decisions` describes. With `extend`, decisions that run out
 * before the execution ends (an execution cut short as redundant) are continued with the
 * first enabled thread and the first value of each choice, so that the result is a whole
 * execution whose decisions replay strictly.
 */
export function replay(program: Program, decisions: readonly number[], options: { maxSteps?: number; maxFaults?: number; heartbeat?: () => void; extend?: boolean } = {}): Execution {
  let pos = 0;
  const next = (what: string, valid: (v: number) => boolean, fallback: number): number => {
    if (pos >= decisions.length && options.extend) return fallback;
    const v = decisions[pos++];
    if (v === undefined || !valid(v)) throw new ReplayMismatch(`replay does not fit this program: decision ${pos} (${what})`);
    return v;
  };
  const exec = new Execution(program, (op: ChooseOp, allowed) => next(`choice ${op.label}`, (v) => v >= 0 && v < allowed, 0), {
    maxSteps: options.maxSteps ?? 10_000,
    maxFaults: options.maxFaults ?? Infinity,
    heartbeat: options.heartbeat,
  });
  while (exec.status === 'running') {
    const enabled = exec.enabled();
    exec.step(next('thread pick', (v) => enabled.includes(v), enabled[0]!));
  }
  if (pos < decisions.length) throw new ReplayMismatch(`replay does not fit this program: ${decisions.length - pos} decisions left over`);
  return exec;
}

export class ReplayMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayMismatch';
  }
}

/**
 * Exhaustive DFS and DPOR over the tree of schedules and choices.
 *
 * DPOR is source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014):
 * after each execution every race is reversed by adding, at the state before its first event,
 * one of the threads that can start the reversed sequence, unless one already is there. A
 * thread whose step the reversal needs but which is disabled at that state is never added:
 * nothing in the reversed sequence can enable it, since enabling is a conflict.
 */
class TreeExplorer {
  private readonly stack: Node[] = [];
  bounded = false;

  constructor(
    private readonly program: Program,
    private readonly dpor: boolean,
    private readonly execOptions: { maxSteps: number; maxFaults: number; heartbeat?: () => void; recordTrace?: boolean },
    private readonly preemptionBound: number | undefined,
  ) {}

  runOne(): Execution {
    let pos = 0;
    const stack = this.stack;
    const chooser = (op: ChooseOp, allowed: number): number => {
      if (pos < stack.length) {
        const node = stack[pos++]!;
        if (node.kind !== 'choice' || node.allowed !== allowed) throw nondeterministic(`choice ${op.label}`);
        return node.chosen;
      }
      stack.push({ kind: 'choice', allowed, label: op.label, chosen: 0 });
      pos++;
      return 0;
    };
    const exec = new Execution(this.program, chooser, this.execOptions);
    /** For each event, the index in `stack` of the node that chose it. */
    const nodeOfEvent: number[] = [];
    let last: SchedNode | undefined;
    while (exec.status === 'running') {
      const enabled = exec.enabled();
      let node: SchedNode;
      if (pos < stack.length) {
        const n = stack[pos]!;
        if (n.kind !== 'sched' || !sameList(n.enabled, enabled)) throw nondeterministic('enabled threads');
        node = n;
      } else {
        const lastTid = exec.events.at(-1)?.tid ?? -1;
        const preemptions = last ? last.preemptions + (last.chosen !== last.lastTid && last.enabled.includes(last.lastTid) ? 1 : 0) : 0;
        let allowed = enabled;
        if (this.preemptionBound !== undefined && preemptions >= this.preemptionBound && enabled.includes(lastTid)) {
          allowed = [lastTid];
          if (enabled.length > 1) this.bounded = true;
        }
        const sleep: ReadonlySet<number> = this.dpor ? (last?.childSleep ?? new Set()) : new Set();
        const first = allowed.find((t) => !sleep.has(t));
        if (first === undefined) {
          exec.abandon();
          break;
        }
        node = {
          kind: 'sched',
          enabled,
          allowed,
          backtrack: new Set(this.dpor ? [first] : allowed),
          done: new Set(),
          sleep,
          lastTid,
          preemptions,
          chosen: first,
          childSleep: new Set(),
        };
        stack.push(node);
      }
      if (this.dpor) {
        // Threads asleep here, or already explored here, stay asleep after this step if it
        // cannot affect them.
        const chosenAccess = exec.pendingAccess(node.chosen);
        const childSleep = new Set<number>();
        for (const r of [...node.sleep, ...node.done]) {
          if (r !== node.chosen && !dependent(exec.pendingAccess(r), chosenAccess)) childSleep.add(r);
        }
        node.childSleep = childSleep;
      }
      nodeOfEvent.push(pos);
      pos++;
      last = node;
      exec.step(node.chosen);
    }
    if (pos < stack.length && exec.status !== 'abandoned') throw nondeterministic('execution ended early');
    if (this.dpor) this.reverseRaces(exec, nodeOfEvent);
    return exec;
  }

  /** Moves to the next unexplored branch; false when the tree is exhausted. */
  nextBranch(): boolean {
    const stack = this.stack;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.kind === 'choice') {
        if (top.chosen + 1 < top.allowed) {
          top.chosen++;
          return true;
        }
      } else {
        top.done.add(top.chosen);
        const next = top.allowed.find((t) => top.backtrack.has(t) && !top.done.has(t) && !top.sleep.has(t));
        if (next !== undefined) {
          top.chosen = next;
          return true;
        }
      }
      stack.pop();
    }
    return false;
  }

  private reverseRaces(exec: Execution, nodeOfEvent: readonly number[]): void {
    const events = exec.events;
    const hb = new HappensBefore([]);
    for (let j = 0; j < events.length; j++) {
      hb.events.push(events[j]!);
      hb.add(j);
      for (const race of hb.racesOf(j)) {
        this.reverse(hb, race.first, j, events[j]!.tid, hb.clock[j]!, nodeOfEvent, events[j]!.access);
      }
    }
    // Steps announced but never taken race too: a thread left blocked, or cut off by a fatal
    // finding or by its sleeping siblings, might have gone first.
    for (const t of exec.threads) {
      if (!t.pending) continue;
      const pendingEvent = { tid: t.tid, access: exec.pendingAccess(t.tid), spawnedAt: t.spawnedAt, firstOfThread: t.steps === 0 };
      const { races, clock } = hb.pendingRaces(pendingEvent);
      for (const first of races) this.reverse(hb, first, events.length, t.tid, clock, nodeOfEvent, pendingEvent.access);
    }
  }

  /** Reverses the race between event `first` and a later step of thread `tid` at `second`. */
  private reverse(hb: HappensBefore, first: number, second: number, tid: number, clock: readonly number[], nodeOfEvent: readonly number[], access: readonly Access[]): void {
    if (this.tryReverse(hb, first, second, tid, clock, nodeOfEvent)) return;
    // No thread that could start the reversed sequence is enabled before `first`: the racing
    // step was blocked there, and `first` is what enabled it (a lock's release, say). The
    // alternative is the racing step going before whatever blocked it: an earlier conflicting
    // step, the latest one before which the reversal can start.
    for (let k = first - 1; k >= 0; k--) {
      const e = hb.events[k]!;
      if (e.tid === tid || !dependent(e.access, access)) continue;
      if (this.tryReverse(hb, k, second, tid, clock, nodeOfEvent)) return;
    }
  }

  /** Adds a backtrack point for the reversal; false when no thread can start it there. */
  private tryReverse(hb: HappensBefore, first: number, second: number, tid: number, clock: readonly number[], nodeOfEvent: readonly number[]): boolean {
    const node = this.stack[nodeOfEvent[first]!] as SchedNode;
    // The threads that can start the reversed sequence: the steps after `first` that do not
    // depend on it, then the racing step.
    const initials: number[] = [];
    const seq: number[] = [];
    for (let e = first + 1; e < second; e++) {
      if (hb.hb(first, e)) continue;
      if (!seq.some((f) => hb.hb(f, e)) && !initials.includes(hb.events[e]!.tid)) initials.push(hb.events[e]!.tid);
      seq.push(e);
    }
    if (!seq.some((f) => hb.hbClock(f, clock)) && !initials.includes(tid)) initials.push(tid);
    if (initials.some((t) => node.backtrack.has(t))) return true;
    const pick = initials.find((t) => node.enabled.includes(t) && !node.sleep.has(t)) ?? initials.find((t) => node.enabled.includes(t));
    if (pick === undefined) return false;
    if (!node.allowed.includes(pick)) {
      this.bounded = true;
      return true;
    }
    node.backtrack.add(pick);
    return true;
  }
}

/** Uniformly random schedules and choices, from a seed. */
class RandomWalk {
  bounded = false;
  constructor(
    private readonly rng: Prng,
    private readonly preemptionBound: number | undefined,
  ) {}

  runOne(program: Program, execOptions: { maxSteps: number; maxFaults: number; heartbeat?: () => void; recordTrace?: boolean }): Execution {
    const exec = new Execution(program, (_op, allowed) => this.rng.below(allowed), execOptions);
    const bound = new PreemptionCounter(this.preemptionBound);
    while (exec.status === 'running') {
      const allowed = bound.allowed(exec);
      this.bounded ||= bound.cut;
      const tid = allowed[this.rng.below(allowed.length)]!;
      bound.took(exec, tid);
      exec.step(tid);
    }
    return exec;
  }
}

/**
 * Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010): random distinct thread
 * priorities, the highest-priority enabled thread runs, and at d-1 random steps the running
 * thread drops below all others. Finds any bug of depth d with probability at least
 * 1/(n k^(d-1)).
 */
class Pct {
  bounded = false;
  private expectedSteps = 16;
  constructor(
    private readonly rng: Prng,
    private readonly depth: number,
    private readonly preemptionBound: number | undefined,
  ) {}

  runOne(program: Program, execOptions: { maxSteps: number; maxFaults: number; heartbeat?: () => void; recordTrace?: boolean }): Execution {
    const exec = new Execution(program, (_op, allowed) => this.rng.below(allowed), execOptions);
    const priority = new Map<number, number>();
    const changeAt = new Map<number, number>();
    for (let i = 1; i < this.depth; i++) changeAt.set(1 + this.rng.below(this.expectedSteps), this.depth - i);
    const bound = new PreemptionCounter(this.preemptionBound);
    let step = 0;
    while (exec.status === 'running') {
      for (const t of exec.threads) if (!priority.has(t.tid)) priority.set(t.tid, this.depth + this.rng.below(1 << 20));
      step++;
      const allowed = bound.allowed(exec);
      this.bounded ||= bound.cut;
      let tid = highest(allowed, priority);
      const low = changeAt.get(step);
      if (low !== undefined) {
        priority.set(tid, low);
        tid = highest(allowed, priority);
      }
      bound.took(exec, tid);
      exec.step(tid);
    }
    this.expectedSteps = Math.max(this.expectedSteps, exec.events.length);
    return exec;
  }
}

function highest(tids: readonly number[], priority: ReadonlyMap<number, number>): number {
  let best = tids[0]!;
  for (const t of tids) if ((priority.get(t) ?? 0) > (priority.get(best) ?? 0)) best = t;
  return best;
}

class PreemptionCounter {
  private count = 0;
  private lastTid = -1;
  cut = false;
  constructor(private readonly bound: number | undefined) {}

  allowed(exec: Execution): number[] {
    const enabled = exec.enabled();
    if (this.bound !== undefined && this.count >= this.bound && enabled.includes(this.lastTid)) {
      if (enabled.length > 1) this.cut = true;
      return [this.lastTid];
    }
    return enabled;
  }

  took(exec: Execution, tid: number): void {
    if (this.lastTid >= 0 && tid !== this.lastTid && exec.enabled().includes(this.lastTid)) this.count++;
    this.lastTid = tid;
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function nondeterministic(what: string): ModelError {
  return new ModelError(`the model is not deterministic: ${what} differ when the same schedule is replayed`);
}
