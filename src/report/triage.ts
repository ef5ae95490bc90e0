// Triage: what a finding is to the developer reading it, told from how it was reached.
//
// - 'fault-warning': the kernel's own warning for an injected failure — a WARN in a function
//   that called, directly or not, the call that was made to fail (add_pages()'s
//   WARN_ON_ONCE(ret) over a failed sparse_add_section()). The kernel says what happened; it
//   is seldom a bug, but it is what the injected failure does on that tree.
// - 'fault': reached only with an injected failure (the error path is the bug, or the failure
//   exposes one).
// - 'no-fault': reached without any injected failure.
//
// A finding's kept interleaving is one with the fewest faults (collector.ts), so "only with a
// fault" means no execution reached it without one.

import type { TraceStep } from '../engine/execution.js';

export type TriageLabel = 'fault-warning' | 'fault' | 'no-fault';

export const TRIAGE_LABELS: readonly TriageLabel[] = ['no-fault', 'fault', 'fault-warning'];

/** What the label says, in words. */
export function describeLabel(label: TriageLabel): string {
  switch (label) {
    case 'fault-warning':
      return "the kernel's own warning for an injected failure";
    case 'fault':
      return 'reached only with an injected failure';
    case 'no-fault':
      return 'reached without an injected failure';
  }
}

export function triageLabel(f: { readonly kind: string; readonly stack: readonly string[]; readonly faults: number; readonly trace: readonly TraceStep[] }): TriageLabel {
  if (f.faults === 0) return 'no-fault';
  const warner = f.stack.at(-1);
  if (f.kind === 'warn' && warner !== undefined && f.trace.some((s) => s.faultStacks?.some((stack) => stack.includes(warner)))) return 'fault-warning';
  return 'fault';
}
