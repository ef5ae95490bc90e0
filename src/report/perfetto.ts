// --trace-out: each finding's interleaving in the Chrome trace-event JSON format, which Perfetto
// UI (ui.perfetto.dev, "Open trace file") and chrome://tracing open. A finding is a process (its
// number, scenario, tree and title); each of its threads a track; each kernel function a slice
// (B/E) from the first step taken in it to the end of the last, and each step a slice (X) inside
// it, its notes as args; every counter of the model's state (a struct page's _refcount, a
// percpu_ref's count, a chunk's avail) a counter track (C), set at setup and wherever a step
// changes it; the finding an instant event at its last step. Time is the step number: one step
// lasts STEP_US microseconds, so the timeline reads as the interleaving does.

import type { CheckResult, FindingReport } from '../cli/jobs.js';
import type { ModelState } from '../engine/state.js';

/** One step, in microseconds of the trace's clock. */
export const STEP_US = 10;

/** A trace event as the Chrome JSON trace format has it. */
export interface TraceEvent {
  readonly name: string;
  readonly ph: 'B' | 'E' | 'X' | 'C' | 'M' | 'i';
  readonly ts: number;
  readonly pid: number;
  readonly tid?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly s?: 'g' | 'p' | 't';
  readonly args?: Readonly<Record<string, unknown>>;
}

export function chromeTrace(results: readonly CheckResult[]): { traceEvents: TraceEvent[]; displayTimeUnit: 'ns' } {
  const events: TraceEvent[] = [];
  let pid = 0;
  for (const r of results) {
    r.findings.forEach((f, i) => {
      pid++;
      findingEvents(events, pid, `${r.scenario} on ${r.tree} [${i + 1}] ${f.kind}: ${f.title}`, f);
    });
  }
  return { traceEvents: events, displayTimeUnit: 'ns' };
}

function findingEvents(out: TraceEvent[], pid: number, name: string, f: FindingReport): void {
  out.push({ name: 'process_name', ph: 'M', ts: 0, pid, args: { name } });
  out.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid, args: { sort_index: pid } });
  // Thread ids of the trace: the engine's, plus one (the setup's notes are -1: track 0).
  const tidOf = (tid: number): number => tid + 1;
  const named = new Set<number>();
  /** Per thread: its open frames (outermost first) and when its last step ended. */
  const open = new Map<number, { frames: string[]; end: number }>();
  const counters = new Map<string, number>();
  const count = (state: ModelState | undefined, ts: number): void => {
    if (!state) return;
    for (const s of state.sections) {
      for (const row of s.rows) {
        for (const [c, v] of Object.entries(row.counters ?? {})) {
          const track = `${s.name} ${row.key} ${c}`;
          if (counters.get(track) === v) continue;
          counters.set(track, v);
          out.push({ name: track, ph: 'C', ts, pid, args: { [c]: v } });
        }
      }
    }
  };
  count(f.initialState, 0);
  for (const step of f.trace) {
    const tid = tidOf(step.tid);
    if (!named.has(tid)) {
      named.add(tid);
      out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: step.thread } });
      out.push({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid, args: { sort_index: tid } });
    }
    const ts = step.index * STEP_US;
    const t = open.get(tid) ?? { frames: [], end: ts };
    open.set(tid, t);
    let shared = 0;
    while (shared < t.frames.length && shared < step.stack.length && t.frames[shared] === step.stack[shared]) shared++;
    // The frames this step is no longer in ended with the thread's previous step.
    for (let k = t.frames.length - 1; k >= shared; k--) out.push({ name: t.frames[k]!, ph: 'E', ts: t.end, pid, tid });
    t.frames.length = shared;
    for (let k = shared; k < step.stack.length; k++) {
      out.push({ name: step.stack[k]!, cat: 'function', ph: 'B', ts, pid, tid });
      t.frames.push(step.stack[k]!);
    }
    out.push({ name: step.label, cat: 'step', ph: 'X', ts, dur: STEP_US, pid, tid, args: { step: step.index, ...(step.notes.length ? { notes: step.notes } : {}) } });
    t.end = ts + STEP_US;
    count(step.state, ts + STEP_US);
  }
  // The finding, at its step (the last), on its thread; then every frame still open ends.
  const lastStep = f.trace.at(-1);
  out.push({ name: `${f.kind}: ${f.title}`, cat: 'finding', ph: 'i', s: 'p', ts: (lastStep?.index ?? 0) * STEP_US, pid, tid: lastStep ? tidOf(lastStep.tid) : 0, args: { report: f.description, replay: f.replay } });
  for (const [tid, t] of open) for (let k = t.frames.length - 1; k >= 0; k--) out.push({ name: t.frames[k]!, ph: 'E', ts: t.end, pid, tid });
}
