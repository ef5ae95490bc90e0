// Plain-text reports: the scenario × tree matrix, and findings with their numbered
// interleavings, in the manner of the numbered sequence of events in a kernel bug report.

import type { TraceStep } from '../engine/execution.js';
import type { CheckResult, FindingReport } from '../cli/jobs.js';
import { describeLabel } from './triage.js';
import { reportHeader } from './titles.js';
import { bugKey, cite, knownBugById } from '../history/known-bugs.js';

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
  return `${r.scenario} @ ${r.tree}: ${f.kind}: ${f.title}${marks(f)}\n    zonedev replay ${f.replay}`;
}

/** What triage says of a finding, when it is not the plain case: fault, kernel warning, waived. */
function marks(f: FindingReport): string {
  const m: string[] = [f.origin === 'known' ? `known${f.bug ? `: ${f.bug}` : ''}` : 'new'];
  if (f.label !== 'no-fault') m.push(describeLabel(f.label));
  if (f.waived !== undefined) m.push('waived');
  return m.length ? ` [${m.join('; ')}]` : '';
}

/**
 * One bug: the findings of one scenario that are one catalogue entry, or else have one kind
 * and description, on any tree and through any call path (the sites differ in the function
 * that reported them, and so may their titles).
 */
export interface FindingGroup {
  readonly scenario: string;
  readonly kind: string;
  readonly title: string;
  readonly members: readonly { readonly result: CheckResult; readonly finding: FindingReport }[];
}

