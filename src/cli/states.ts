// The model's state at every step of each finding's interleaving, for the trace viewer (--html)
// and the Perfetto trace (--trace-out): each finding's replay token run once more with the state
// captured. Exploration never captures it; this costs one execution per finding.

import type { CheckResult, FindingReport } from './jobs.js';
import { isJobError } from './jobs.js';
import { runJobs, type PoolOptions } from './pool.js';

/**
 * The results with each finding's trace replaced by its replay's, which has the state after
 * every step (and `initialState`). A finding whose replay fails keeps its trace without state,
 * and `failed` says which.
 */
export async function withStates(results: readonly CheckResult[], pool: PoolOptions): Promise<{ results: CheckResult[]; failed: string[] }> {
  const findings = results.flatMap((r) => r.findings);
  if (findings.length === 0) return { results: [...results], failed: [] };
  const outcomes = await runJobs(
    findings.map((f) => ({ kind: 'replay', token: f.replay, states: true })),
    pool,
  );
  const failed: string[] = [];
  const replayed = new Map<FindingReport, FindingReport>();
  findings.forEach((f, i) => {
    const o = outcomes[i]!;
    const again = isJobError(o) ? undefined : o.findings.find((g) => g.kind === f.kind && g.description === f.description && g.stack.join('>') === f.stack.join('>'));
    if (again?.initialState) replayed.set(f, { ...f, trace: again.trace, initialState: again.initialState });
    else failed.push(`${f.kind}: ${f.title}${isJobError(o) ? ` (${o.error})` : ''}`);
  });
  return { results: results.map((r) => ({ ...r, findings: r.findings.map((f) => replayed.get(f) ?? f) })), failed };
}
