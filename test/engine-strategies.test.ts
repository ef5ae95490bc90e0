// Each strategy, the limits, replay, and de-duplication of findings.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import type { Program } from '../src/engine/execution.js';
import { ModelError } from '../src/engine/execution.js';
import { explore, replay } from '../src/engine/explore.js';
import { fault, frame, type Gen, report, step } from '../src/engine/ops.js';
import { EXAMPLES } from '../src/examples/scenarios.js';
import { Cell, load, store } from '../src/examples/toy.js';

const example = (name: string, params: Record<string, number> = {}): Program => {
  const s = EXAMPLES.find((e) => e.name === name)!;
  const full = { ...Object.fromEntries(Object.entries(s.params).map(([k, p]) => [k, p.default])), ...params };
  return s.build('-', full);
};

describe('faults under the sampling strategies', () => {
  // One thread passes ten fault points; the outcome says which of them failed.
  const tenFaultPoints: Program = {
    setup() {
      const failed: number[] = [];
      return {
        threads: [
          {
            name: 'T',
            *body(): Gen<void> {
              for (let i = 0; i < 10; i++) if (yield* fault(`point ${i}`)) failed.push(i);
            },
          },
        ],
        outcome: () => failed.join(',') || 'none',
      };
    },
  };

  it('fail one fault point per execution, each of them sometimes, and sometimes none', () => {
    for (const strategy of ['random', 'pct'] as const) {
      const r = explore(tenFaultPoints, { strategy, seed: 5, maxFaults: 3, maxExecutions: 2000, collectOutcomes: true });
      // Not a fault at every point with probability 1/2: never two in one execution.
      expect(r.outcomes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'none'].sort());
    }
  });

  it('inject a fault in about the --fault-rate share of executions (default 0.1), none at rate 0', () => {
    const faulted: Program = {
      setup: () => ({
        threads: [
          {
            name: 'T',
            *body(): Gen<void> {
              let failed = false;
              for (let i = 0; i < 10; i++) if (yield* fault(`point ${i}`)) failed = true;
              if (failed) yield* report('warn', 'a fault was injected');
            },
          },
        ],
      }),
    };
    for (const strategy of ['random', 'pct'] as const) {
      const count = (faultRate?: number): number => {
        const r = explore(faulted, { strategy, seed: 3, maxFaults: 3, maxExecutions: 2000, ...(faultRate !== undefined ? { faultRate } : {}) });
        return r.findings[0]?.count ?? 0;
      };
      expect(count(0)).toBe(0);
      // A drawn point past the last one known fails nothing, so the share is a little below the rate.
      const rare = count();
      expect(rare).toBeGreaterThan(100);
      expect(rare).toBeLessThan(260);
      expect(count(1)).toBeGreaterThan(1500);
    }
  });

  it('stop at 1000 executions without a time limit, and run until the time limit with one', () => {
    let clock = 0;
    const now = (): number => clock++;
    const capped = explore(tenFaultPoints, { strategy: 'random', seed: 1 });
    expect(capped.explored).toBe(1000);
    const timed = explore(tenFaultPoints, { strategy: 'random', seed: 1, timeLimitMs: 5000, now });
    expect(timed.explored).toBeGreaterThan(1000);
    expect(timed.stopReason).toBe('time');
  });
});

describe('random walk', () => {
  it('finds the lost update, and the same seed gives the same run', () => {
    const a = explore(example('example-lost-update'), { strategy: 'random', seed: 7, maxExecutions: 50 });
    const b = explore(example('example-lost-update'), { strategy: 'random', seed: 7, maxExecutions: 50 });
    expect(a.findings.map((f) => f.kind)).toEqual(['bug']);
    expect(a.complete).toBe(false);
    expect(a.stopReason).toBe('executions');
    expect(a.explored).toBe(50);
    expect(b.findings.map((f) => [f.count, f.decisions])).toEqual(a.findings.map((f) => [f.count, f.decisions]));
  });

  it('different seeds walk differently', () => {
    const counts = new Set([1, 2, 3, 4, 5].map((seed) => explore(example('example-lost-update', { threads: 4 }), { strategy: 'random', seed, maxExecutions: 30 }).findings.map((f) => f.count).join()));
    expect(counts.size).toBeGreaterThan(1);
  });
});

describe('PCT', () => {
  it('finds the lock-order deadlock, reproducibly from its seed', () => {
    const a = explore(example('example-lock-order'), { strategy: 'pct', seed: 3, pctDepth: 2, maxExecutions: 200 });
    const b = explore(example('example-lock-order'), { strategy: 'pct', seed: 3, pctDepth: 2, maxExecutions: 200 });
    expect(a.findings.map((f) => f.kind)).toEqual(['hang']);
    expect(a.findings[0]!.decisions).toEqual(b.findings[0]!.decisions);
  });

  it('with depth 1 never preempts, so it never sees the deadlock (which needs one preemption)', () => {
    const r = explore(example('example-lock-order'), { strategy: 'pct', seed: 3, pctDepth: 1, maxExecutions: 100 });
    expect(r.findings).toEqual([]);
  });
});

