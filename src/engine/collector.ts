// What exploration found: findings de-duplicated by kind and site, each with how many
// executions reached it and the interleaving that did with the fewest injected faults, the
// shortest of those, the first of those in the order of their decisions (so that the one kept
// does not depend on the order executions ran in: parts of an exploration merge to the same);
// and the counts of executions.

import type { Execution, RawFinding, TraceStep } from './execution.js';

export interface Finding {
  readonly kind: string;
  readonly title: string;
  readonly site: string;
  readonly thread: string;
  /** The thread's id (the PID of the kernel's report), when a thread hit it. */
  readonly tid?: number;
  readonly stack: readonly string[];
  /** How many executions reached it. */
  readonly count: number;
  /** The interleaving with the fewest faults, the shortest of those, that leads to it. */
  readonly trace: readonly TraceStep[];
  /** The faults injected in that interleaving before the finding. */
  readonly faults: number;
  /** The decisions of that execution, for replay. */
  readonly decisions: readonly number[];
  /** More of the report, from that execution (KASAN's allocation and free). */
  readonly details: readonly string[];
}

export class Collector {
  private readonly bySite = new Map<string, { f: RawFinding; count: number; trace: readonly TraceStep[]; decisions: readonly number[] }>();
  readonly outcomes = new Set<string>();
  explored = 0;
  sleepBlocked = 0;
  steps = 0;
  /** Executions cut at the step bound. */
  stepBounded = 0;

  /** `wholeRun` replays an execution's decisions with its trace recorded. */
  constructor(private readonly wholeRun: (decisions: readonly number[]) => Execution) {}

  add(exec: Execution, collectOutcomes: boolean): void {
    if (exec.status === 'abandoned') {
      this.sleepBlocked++;
    } else {
      this.explored++;
      if (exec.status === 'livelock') this.stepBounded++;
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
    // Counted are the executions run to their end, of which a finding says it was reached by
    // so many: a cut-short execution is equivalent to one of them up to where it was cut. It
    // still offers its interleaving, which may be shorter than theirs.
    const counted = exec.status === 'abandoned' ? 0 : 1;
    for (const f of exec.findings) {
      const prev = this.bySite.get(f.site);
      if (!prev) {
        const w = get();
        this.bySite.set(f.site, { f, count: counted, trace: w.trace.filter((s) => s.index <= f.traceLength), decisions: w.decisions });
      } else {
        prev.count += counted;
        // Between equals, the first by decisions. A cut-short execution's decisions are a prefix
        // of its whole run's: where they already differ from the kept ones, no run is needed.
        const firstByDecisions = (): boolean => {
          const o = prefixOrder(exec.decisions, prev.decisions);
          return o !== 0 ? o < 0 : compareDecisions(get().decisions, prev.decisions) < 0;
        };
        const better = f.faults !== prev.f.faults ? f.faults < prev.f.faults : f.traceLength !== prev.f.traceLength ? f.traceLength < prev.f.traceLength : firstByDecisions();
        if (better) {
          const w = get();
          prev.f = f;
          prev.trace = w.trace.filter((s) => s.index <= f.traceLength);
          prev.decisions = w.decisions;
        }
      }
    }
  }

  /** How many findings (sites) so far. */
  get sites(): number {
    return this.bySite.size;
  }

  /** The findings in the order they are reported: reportOrder. */
  findings(): Finding[] {
    return [...this.bySite.values()].map(({ f, count, trace, decisions }) => ({
      kind: f.kind,
      title: f.title,
      site: f.site,
      thread: f.thread,
      ...(f.tid !== undefined ? { tid: f.tid } : {}),
      stack: f.stack,
      count,
      trace,
      faults: f.faults,
      decisions,
      details: f.details ?? [],
    })).sort(reportOrder);
  }
}


/** Lexicographic order of two decision sequences. */
export function compareDecisions(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The order of any extension of `prefix` against `b`: 0 when `prefix` is a prefix of `b` (it depends on the extension). */
function prefixOrder(prefix: readonly number[], b: readonly number[]): number {
  const n = Math.min(prefix.length, b.length);
  for (let i = 0; i < n; i++) if (prefix[i] !== b[i]) return prefix[i]! - b[i]!;
  return prefix.length <= b.length ? 0 : 1;
}

/** Of two records of one finding, the one to keep: fewest faults, shortest, first by decisions. */
export function betterFinding(a: Finding, b: Finding): Finding {
  if (a.faults !== b.faults) return a.faults < b.faults ? a : b;
  if (a.trace.length !== b.trace.length) return a.trace.length < b.trace.length ? a : b;
  return compareDecisions(a.decisions, b.decisions) <= 0 ? a : b;
}

/** Findings reached without a fault first, then with the fewest; the shortest first; then by site. */
export function reportOrder(a: Finding, b: Finding): number {
  return a.faults - b.faults || a.trace.length - b.trace.length || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0);
}
