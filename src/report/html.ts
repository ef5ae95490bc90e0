// A self-contained HTML report: the matrix, then every finding with its interleaving as a
// table with one column per thread, so the races read left to right.

import type { CheckResult } from '../cli/jobs.js';
import type { TraceStep } from '../engine/execution.js';
import { kernelReport, upstreamLines, verdict } from './text.js';
import { describeLabel } from './triage.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function htmlReport(results: readonly CheckResult[], trees: readonly string[], title: string): string {
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const cols = trees.filter((t) => results.some((r) => r.tree === t));
  const cell = (s: string, t: string): string => {
    const r = results.find((x) => x.scenario === s && x.tree === t);
    if (!r) return '<td class="na">-</td>';
    const v = verdict(r);
    return `<td class="${r.findings.length ? 'bad' : 'ok'}">${r.findings.length ? `<a href="#${esc(anchor(r))}">${esc(v)}</a>` : esc(v)}</td>`;
  };
  const parts: string[] = [];
  parts.push(`<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
td.ok{background:#e8f5e9}td.bad{background:#ffebee}td.na{color:#999}
.trace td{font-family:ui-monospace,monospace;font-size:.85em}.note{color:#b71c1c}.stack{color:#666}
code{word-break:break-all}</style></head><body>`);
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(`<table><tr><th>scenario</th>${cols.map((t) => `<th>${esc(t)}</th>`).join('')}</tr>`);
  for (const s of scenarios) parts.push(`<tr><td>${esc(s)}</td>${cols.map((t) => cell(s, t)).join('')}</tr>`);
  parts.push('</table>');
  for (const r of results) {
    if (!r.findings.length) continue;
    parts.push(`<h2 id="${esc(anchor(r))}">${esc(r.scenario)} on ${esc(r.tree)}</h2>`);
    r.findings.forEach((f, i) => {
      parts.push(`<h3>[${i + 1}] ${esc(f.kind)}: ${esc(f.title)}</h3>`);
      parts.push(`<p>in ${esc(f.thread)} <span class="stack">${esc(f.stack.join(' > '))}</span>; reached by ${f.count} of ${r.explored} executions</p>`);
      parts.push(`<p class="triage">${esc(describeLabel(f.label))}${f.waived !== undefined ? `; <b>waived</b> by <code>${esc(f.waived)}</code>` : ''}</p>`);
      parts.push(`<pre class="upstream">${esc(upstreamLines(f).join('\n'))}</pre>`);
      parts.push(`<pre class="report">${esc(kernelReport(f).join('\n'))}</pre>`);
      parts.push(traceTable(f.trace));
      parts.push(`<p>replay: <code>zonedev replay ${esc(f.replay)}</code></p>`);
    });
  }
  parts.push('</body></html>');
  return parts.join('\n');
}

function anchor(r: CheckResult): string {
  return `${r.scenario}@${r.tree}`;
}

function traceTable(trace: readonly TraceStep[]): string {
  const threads = [...new Set(trace.map((s) => s.thread))];
  const rows = trace.map((s) => {
    const cells = threads.map((t) =>
      t === s.thread
        ? `<td><span class="stack">${esc(s.stack.join(' > '))}</span><br>${esc(s.label)}${s.notes.map((n) => `<br><span class="note">${esc(n)}</span>`).join('')}</td>`
        : '<td></td>',
    );
    return `<tr><td>${s.index === 0 ? 'setup' : s.index}</td>${cells.join('')}</tr>`;
  });
  return `<table class="trace"><tr><th>#</th>${threads.map((t) => `<th>${esc(t)}</th>`).join('')}</tr>${rows.join('')}</table>`;
}
