// A self-contained HTML report (nothing fetched): the matrix, an index of the findings, and per
// finding its kernel report and an interactive viewer of its interleaving: the threads as
// swimlanes, a step cursor moved by keyboard (arrow keys, j/k, Home/End) and by click, the
// setup (the steps before a second thread first runs) collapsed, and the model's state at the
// cursor (kernel/inspect.ts) with what the step changed highlighted.
//
// The data of the viewers is one JSON block, read by the page's script; every text of the model
// (labels, stacks, notes, state) is put in the page with textContent, never as markup. The state
// is stored once in full and then as the rows each step changed.

import type { CheckResult, FindingReport } from '../cli/jobs.js';
import type { TraceStep } from '../engine/execution.js';
import { BLOCKED_SECTION, type ModelState } from '../engine/state.js';
import { groupFindings, kernelReport, upstreamLines, verdict } from './text.js';
import { describeLabel } from './triage.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One row of the state, as the viewer keeps it: section, key, value (null: the row is gone). */
type RowChange = readonly [string, string, string | null];

/** What the page's script gets for one finding. */
interface ViewerData {
  readonly id: string;
  readonly threads: readonly string[];
  /** Steps before the first step of a second thread: collapsed at first. */
  readonly setup: number;
  readonly steps: readonly { readonly index: number; readonly thread: string; readonly label: string; readonly stack: readonly string[]; readonly notes: readonly string[] }[];
  /** The sections of the state, in order; the state after setup (rows in order), when the finding's replay captured it. */
  readonly sections?: readonly string[];
  readonly initial?: readonly RowChange[];
  /** For each step, the rows it changed. */
  readonly changes?: readonly (readonly RowChange[])[];
}

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
  parts.push(`<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(`<table class="matrix"><tr><th>scenario</th>${cols.map((t) => `<th>${esc(t)}</th>`).join('')}</tr>`);
  for (const s of scenarios) parts.push(`<tr><td>${esc(s)}</td>${cols.map((t) => cell(s, t)).join('')}</tr>`);
  parts.push('</table>');
  const withFindings = results.filter((r) => r.findings.length > 0);
  // Numbered as the text numbers them: a bug [n], each of its trees and call paths [n.k].
  const number = new Map<FindingReport, string>();
  const groups = groupFindings(results);
  groups.forEach((g, i) => g.members.forEach((m, k) => number.set(m.finding, g.members.length > 1 ? `${i + 1}.${k + 1}` : `${i + 1}`)));
  const anchorOf = new Map<FindingReport, string>();
  for (const r of withFindings) r.findings.forEach((f, i) => anchorOf.set(f, findingAnchor(r, i)));
  if (groups.length > 0) {
    parts.push('<h2>Findings</h2><ul class="index">');
    for (const g of groups) {
      for (const m of g.members) {
        const f = m.finding;
        parts.push(`<li><a href="#${esc(anchorOf.get(f)!)}">[${number.get(f)}] ${esc(f.kind)}: ${esc(f.title)}</a> (${esc(m.result.scenario)} on ${esc(m.result.tree)})${f.waived !== undefined ? ' <b>waived</b>' : ''}</li>`);
      }
    }
    parts.push('</ul>');
  }
  const data: ViewerData[] = [];
  for (const r of withFindings) {
    parts.push(`<h2 id="${esc(anchor(r))}">${esc(r.scenario)} on ${esc(r.tree)}</h2>`);
    r.findings.forEach((f, i) => {
      const id = findingAnchor(r, i);
      parts.push(`<section class="finding" id="${esc(id)}">`);
      parts.push(`<h3>[${number.get(f)}] ${esc(f.kind)}: ${esc(f.title)}</h3>`);
      parts.push(`<p>in ${esc(f.thread)} <span class="stack">${esc(f.stack.join(' > '))}</span>; reached by ${f.count} of ${r.explored} executions</p>`);
      parts.push(`<p class="triage">${esc(describeLabel(f.label))}${f.waived !== undefined ? `; <b>waived</b> by <code>${esc(f.waived)}</code>` : ''}</p>`);
      parts.push(`<pre class="upstream">${esc(upstreamLines(f).join('\n'))}</pre>`);
      parts.push(`<pre class="report">${esc(kernelReport(f).join('\n'))}</pre>`);
      parts.push(`<div class="viewer" data-finding="${esc(id)}" tabindex="0"></div>`);
      parts.push(`<p>replay: <code>zonedev replay ${esc(f.replay)}</code></p>`);
      parts.push('</section>');
      data.push(viewerData(id, f));
    });
  }
  parts.push(`<script type="application/json" id="zonedev-data">${jsonForScript({ findings: data })}</script>`);
  parts.push(`<script>${SCRIPT}</script>`);
  parts.push('</body></html>');
  return parts.join('\n');
}

function anchor(r: CheckResult): string {
  return `${r.scenario}@${r.tree}`;
}

function findingAnchor(r: CheckResult, i: number): string {
  return `${anchor(r)}-${i + 1}`;
}

/**
 * The setup: the steps before a thread that waited at the start (for the provider's probe, on
 * these scenarios) can run, or before a second thread first steps when the state was not
 * captured; never a step that injects a fault.
 */
export function setupLength(trace: readonly TraceStep[], initial?: ModelState): number {
  const blocked = (st: ModelState | undefined): Set<string> => new Set(st?.sections.find((x) => x.name === BLOCKED_SECTION)?.rows.map((r) => r.key) ?? []);
  const waiting = blocked(initial);
  let first: string | undefined;
  for (let i = 0; i < trace.length; i++) {
    const s = trace[i]!;
    if (s.faultStacks?.length) return i;
    if (s.index === 0) continue;
    if (initial && s.state) {
      const now = blocked(s.state);
      if (waiting.size === 0 || [...waiting].some((t) => !now.has(t))) return i + 1;
      continue;
    }
    first ??= s.thread;
    if (s.thread !== first) return i;
  }
  return trace.length;
}

function rowsOf(state: ModelState): Map<string, RowChange> {
  const out = new Map<string, RowChange>();
  for (const s of state.sections) for (const r of s.rows) out.set(`${s.name}\u0000${r.key}`, [s.name, r.key, r.value]);
  return out;
}

function viewerData(id: string, f: FindingReport): ViewerData {
  const steps = f.trace.map((s) => ({ index: s.index, thread: s.thread, label: s.label, stack: s.stack, notes: s.notes }));
  const threads = [...new Set(f.trace.map((s) => s.thread))];
  const base = { id, threads, setup: setupLength(f.trace, f.initialState), steps };
  if (!f.initialState || f.trace.some((s) => !s.state && s.index > 0)) return base;
  let before = rowsOf(f.initialState);
  const initial = [...before.values()];
  const changes = f.trace.map((s): RowChange[] => {
    if (!s.state) return [];
    const after = rowsOf(s.state);
    const changed: RowChange[] = [];
    for (const [k, row] of after) if (before.get(k)?.[2] !== row[2]) changed.push(row);
    for (const [k, row] of before) if (!after.has(k)) changed.push([row[0], row[1], null]);
    before = after;
    return changed;
  });
  return { ...base, sections: f.initialState.sections.map((s) => s.name), initial, changes };
}

/** JSON that can sit inside a <script> element: nothing in it can end the element or open markup. */
function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
td.ok{background:#e8f5e9}td.bad{background:#ffebee}td.na{color:#999}
.stack{color:#666}.note{color:#b71c1c}code{word-break:break-all}
.viewer{outline:none;border:1px solid #ddd;padding:.5em}.viewer .body{display:flex;gap:1em;align-items:flex-start}
.viewer:focus{border-color:#1976d2}
.lanes{max-height:70vh;overflow:auto;flex:3;min-width:0}.lanes th{position:sticky;top:0;background:#fafafa}
.lanes table{margin:0;font-family:ui-monospace,monospace;font-size:.8em}
.lanes tr.step{cursor:pointer}.lanes tr.cursor td{background:#fff3cd}
.lanes tr.hidden{display:none}.lanes td.num{color:#666;text-align:right}
.statepanel{flex:2;position:sticky;top:0;font-family:ui-monospace,monospace;font-size:.8em;max-height:70vh;overflow:auto}
.statepanel h4{margin:.6em 0 .2em;font-family:system-ui,sans-serif}
.statepanel .row.changed{background:#c8e6c9}.statepanel .row.removed{background:#ffcdd2;text-decoration:line-through}.statepanel .key{color:#555}.statepanel .none{color:#999}
.where{font-family:ui-monospace,monospace;font-size:.85em;margin:.3em 0}
button.setup{margin:.3em 0}
`;

// The viewers' script. It builds every element itself and sets only textContent and classes.
const SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('zonedev-data').textContent);
  data.findings.forEach(function (d) {
    var root = document.querySelector('.viewer[data-finding="' + CSS.escape(d.id) + '"]');
    if (root) viewer(root, d);
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function viewer(root, d) {
    var left = el('div', 'lanes'), right = el('div', 'statepanel');
    var where = el('div', 'where');
    var toggle = el('button', 'setup');
    var table = el('table'), head = el('tr');
    head.appendChild(el('th', '', '#'));
    d.threads.forEach(function (t) { head.appendChild(el('th', '', t)); });
    table.appendChild(head);
    var rows = d.steps.map(function (s, i) {
      var tr = el('tr', 'step');
      tr.dataset.step = String(i);
      tr.appendChild(el('td', 'num', s.index === 0 ? 'setup' : String(s.index)));
      d.threads.forEach(function (t) {
        var td = el('td');
        if (t === s.thread) {
          td.appendChild(el('div', 'stack', s.stack.join(' > ')));
          td.appendChild(el('div', 'label', s.label));
          s.notes.forEach(function (n) { td.appendChild(el('div', 'note', n)); });
        }
        tr.appendChild(td);
      });
      tr.addEventListener('click', function () { move(i); root.focus(); });
      table.appendChild(tr);
      return tr;
    });
    var collapsed = d.setup > 0 && d.setup < d.steps.length;
    function showSetup() {
      rows.forEach(function (tr, i) { tr.classList.toggle('hidden', collapsed && i < d.setup); });
      toggle.textContent = collapsed ? 'show the ' + d.setup + ' setup steps' : 'hide the setup steps';
      toggle.hidden = !(d.setup > 0 && d.setup < d.steps.length);
    }
    toggle.addEventListener('click', function () {
      collapsed = !collapsed;
      showSetup();
      if (collapsed && at < d.setup) move(d.setup);
    });
    var body = el('div', 'body');
    left.appendChild(table);
    body.appendChild(left);
    body.appendChild(right);
    root.appendChild(toggle);
    root.appendChild(where);
    root.appendChild(body);

    // The state after each step, rebuilt from the changes.
    var states = [];
    if (d.initial) {
      var cur = new Map();
      d.initial.forEach(function (r) { cur.set(r[0] + '\\u0000' + r[1], r); });
      d.changes.forEach(function (ch) {
        cur = new Map(cur);
        ch.forEach(function (r) { if (r[2] === null) cur.delete(r[0] + '\\u0000' + r[1]); else cur.set(r[0] + '\\u0000' + r[1], r); });
        states.push({ rows: cur, changed: new Set(ch.map(function (r) { return r[0] + '\\u0000' + r[1]; })) });
      });
    }

    var at = -1;
    function move(i) {
      if (d.steps.length === 0) return;
      i = Math.max(0, Math.min(d.steps.length - 1, i));
      if (collapsed && i < d.setup) { collapsed = false; showSetup(); }
      if (at >= 0) rows[at].classList.remove('cursor');
      at = i;
      rows[at].classList.add('cursor');
      rows[at].scrollIntoView({ block: 'nearest' });
      var s = d.steps[at];
      root.dataset.cursor = String(at);
      where.textContent = 'step ' + (s.index === 0 ? 'setup' : s.index) + ' of ' + d.steps[d.steps.length - 1].index + ': ' + s.thread + ' ' + s.label;
      drawState();
    }
    function drawState() {
      right.textContent = '';
      if (!states.length) { right.appendChild(el('p', '', 'No state was captured for this finding.')); return; }
      var st = states[at];
      var bySection = new Map();
      d.sections.forEach(function (name) { bySection.set(name, []); });
      st.rows.forEach(function (r, k) {
        if (!bySection.has(r[0])) bySection.set(r[0], []);
        bySection.get(r[0]).push([k, r]);
      });
      bySection.forEach(function (list, name) {
        var h = el('h4', '', name);
        h.dataset.section = name;
        right.appendChild(h);
        if (!list.length) right.appendChild(el('div', 'none', '(none)'));
        list.forEach(function (kr) {
          var row = el('div', 'row' + (st.changed.has(kr[0]) ? ' changed' : ''));
          row.dataset.section = name;
          row.dataset.key = kr[1][1];
          row.appendChild(el('span', 'key', kr[1][1] + ': '));
          row.appendChild(el('span', 'value', kr[1][2]));
          right.appendChild(row);
        });
        // Rows the step removed, struck through with the value they had.
        if (at > 0) st.changed.forEach(function (k) {
          var before = states[at - 1].rows.get(k);
          if (st.rows.has(k) || !before || before[0] !== name) return;
          var row = el('div', 'row removed');
          row.dataset.section = name;
          row.dataset.key = before[1];
          row.appendChild(el('span', 'key', before[1] + ': '));
          row.appendChild(el('span', 'value', before[2]));
          right.appendChild(row);
        });
      });
    }
    root.addEventListener('keydown', function (e) {
      var k = e.key;
      if (k === 'ArrowDown' || k === 'j' || k === 'ArrowRight') move(at + 1);
      else if (k === 'ArrowUp' || k === 'k' || k === 'ArrowLeft') move(at - 1);
      else if (k === 'Home') move(collapsed ? d.setup : 0);
      else if (k === 'End') move(d.steps.length - 1);
      else return;
      e.preventDefault();
    });
    showSetup();
    move(collapsed ? d.setup : 0);
  }
})();
`;
