// A check result whose every text holds markup, for the tests that reports show it as text:
// a finding title, a description, a thread name, a stack frame, a step label, a note and a row
// of the state, each with a tag or a script that would run if it were taken as HTML or XML.

import type { CheckResult } from '../../src/cli/jobs.js';
import type { ModelState } from '../../src/engine/state.js';

export const MARKUP = {
  title: '<img src=x onerror="window.__pwned=1">',
  label: '</script><script>window.__pwned=2</script>',
  note: '<b>bold</b> & "quoted"',
  frame: 'f<i>n</i>',
  thread: 't<u>1</u>',
  value: '<svg onload="window.__pwned=3"></svg>',
};

const state = (v: string): ModelState => ({ sections: [{ name: 'struct page', rows: [{ key: 'pfn 0x1', value: v, counters: { _refcount: 1 } }] }] });

export function markupResult(): CheckResult {
  return {
    scenario: 'markup',
    tree: 'v5.1',
    params: {},
    status: 'finding',
    strategy: 'dpor',
    explored: 1,
    sleepBlocked: 0,
    steps: 2,
    complete: true,
    stopReason: 'done',
    findings: [
      {
        kind: 'bug',
        title: MARKUP.title,
        description: MARKUP.title,
        origin: 'new',
        thread: MARKUP.thread,
        tid: 0,
        stack: [MARKUP.frame],
        count: 1,
        faults: 0,
        label: 'no-fault',
        details: [MARKUP.note],
        replay: 'zd1-markup',
        initialState: state('before'),
        trace: [
          { index: 1, thread: MARKUP.thread, tid: 0, label: 'first', stack: [MARKUP.frame], notes: [], state: state('before') },
          { index: 2, thread: 'other', tid: 1, label: MARKUP.label, stack: [MARKUP.frame], notes: [MARKUP.note], state: state(MARKUP.value) },
        ],
      },
    ],
  };
}
