// Cells of one library scenario, with the same parameters and settings, on trees that answer
// alike every patch the model asked about, are the same exploration. The model learns which
// tree it runs only through patched() (kernel/machine.ts), and exploration is deterministic:
// a run on tree B that gets, to each question, the answer the run on tree A got asks the same
// questions in the same order, takes the same steps and finds the same. So the check of a cell
// may take an earlier cell's complete result when B answers each id A's exploration asked about
// as A does (v6.0 and v6.1 differ by device-private patches that no P2PDMA scenario reaches),
// under its own tree name and with tokens that name its tree (same-source.ts retarget()).
// A scenario file may read the tree's name in build(), so only library scenarios qualify.

import { explore } from '../engine/explore.js';
import { findTree, patchesOf } from '../history/trees.js';
import { askedWhile } from '../kernel/machine.js';
import { libraryScenario } from './catalog.js';
import type { CheckJob } from './jobs.js';

type CheckSpec = Omit<CheckJob, 'heartbeat'>;

/**
 * The family of cells that may share results: a library scenario, its parameters and settings,
 * explored exhaustively with no time limit. Undefined for any other cell.
 */
export function familyKey(spec: CheckSpec): string | undefined {
  if (spec.scenario.kind !== 'library' || spec.tree === '-') return undefined;
  const s = spec.settings;
  if ((s.strategy !== 'dpor' && s.strategy !== 'dfs') || s.timeLimitMs !== undefined || s.deadline !== undefined) return undefined;
  return JSON.stringify([spec.scenario.name, spec.params, s]);
}

/** The patches `tree` applies: its series point's and its what-if patches (T+a+b). */
export function patchSet(tree: string): ReadonlySet<string> | undefined {
  const [base, ...whatIf] = tree.split('+');
  const t = findTree(base!);
  return t ? new Set([...patchesOf(t), ...whatIf]) : undefined;
}

/** Whether trees `a` and `b` give the same answer to patched(id) for every id of `asked`. */
export function answersAlike(asked: Iterable<string>, a: string, b: string): boolean {
  const pa = patchSet(a);
  const pb = patchSet(b);
  if (!pa || !pb) return false;
  for (const id of asked) if (pa.has(id) !== pb.has(id)) return false;
  return true;
}

/**
 * The patch ids the first execution of a cell (no fault, each thread in turn) asks about, or
 * undefined when it cannot run here. Cells of a family whose first executions ask alike are
 * likely one exploration: the later one waits for the earlier one's whole answer.
 */
/** Executions of a probe: enough to reach past the setup and into a fault path. */
const PROBE_EXECUTIONS = 8;

export function probeAsked(spec: CheckSpec): readonly string[] | undefined {
  if (spec.scenario.kind !== 'library') return undefined;
  const s = libraryScenario(spec.scenario.name);
  if (!s) return undefined;
  try {
    return askedWhile(() => explore(s.build(spec.tree, spec.params), { strategy: 'random', seed: 1, maxExecutions: PROBE_EXECUTIONS, maxFaults: 1, faultRate: 0.5 })).asked;
  } catch {
    return undefined;
  }
}
