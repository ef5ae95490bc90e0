// zonedev bisect: check a scenario at every point of the patch series and name, for each
// finding, the patch that introduced it and the patch that removed it.

import type { Scenario } from '../../scenarios/scenario.js';
import { bugKey } from '../history/known-bugs.js';
import { SERIES } from '../history/patches.js';
import { seriesPoints, TREES } from '../history/trees.js';
import { applies, type ScenarioRef, UsageError } from './catalog.js';
import { type CheckResult, type CheckSettings, isJobError } from './jobs.js';
import { type PoolOptions, runJobs } from './pool.js';

export interface BisectPoint {
  /** The series point, "@base" or "@<patch id>". */
  readonly point: string;
  /** The named trees that sit at this point. */
  readonly trees: readonly string[];
  readonly complete: boolean;
  readonly findings: readonly { readonly kind: string; readonly title: string; readonly description: string; readonly bug?: string; readonly replay: string }[];
}

export interface BisectFinding {
  readonly kind: string;
  readonly title: string;
  readonly description: string;
  /** The catalogue entry (history/known-bugs.ts), if any: one bug whatever struct it names on each tree. */
  readonly bug?: string;
  /** The first patch after which it is found (null: found from the start of the series). */
  readonly introducedBy: string | null;
  /** The first patch after which it is no longer found (null: still found at the end). */
  readonly removedBy: string | null;
  /** Points at which it was found. */
  readonly foundAt: readonly string[];
  /**
   * The boundaries that rest on a point not explored completely: the finding is absent there,
   * but perhaps only because the exploration stopped before reaching it.
   */
  readonly unsure: readonly ('introducedBy' | 'removedBy')[];
}

export interface BisectResult {
  readonly scenario: string;
  readonly points: readonly BisectPoint[];
  readonly findings: readonly BisectFinding[];
}

export async function bisect(s: Scenario, ref: ScenarioRef, params: Readonly<Record<string, number>>, settings: CheckSettings, pool: PoolOptions): Promise<BisectResult> {
  const points = seriesPoints().filter((p) => applies(s, p));
  if (points.length === 0) throw new UsageError(`scenario ${s.name} applies to no point of the series`);
  const outcomes = await runJobs(points.map((p) => ({ kind: 'check' as const, scenario: ref, tree: p.name, params, settings })), pool);
  const results: CheckResult[] = [];
  for (const o of outcomes) {
    if (isJobError(o)) throw new UsageError(o.error);
    results.push(o);
  }
  const bisectPoints: BisectPoint[] = results.map((r, i) => ({
    point: points[i]!.name,
    trees: TREES.filter((t) => t.upTo === points[i]!.upTo).map((t) => t.name),
    complete: r.complete,
    findings: r.findings.map((f) => ({ kind: f.kind, title: f.title, description: f.description, ...(f.bug ? { bug: f.bug } : {}), replay: f.replay })),
  }));
  // One bug per catalogue entry, or else per kind and description (its title names a function,
  // which two bugs may share).
  const keys = new Map<string, BisectPoint['findings'][number]>();
  for (const p of bisectPoints) for (const f of p.findings) if (!keys.has(bugKey(f))) keys.set(bugKey(f), f);
  const findings: BisectFinding[] = [];
  for (const [key, f] of keys) {
    const present = bisectPoints.map((p) => p.findings.some((x) => bugKey(x) === key));
    const first = present.indexOf(true);
    const afterFirst = present.indexOf(false, first);
    const unsure: ('introducedBy' | 'removedBy')[] = [];
    if (first > 0 && !bisectPoints.slice(0, first).every((p) => p.complete)) unsure.push('introducedBy');
    if (afterFirst >= 0 && !bisectPoints[afterFirst]!.complete) unsure.push('removedBy');
    findings.push({
      kind: f.kind,
      title: f.title,
      description: f.description,
      ...(f.bug ? { bug: f.bug } : {}),
      introducedBy: first === 0 ? null : patchOf(points[first]!.upTo),
      removedBy: afterFirst < 0 ? null : patchOf(points[afterFirst]!.upTo),
      foundAt: bisectPoints.filter((_, i) => present[i]).map((p) => p.point),
      unsure,
    });
  }
  return { scenario: s.name, points: bisectPoints, findings };
}

function patchOf(upTo: string | undefined): string | null {
  return upTo ?? null;
}

export function bisectText(r: BisectResult): string {
  const subject = (id: string | null): string => {
    if (id === null) return '';
    const p = SERIES.find((x) => x.id === id);
    return p ? ` "${p.subject}"${p.commit ? ` (${p.commit.slice(0, 12)})` : ''}` : '';
  };
  const out: string[] = [`bisect ${r.scenario} over ${r.points.length} points of the series:`];
  for (const p of r.points) {
    const kinds = [...new Set(p.findings.map((f) => f.kind))].sort().join(',') || 'ok';
    out.push(`  ${p.point.padEnd(40)} ${(kinds + (p.complete ? '' : '?')).padEnd(14)} ${p.trees.join(' ')}`);
  }
  out.push('');
  if (r.findings.length === 0) out.push('no findings at any point');
  for (const f of r.findings) {
    out.push(`${f.kind}: ${f.title}${f.bug ? ` [${f.bug}]` : ''}`, `  ${f.description}`);
    const unsure = (which: 'introducedBy' | 'removedBy'): string => (f.unsure.includes(which) ? ' — not certain: a point where it is absent was not explored completely (marked ?)' : '');
    out.push(`  introduced by: ${f.introducedBy === null ? '(present from the start of the series)' : `${f.introducedBy}${subject(f.introducedBy)}`}${unsure('introducedBy')}`);
    out.push(`  removed by:    ${f.removedBy === null ? '(still present at the end of the series)' : `${f.removedBy}${subject(f.removedBy)}`}${unsure('removedBy')}`);
  }
  return out.join('\n');
}
