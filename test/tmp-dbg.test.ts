import { it } from 'vitest';
import { explore } from '../src/engine/explore.js';
import { generatedProgram } from '../src/examples/generated.js';
import { Execution } from '../src/engine/execution.js';
it('dbg', () => {
  const g = {"cells":3,"locks":2,"threads":[[{"k":"locked","lock":0,"body":[{"k":"read","cell":1}]}],[{"k":"write","cell":1,"value":0},{"k":"locked","lock":0,"body":[{"k":"rmw","cell":1}]}]]} as any;
  const p = generatedProgram(g);
  const orig = Execution.prototype.step;
  const log: string[] = [];
  (Execution.prototype as any).step = function (tid: number) { log.push(`${this.threadName(tid)}:${this.pending(tid).label}`); return orig.call(this, tid); };
  const origAb = Execution.prototype.abandon;
  (Execution.prototype as any).abandon = function () { log.push('ABANDON'); return origAb.call(this); };
  for (const s of ['dpor', 'dfs'] as const) {
    log.length = 0;
    const r = explore({ setup: () => { log.push('---'); return p.setup(); } }, { strategy: s, collectOutcomes: true, maxFaults: 0 });
    console.log(s, r.explored, r.outcomes, r.findings.map(f => f.site));
    if (s === 'dpor') console.log(log.join('\n'));
  }
});
