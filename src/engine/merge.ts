// The result of an exploration from the results of its parts (fault plans, subtree tasks),
// whatever order they ran and merged in: counts add up, findings of one site merge into one
// with the interleaving the whole exploration would keep (collector.ts), outcomes unite.

import { betterFinding, type Finding, reportOrder } from './collector.js';
import type { ExploreResult, StopReason } from './explore.js';

export type PartResult = ExploreResult & { readonly declined: number };

export function mergeResults(parts: readonly PartResult[]): PartResult {
  const bySite = new Map<string, Finding>();
  let explored = 0;
  let sleepBlocked = 0;
  let declined = 0;
  let steps = 0;
  let complete = true;
  let bounded = false;
  let stopReason: StopReason = 'done';
  const outcomes = new Set<string>();
  let anyOutcomes = false;
  for (const r of parts) {
    explored += r.explored;
    sleepBlocked += r.sleepBlocked;
    declined += r.declined;
    steps += r.steps;
    complete &&= r.complete;
    bounded ||= r.bounded;
    if (STOP_RANK[r.stopReason] > STOP_RANK[stopReason]) stopReason = r.stopReason;
    if (r.outcomes) {
      anyOutcomes = true;
      for (const o of r.outcomes) outcomes.add(o);
    }
    for (const f of r.findings) {
      const prev = bySite.get(f.site);
      bySite.set(f.site, prev ? { ...betterFinding(f, prev), count: prev.count + f.count } : f);
    }
  }
  return {
    strategy: parts[0]?.strategy ?? 'dpor',
    explored,
    sleepBlocked,
    declined,
    steps,
    complete,
    stopReason,
    bounded,
    findings: [...bySite.values()].sort(reportOrder),
    outcomes: anyOutcomes ? [...outcomes].sort() : undefined,
  };
}

/** Why the whole stopped, of its parts' reasons: the one that stopped the most. */
const STOP_RANK: Readonly<Record<StopReason, number>> = { done: 0, steps: 1, executions: 2, time: 3, interrupted: 4 };