describe('preemption bound', () => {
  it('bound 0 runs threads to completion one after another: no lost update, and the run says it was bounded', () => {
    for (const strategy of ['dfs', 'dpor'] as const) {
      const r = explore(example('example-lost-update'), { strategy, preemptionBound: 0 });
      expect(r.findings).toEqual([]);
      expect(r.bounded).toBe(true);
      expect(r.complete).toBe(false);
    }
  });

  it('bound 1 is enough for the lost update', () => {
    for (const strategy of ['dfs', 'dpor', 'random'] as const) {
      const r = explore(example('example-lost-update'), { strategy, preemptionBound: 1, maxExecutions: strategy === 'random' ? 200 : undefined });
      expect(r.findings.map((f) => f.kind)).toEqual(['bug']);
    }
  });
});

describe('limits', () => {
  it('max executions stops the run, keeps what it found, and says it is incomplete', () => {
    const r = explore(example('example-lost-update', { threads: 4 }), { strategy: 'dfs', maxExecutions: 5 });
    expect(r.explored).toBe(5);
    expect(r.complete).toBe(false);
    expect(r.stopReason).toBe('executions');
    const full = explore(example('example-lost-update', { threads: 4 }), { strategy: 'dfs' });
    expect(full.complete).toBe(true);
    expect(full.explored).toBeGreaterThan(5);
  });

  it('the time limit stops the run (on the clock it is given)', () => {
    let t = 0;
    const r = explore(example('example-lost-update', { threads: 4 }), { strategy: 'dpor', timeLimitMs: 3, now: () => t++ });
    expect(r.stopReason).toBe('time');
    expect(r.complete).toBe(false);
    expect(r.explored).toBeGreaterThan(0);
  });

  it('an execution longer than the step bound is a livelock', () => {
    const p: Program = {
      setup: () => {
        const flag = new Cell('flag');
        return {
          threads: [{ name: 'spinner', *body(): Gen<void> { while ((yield* load(flag)) === 0) { /* spin */ } } }],
        };
      },
    };
    const r = explore(p, { strategy: 'dpor', maxSteps: 50 });
    expect(r.findings.map((f) => f.kind)).toEqual(['livelock']);
    expect(r.findings[0]!.trace).toHaveLength(50);
    // What the bound cut off is unexplored: the run does not say it is complete.
    expect(r.complete).toBe(false);
    expect(r.stopReason).toBe('steps');
  });
});

describe('replay and findings', () => {
  it('the decisions of every finding replay to the same finding and the same trace', () => {
    for (const name of ['example-lost-update', 'example-lock-order']) {
      const p = example(name);
      const r = explore(p, { strategy: 'dpor' });
      expect(r.findings.length).toBeGreaterThan(0);
      for (const f of r.findings) {
        const exec = replay(p, f.decisions, { maxFaults: 1 });
        const again = exec.findings.find((x) => x.site === f.site)!;
        expect(again).toBeDefined();
        expect(exec.trace.filter((s) => s.index <= again.traceLength)).toEqual(f.trace);
      }
    }
  });

  it('a warning is kept once per site with its count and its shortest interleaving', () => {
    const p: Program = {
      setup: () => {
        const x = new Cell('x');
        return {
          threads: [
            { name: 'W', *body(): Gen<void> { yield* store(x, 1); yield* store(x, 2); } },
            {
              name: 'R',
              *body(): Gen<void> {
                if ((yield* load(x)) !== 0) yield* report('warn', 'saw a write');
              },
            },
          ],
        };
      },
    };
    const r = explore(p, { strategy: 'dfs' });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.count).toBe(2); // R reads after the first or after the second write
    expect(r.findings[0]!.trace.map((s) => s.thread)).toEqual(['W', 'R']);
  });

  it('a model that is not deterministic is a model error, not a finding', () => {
    let n = 0;
    const p: Program = {
      setup: () => {
        const x = new Cell('x');
        const extra = n++ % 2 === 1; // a thread that exists only in every other build
        const writer = (v: number) => ({ name: `W${v}`, *body(): Gen<void> { yield* store(x, v); } });
        return { threads: extra ? [writer(1), writer(2), writer(3)] : [writer(1), writer(2)] };
      },
    };
    expect(() => explore(p, { strategy: 'dfs' })).toThrow(ModelError);
  });

  it('an ordinary exception in model code is a model error', () => {
    const p: Program = {
      setup: () => ({
        threads: [{ name: 'T', *body(): Gen<void> { yield* step('x'); throw new TypeError('oops'); } }],
      }),
    };
    expect(() => explore(p)).toThrow(/thread T threw TypeError: oops/);
  });
});

describe('the interleaving kept for a finding', () => {
  it('is one with the fewest injected faults, though a faulted one is shorter', () => {
    const p: Program = {
      setup() {
        const x = new Cell('x');
        // The same warning, at once when the allocation fails, or after two steps when not.
        const probe = frame('probe', function* (): Gen<void> {
          if (!(yield* fault('kmalloc'))) {
            yield* store(x, 1);
            yield* store(x, 2);
          }
          yield* report('warn', 'WARNING: in probe');
        });
        return { threads: [{ name: 'T', *body(): Gen<void> { yield* probe(); } }] };
      },
    };
    for (const strategy of ['dpor', 'dfs'] as const) {
      const r = explore(p, { strategy, maxFaults: 1 });
      expect(r.findings).toHaveLength(1);
      expect(r.findings[0]!.count).toBe(2);
      expect(r.findings[0]!.faults).toBe(0);
      expect(r.findings[0]!.trace.map((s) => s.label)).toEqual(['write x = 1', 'write x = 2']);
    }
  });
});
