// Cells whose trees are one point of the patch series (v6.12 and v6.14 have the same modelled
// source) are the same program: the check explores it once and gives every such cell its
// result, under the cell's own tree name and with replay tokens that name that tree. The
// exploration is deterministic, so the result is the one each cell would have had on its own.

import { decodeToken, encodeToken } from '../engine/token.js';
import { findTree, patchesOf } from '../history/trees.js';
import type { CheckJob, CheckResult } from './jobs.js';

type CheckSpec = Omit<CheckJob, 'heartbeat'>;

/** What a cell explores: its scenario, the patches its tree applies, its parameters and settings. */
export function sourceKey(spec: CheckSpec): string | undefined {
  if (spec.tree === '-') return undefined;
  const [base, ...whatIf] = spec.tree.split('+');
  const tree = findTree(base!);
  if (!tree) return undefined;
  return JSON.stringify([spec.scenario, [...patchesOf(tree), ...[...whatIf].sort()], spec.params, spec.settings]);
}

/** The result of one cell, as another cell of the same source reports it. */
export function retarget(r: CheckResult, spec: CheckSpec): CheckResult {
  return {
    ...r,
    tree: spec.tree,
    findings: r.findings.map((f) => {
      const rec = decodeToken(f.replay);
      return { ...f, replay: encodeToken({ ...rec, program: { ...rec.program, tree: spec.tree } }) };
    }),
  };
}
