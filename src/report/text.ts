// Plain-text reports: the scenario × tree matrix, and findings with their numbered
// interleavings, in the manner of the numbered sequence of events in a kernel bug report.

import type { TraceStep } from '../engine/execution.js';
import type { CheckResult, FindingReport } from '../cli/jobs.js';

/** The cell of the matrix for one result: ok, or the kinds found. */
export function verdict(r: CheckResult): string {
  if (r.findings.length > 0) {
    const kinds = [...new Set(r.findings.map((f) => f.kind))].sort();
    return kinds.join(',') + (r.complete ? '' : '?');
  }
  return r.complete ? 'ok' : 'ok?';
}

/** Rows scenarios, columns trees; "-" where a scenario does not apply to a tree. */
export function matrix(results: readonly CheckResult[], trees: readonly string[]): string {
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const cols = trees.filter((t) => results.some((r) => r.tree === t));
  const head = ['scenario', ...cols];
  const rows = scenarios.map((s) => [s, ...cols.map((t) => {
    const r = results.find((x) => x.scenario === s && x.tree === t);
    return r ? verdict(r) : '-';
  })]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (results.some((r) => !r.complete)) out.push('', '?: exploration stopped at a limit; what was found is shown, other findings may exist');
  return out.join('\n');
}

/** One line per finding: where it is, what it is, and how to see it. */
export function findingSummary(r: CheckResult, f: FindingReport): string {
  return `${r.scenario} @ ${r.tree}: ${f.kind}: ${f.title}\n    zonedev replay ${f.replay}`;
}

/** A finding in full: what, where, how often, the interleaving, and the replay token. */
export function findingDetail(r: CheckResult, f: FindingReport, index: number): string {
  const out: string[] = [];
  out.push(`[${index}] ${f.kind}: ${f.title}`);
  out.push(`    scenario ${r.scenario}, tree ${r.tree}; in ${f.thread}${f.stack.length ? `: ${f.stack.join(' > ')}` : ''}`);
  if (r.stopReason !== 'replay') out.push(`    reached by ${f.count} of ${r.explored} executions; the shortest interleaving:`);
  else out.push('    the interleaving:');
  out.push(...interleaving(f.trace).map((l) => `    ${l}`));
  out.push(`    replay: zonedev replay ${f.replay}`);
  return out.join('\n');
}

/** Numbered steps; runs of the same thread doing the same thing are folded into one line. */
export function interleaving(trace: readonly TraceStep[]): string[] {
  const out: string[] = [];
  const name = Math.max(6, ...trace.map((s) => s.thread.length));
  for (let i = 0; i < trace.length; ) {
    const s = trace[i]!;
    let j = i + 1;
    while (j < trace.length && trace[j]!.notes.length === 0 && s.notes.length === 0 && sameStep(trace[j]!, s)) j++;
    const num = s.index === 0 ? 'setup' : j - i > 1 ? `${s.index}-${trace[j - 1]!.index})` : `${s.index})`;
    const where = s.stack.length ? `${shortStack(s.stack)}: ` : '';
    out.push(`${num.padStart(7)} ${s.thread.padEnd(name)}  ${where}${s.label}${j - i > 1 ? ` (x${j - i})` : ''}`);
    for (const n of s.notes) out.push(`${' '.repeat(9 + name)}  ${n}`);
    i = j;
  }
  return out;
}

function sameStep(a: TraceStep, b: TraceStep): boolean {
  return a.tid === b.tid && a.label === b.label && a.stack.join('>') === b.stack.join('>');
}

function shortStack(stack: readonly string[]): string {
  return stack.length > 4 ? `… > ${stack.slice(-4).join(' > ')}` : stack.join(' > ');
}
