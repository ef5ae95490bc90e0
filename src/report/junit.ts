// --junit: the check as JUnit XML, the format CI dashboards read (GitLab's unit test reports,
// Jenkins' junit step, GitHub's test reporters). A test suite per scenario, a test case per
// scenario and tree, and in it a <failure> per finding that no waiver accepts, with the kernel's
// report and the replay command; a waived finding is said in <system-out>; a cell whose
// exploration did not complete is an <error> (the check's exit status says so too).

import type { CheckResult, FindingReport } from '../cli/jobs.js';
import { kernelReport, verdict } from './text.js';

/** XML 1.0 text: markup escaped, and the characters XML cannot hold at all dropped. */
export function xmlText(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function junitReport(results: readonly CheckResult[], name = 'zonedev check'): string {
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const failures = (r: CheckResult): FindingReport[] => r.findings.filter((f) => f.waived === undefined);
  const errors = (r: CheckResult): number => (r.complete ? 0 : 1);
  const total = (f: (r: CheckResult) => number, rs: readonly CheckResult[]): number => rs.reduce((n, r) => n + f(r), 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  // failures and errors count test cases (of tests), as dashboards read them; a test case has
  // a <failure> element per unwaived finding.
  const failed = (r: CheckResult): number => (failures(r).length > 0 ? 1 : 0);
  out.push(`<testsuites name="${xmlText(name)}" tests="${results.length}" failures="${total(failed, results)}" errors="${total(errors, results)}">`);
  for (const s of scenarios) {
    const cells = results.filter((r) => r.scenario === s);
    out.push(`  <testsuite name="${xmlText(s)}" tests="${cells.length}" failures="${total(failed, cells)}" errors="${total(errors, cells)}" skipped="0">`);
    for (const r of cells) {
      out.push(`    <testcase classname="${xmlText(s)}" name="${xmlText(r.tree === '-' ? s : `${s} on ${r.tree}`)}">`);
      for (const f of failures(r)) {
        const body = [...kernelReport(f), '', `zonedev replay ${f.replay}`].join('\n');
        out.push(`      <failure type="${xmlText(f.kind)}" message="${xmlText(f.title)}">${xmlText(body)}</failure>`);
      }
      if (!r.complete) out.push(`      <error type="incomplete" message="${xmlText(`exploration incomplete (${r.stopReason}): ${r.explored} executions`)}"/>`);
      const waived = r.findings.filter((f) => f.waived !== undefined);
      const lines = [`${verdict(r)}: ${r.explored} executions${r.sleepBlocked ? ` (+${r.sleepBlocked} cut short)` : ''}`, ...waived.map((f) => `waived by ${f.waived}: ${f.kind}: ${f.title}`)];
      out.push(`      <system-out>${xmlText(lines.join('\n'))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
