// The JSON document of check and replay (DESIGN.md, "The command and its contract").

import type { CheckResult } from '../cli/jobs.js';

export function resultsDocument(results: readonly CheckResult[]): unknown {
  return {
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
