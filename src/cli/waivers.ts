// Waivers: findings accepted by whoever runs the check (--waivers FILE), so that CI fails on
// new findings only. A waived finding is still reported, marked as waived; it does not make
// the exit status 1.
//
// The file has one waiver per line; `#` starts a comment:
//
//   <scenario|*> <tree|*> <kind>: <title>
//
// The title (syzbot's form, or the finding's description: its report's first line) is matched
// exactly, or, when it ends in `*`, as a prefix:
//
//   # the kernel's own warning when the injected failure hits sparse_add_section()
//   * * warn: WARNING: at arch/x86/mm/init_64.c add_pages: WARN_ON_ONCE(ret)
//   p2pmem-alloc-vs-unbind v5.1 kasan: BUG: KASAN: use-after-free: *

import { readFileSync } from 'node:fs';
import { oneLine, UsageError } from './catalog.js';
import type { CheckResult, FindingReport } from './jobs.js';

export interface Waiver {
  readonly scenario: string;
  readonly tree: string;
  readonly kind: string;
  readonly title: string;
  /** The title is a prefix (it ended in `*`). */
  readonly prefix: boolean;
  /** The line as written, for the report. */
  readonly text: string;
}

/** The waivers of `file`; a line that is not one is a usage error naming it. */
export function readWaivers(file: string): Waiver[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--waivers ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'not readable' : oneLine(e)}`);
  }
  return parseWaivers(text, file);
}

export function parseWaivers(text: string, file: string): Waiver[] {
  const out: Waiver[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const m = /^(\S+)\s+(\S+)\s+([a-z]+):\s+(.+)$/.exec(line);
    if (!m) throw new UsageError(`--waivers ${file}:${i + 1}: expected '<scenario|*> <tree|*> <kind>: <title>'`);
    const title = m[4]!.trimEnd();
    const prefix = title.endsWith('*');
    out.push({ scenario: m[1]!, tree: m[2]!, kind: m[3]!, title: prefix ? title.slice(0, -1) : title, prefix, text: line });
  });
  return out;
}

function matches(w: Waiver, r: CheckResult, f: FindingReport): boolean {
  return (w.scenario === '*' || w.scenario === r.scenario) && (w.tree === '*' || w.tree === r.tree) && w.kind === f.kind && [f.title, f.description].some((t) => (w.prefix ? t.startsWith(w.title) : t === w.title));
}

/** The results with each finding that a waiver accepts marked with it. */
export function applyWaivers(results: readonly CheckResult[], waivers: readonly Waiver[]): CheckResult[] {
  if (waivers.length === 0) return [...results];
  return results.map((r) => ({
    ...r,
    findings: r.findings.map((f) => {
      const w = waivers.find((x) => matches(x, r, f));
      return w ? { ...f, waived: w.text } : f;
    }),
  }));
}

/** The results with only the findings of the given kinds (--only). */
export function onlyKinds(results: readonly CheckResult[], kinds: readonly string[] | undefined): CheckResult[] {
  if (!kinds) return [...results];
  return results.map((r) => {
    const findings = r.findings.filter((f) => kinds.includes(f.kind));
    return { ...r, findings, status: findings.length > 0 ? 'finding' : r.complete ? 'ok' : 'incomplete' };
  });
}
