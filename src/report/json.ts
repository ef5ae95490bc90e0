// The JSON document of check and replay (DESIGN.md, "The command and its contract"), and of
// one shard of a check, which says which share of which check it holds.

import type { CheckResult } from '../cli/jobs.js';
import type { ShardHeader } from '../cli/shard.js';

export function resultsDocument(results: readonly CheckResult[], shard?: ShardHeader): unknown {
  return {
    ...(shard ? { shard } : {}),
    results: results.map((r) => ({
      scenario: r.scenario,
      tree: r.tree,
      params: r.params,
      status: r.status,
      strategy: r.strategy,
      explored: r.explored,
      sleepBlocked: r.sleepBlocked,
      steps: r.steps,
      complete: r.complete,
      stopReason: r.stopReason,
      findings: r.findings,
    })),
  };
}