/** The findings of `results` grouped into bugs, in the order they are first reported. */
export function groupFindings(results: readonly CheckResult[]): FindingGroup[] {
  const groups = new Map<string, { scenario: string; kind: string; title: string; members: { result: CheckResult; finding: FindingReport }[] }>();
  for (const r of results) {
    for (const f of r.findings) {
      const key = `${r.scenario}\u0000${bugKey(f)}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { scenario: r.scenario, kind: f.kind, title: f.title, members: [] }));
      g.members.push({ result: r, finding: f });
    }
  }
  return [...groups.values()];
}

/**
 * The list of bugs found, one line each: number, kind, trees, how many executions reached it
 * (of how many), the call paths, how it was reached, and the title last, so that the columns
 * stay aligned whatever its length.
 */
export function findingsList(groups: readonly FindingGroup[], width?: number): string[] {
  if (groups.length === 0) return [];
  const rows = groups.map((g, i) => {
    const trees = [...new Set(g.members.map((m) => m.result.tree))];
    const reached = g.members.reduce((n, m) => n + m.finding.count, 0);
    const of = trees.reduce((n, t) => n + g.members.find((m) => m.result.tree === t)!.result.explored, 0);
    const paths = g.members.length / trees.length;
    const labels = [...new Set(g.members.map((m) => m.finding.label))];
    const waived = g.members.every((m) => m.finding.waived !== undefined);
    const flags = [labels.length === 1 ? labels[0]! : labels.join('/'), ...(paths > 1 ? [`${g.members.length} paths`] : []), ...(waived ? ['waived'] : [])].join(' ');
    const first = g.members[0]!.finding;
    return [`[${i + 1}]`, g.kind, trees.join(','), `${reached}/${of}`, first.origin, flags, g.title];
  });
  const widths = rows[0]!.slice(0, -1).map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const plural = groups.length === 1 ? 'bug' : 'bugs';
  return [
    `${groups.length} ${plural} found: kind, trees, executions that reached it, known upstream or new, how:`,
    ...rows.map((r) => fit(`  ${r.slice(0, -1).map((c, i) => c.padEnd(widths[i]!)).join('  ')}  ${r.at(-1)}`, width)),
    "  (known: fixed or removed upstream, or the kernel's intended warning; new: not in the catalogue, or not fixed upstream)",
    "  (no-fault: reached without an injected failure; fault: only with one; fault-warning: the kernel's own warning for one)",
  ];
}

/** A line cut to `width` (a terminal's), marked with an ellipsis; whole when no width is given. */
function fit(line: string, width?: number): string {
  return width !== undefined && line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** A finding in full: what, where, how often, how it was reached, the interleaving, and the replay token. */
export function findingDetail(r: CheckResult, f: FindingReport, index: number | string, full = false, width?: number): string {
  const out: string[] = [];
  out.push(`[${index}] ${f.kind}: ${f.title}`);
  out.push(`    scenario ${r.scenario}, tree ${r.tree}; ${f.thread === '(end)' ? 'at the end of the run' : `task ${f.thread}`}; ${describeLabel(f.label)}${f.waived !== undefined ? `; waived by: ${f.waived}` : ''}`);
  out.push(...upstreamLines(f).map((l) => `    ${l}`));
  out.push(...kernelReport(f).map((l) => `    ${l}`));
  if (r.stopReason !== 'replay') out.push(`    reached by ${f.count} of ${r.explored} executions; the shortest interleaving:`);
  else out.push('    the interleaving:');
  out.push(...interleaving(f.trace, full, stepsNamed(f.details), width === undefined ? undefined : width - 4).map((l) => `    ${l}`));
  out.push(`    replay: zonedev replay ${f.replay}`);
  return out.join('\n');
}

/** What the catalogue says of a finding: the upstream bug it is, introduced and fixed by which commits. */
export function upstreamLines(f: Pick<FindingReport, 'bug' | 'origin'>): string[] {
  const b = knownBugById(f.bug);
  if (!b) return ['new: not in the catalogue of known upstream bugs'];
  const out = [`${f.origin} (${b.id}): ${b.summary}`];
  if (b.introducedBy) out.push(`  introduced by ${cite(b.introducedBy)}`);
  if (b.fixedBy) out.push(`  ${b.upstream === 'removed' ? 'gone upstream with' : b.upstream === 'not-merged' ? 'never merged; merged instead:' : 'fixed by'} ${cite(b.fixedBy)}`);
  if (b.upstream === 'unfixed') out.push('  not fixed upstream');
  return out;
}

/** The steps a report names ("Freed by task driver in step 182:", a hung task's "step 109  process  +1 ..."). */
export function stepsNamed(details: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const d of details) {
    const m = / in step (\d+):$/.exec(d) ?? /^\s+step\s+(\d+)  /.exec(d);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

/**
 * The finding as the kernel prints it after its title: the Call Trace of the task that hit
 * it, innermost first, then what the report adds (KASAN's "Allocated by task" and "Freed by
 * task", with their stacks and steps).
 */
export function kernelReport(f: Pick<FindingReport, 'kind' | 'stack' | 'details' | 'description' | 'thread' | 'tid'>): string[] {
  const out: string[] = reportHeader(f);
  // A WARN's "WARNING: CPU: ..." line is its header; the rest of the details follow the trace.
  const details = f.details[0] !== undefined && out[0] === f.details[0] ? f.details.slice(1) : f.details;
  if (f.stack.length > 0) out.push('Call Trace:', ...[...f.stack].reverse().map((fn) => ` ${fn}`));
  out.push(...details);
  return out;
}

/**
 * Numbered steps. Unless `full`, a run of steps of one thread inside one top-level call, with
 * nothing to note, is folded into one line ending in the run's last step: a thread switch, a
 * fault, a warning or a log line always shows, so the interleaving reads like the numbered
 * sequence of a bug report.
 */
export function interleaving(trace: readonly TraceStep[], full = false, keep: ReadonlySet<number> = new Set(), width?: number): string[] {
  const out: string[] = [];
  const name = Math.max(6, ...trace.map((s) => s.thread.length));
  const last = trace.at(-1);
  // A step with something to say, or one the report names (an allocation, a free), is never folded.
  const shown = (x: TraceStep): boolean => x.notes.length > 0 || keep.has(x.index);
  for (let i = 0; i < trace.length; ) {
    const s = trace[i]!;
    let j = i + 1;
    if (full) {
      while (j < trace.length && !shown(trace[j]!) && !shown(s) && sameStep(trace[j]!, s)) j++;
    } else {
      // Fold within one thread and one top-level call; keep the final step on its own.
      while (j < trace.length && trace[j] !== last && !shown(s) && !shown(trace[j - 1]!) && trace[j]!.tid === s.tid && (trace[j]!.stack[0] ?? '') === (s.stack[0] ?? '') && s.stack.length > 0) j++;
      if (j - i > 1 && shown(trace[j - 1]!)) j--;
    }
    const end = trace[j - 1]!;
    const num = s.index === 0 ? 'setup' : j - i > 1 ? `${s.index}-${end.index})` : `${s.index})`;
    const head = `${num.padStart(9)} ${s.thread.padEnd(name)}  `;
    // Within `width`: fewer frames of the stack first, then the end of the line cut.
    let line = '';
    for (let frames = 4; frames >= 0; frames--) {
      const where = end.stack.length && frames > 0 ? `${shortStack(end.stack, frames)}: ` : '';
      const what = full || j - i === 1 ? `${where}${s.label}${j - i > 1 ? ` (x${j - i})` : ''}` : `${s.stack[0]}: ${j - i} steps, the last ${where}${end.label}`;
      line = head + what;
      if (width === undefined || line.length <= width) break;
    }
    out.push(width !== undefined && line.length > width ? `${line.slice(0, Math.max(head.length + 10, width - 1))}…` : line);
    // A note (the kernel's message) is wrapped, not cut: every word of it matters.
    for (const n of end.notes) out.push(...wrap(n, ' '.repeat(11 + name + 2), width));
    i = j;
  }
  return out;
}

/** `text` after `indent`, in lines of at most `width` where its words allow. */
function wrap(text: string, indent: string, width: number | undefined): string[] {
  if (width === undefined || indent.length + text.length <= width) return [indent + text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

function sameStep(a: TraceStep, b: TraceStep): boolean {
  return a.tid === b.tid && a.label === b.label && a.stack.join('>') === b.stack.join('>');
}

function shortStack(stack: readonly string[], frames = 4): string {
  return stack.length > frames ? `… > ${stack.slice(-frames).join(' > ')}` : stack.join(' > ');
}
