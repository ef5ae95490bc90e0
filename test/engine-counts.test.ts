// Small programs whose numbers of executions (Mazurkiewicz traces) are derived by hand.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../src/engine/explore.js';
import type { Program, World } from '../src/engine/execution.js';
import { Failure, type Gen, spawn, join, fault, report, step, writeStoring } from '../src/engine/ops.js';
import { EXAMPLES } from '../src/examples/scenarios.js';
import { add, addAndTestZero, addKnown, Cell, fetchAdd, load, loadBits, store, storeKnown, waitFor } from '../src/examples/toy.js';

function program(build: () => World): Program {
  return { setup: build };
}

const dpor = (p: Program, o: ExploreOptions = {}) => explore(p, { strategy: 'dpor', collectOutcomes: true, ...o });
const dfs = (p: Program, o: ExploreOptions = {}) => explore(p, { strategy: 'dfs', collectOutcomes: true, ...o });

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

describe('hand-derived execution counts', () => {
  it('N threads writing distinct cells: one trace; DFS sees N! schedules', () => {
    for (const n of [1, 2, 3, 4]) {
      const p = program(() => {
        const cells = Array.from({ length: n }, (_, i) => new Cell(`c${i}`));
        return {
          threads: cells.map((c, i) => ({ name: `T${i}`, *body() { yield* store(c, i + 1); } })),
          outcome: () => cells.map((c) => c.value).join(','),
        };
      });
      const r = dpor(p);
      expect(r.explored).toBe(1);
      expect(r.sleepBlocked).toBe(0);
      expect(r.complete).toBe(true);
      expect(dfs(p).explored).toBe(factorial(n));
    }
  });

  it('two threads writing one cell: two traces, two outcomes', () => {
    const p = program(() => {
      const x = new Cell('x');
      return {
        threads: [1, 2].map((v) => ({ name: `T${v}`, *body() { yield* store(x, v); } })),
        outcome: () => String(x.value),
      };
    });
    const r = dpor(p);
    expect(r.explored).toBe(2);
    expect(r.outcomes).toEqual(['1', '2']);
  });

  it('N commuting adds of one cell: one trace; with a reader, 2^N; as read-modify-writes, N!', () => {
    for (const n of [2, 3, 4]) {
      const adders = (withReader: boolean, commuting: boolean) =>
        program(() => {
          const x = new Cell('x');
          let seen = -1;
          const threads = Array.from({ length: n }, (_, i) => ({ name: `A${i}`, *body(): Gen<void> { if (commuting) yield* add(x, 1 << i); else yield* fetchAdd(x, 1 << i); } }));
          if (withReader) threads.push({ name: 'R', *body(): Gen<void> { seen = yield* load(x); } });
          return { threads, outcome: () => `${x.value}/${seen}` };
        });
      const alone = dpor(adders(false, true));
      expect(alone.explored).toBe(1);
      expect(alone.outcomes).toEqual([String((1 << n) - 1) + '/-1']);
      const read = dpor(adders(true, true));
      expect(read.explored).toBe(2 ** n);
      expect(read.outcomes).toEqual(dfs(adders(true, true)).outcomes);
      expect(read.outcomes!.length).toBe(2 ** n); // every subset of the adds seen by the reader
      expect(dpor(adders(false, false)).explored).toBe(factorial(n));
    }
  });

  it('N tested decrements of a counter: one trace while none can reach zero; else one per thread that can', () => {
    for (const n of [2, 3, 4]) {
      const decrements = (start: number) =>
        program(() => {
          const x = new Cell('x', start);
          const zero: string[] = [];
          const threads = Array.from({ length: n }, (_, i) => ({
            name: `D${i}`,
            *body(): Gen<void> {
              if (yield* addAndTestZero(x, -1)) zero.push(`D${i}`);
            },
          }));
          return { threads, outcome: () => `${x.value} zero:${zero.join(',')}` };
        });
      // From n + 1 no order reaches zero: the decrements commute.
      const far = dpor(decrements(n + 1));
      expect(far.explored).toBe(1);
      expect(far.outcomes).toEqual(['1 zero:']);
      // From n the last decrement reaches zero: which thread is last is all that matters.
      const last = dpor(decrements(n));
      expect(last.explored).toBe(n);
      expect(last.outcomes).toEqual(dfs(decrements(n)).outcomes);
      expect(last.outcomes).toEqual(Array.from({ length: n }, (_, i) => `0 zero:D${i}`));
      expect(dfs(decrements(n)).explored).toBe(factorial(n));
    }
  });

  it('a get racing with the last put: a plain increment that could keep a tested decrement from zero is ordered against it', () => {
    const p = program(() => {
      const x = new Cell('x', 1);
      let freed = false;
      return {
        threads: [
          { name: 'get', *body(): Gen<void> { yield* addKnown(x, 1); } },
          { name: 'put', *body(): Gen<void> { freed = yield* addAndTestZero(x, -1); } },
        ],
        outcome: () => `${x.value} freed=${freed}`,
      };
    });
    const r = dpor(p);
    expect(r.outcomes).toEqual(['1 freed=false', '1 freed=true']);
    expect(r.explored).toBe(2);
  });

  it('N flag tests and a store keeping the flag: one trace; a store changing it goes before or after each test', () => {
    for (const n of [1, 2, 3]) {
      for (const [stored, traces] of [
        [3, 1], // 1 -> 3: bit 0 stays set
        [2, 2 ** n], // 1 -> 2: bit 0 cleared, each test sees it set or not
      ] as const) {
        const p = program(() => {
          const w = new Cell('word', 1);
          const seen: number[] = [];
          return {
            threads: [
              { name: 'store', *body(): Gen<void> { yield* storeKnown(w, stored); } },
              ...Array.from({ length: n }, (_, i) => ({ name: `test${i}`, *body(): Gen<void> { seen[i] = yield* loadBits(w, 1); } })),
            ],
            outcome: () => `${w.value} ${seen.join(',')}`,
          };
        });
        const r = dpor(p);
        expect(r.explored).toBe(traces);
        expect(r.outcomes).toEqual(dfs(p).outcomes);
      }
    }
  });

  it('a store that tells one value but leaves another is a model error', () => {
    const p = program(() => {
      const w = new Cell('word', 0);
      return {
        threads: [
          {
            name: 'liar',
            *body(): Gen<void> {
              yield* step('word = 1', writeStoring(w, () => w.value, () => 1));
              w.value = 2;
            },
          },
        ],
      };
    });
    expect(() => dpor(p)).toThrow(/announced the value it stores, but left another/);
  });

  it('N threads writing one cell: N! traces', () => {
    for (const n of [2, 3, 4]) {
      const p = program(() => {
        const x = new Cell('x');
        return { threads: Array.from({ length: n }, (_, i) => ({ name: `T${i}`, *body() { yield* store(x, i); } })) };
      });
      expect(dpor(p).explored).toBe(factorial(n));
    }
  });

  it('N readers and one writer of a cell: N+1 traces (the write goes in one of N+1 places relative to reads... per reader: before or after)', () => {
    // Each reader either reads before or after the write: 2^N traces.
    for (const n of [1, 2, 3]) {
      const p = program(() => {
        const x = new Cell('x');
        const seen: number[] = [];
        return {
          threads: [
            { name: 'W', *body() { yield* store(x, 1); } },
            ...Array.from({ length: n }, (_, i) => ({ name: `R${i}`, *body() { seen[i] = yield* load(x); } })),
          ],
          outcome: () => seen.join(','),
        };
      });
      const r = dpor(p);
      expect(r.explored).toBe(2 ** n);
      expect(r.outcomes!.length).toBe(2 ** n);
      expect(r.sleepBlocked).toBe(0);
    }
  });

  it('two threads each writing x then y: 2 traces for x times 2 for y, minus ... = 4 schedules orders → traces', () => {
    // Orders on x and on y are independent choices except they must be consistent with program
    // order: (x:AB,y:AB), (x:AB,y:BA), (x:BA,y:AB), (x:BA,y:BA) are all realisable: 4 traces.
    const p = program(() => {
      const x = new Cell('x');
      const y = new Cell('y');
      return {
        threads: [1, 2].map((v) => ({ name: `T${v}`, *body() { yield* store(x, v); yield* store(y, v); } })),
        outcome: () => `${x.value}${y.value}`,
      };
    });
    const r = dpor(p);
    expect(r.explored).toBe(4);
    expect(r.outcomes).toEqual(['11', '12', '21', '22']);
    expect(dfs(p).explored).toBe(6);
  });

  it('a lost update is found as a final-state finding', () => {
    const p = program(() => {
      const x = new Cell('x');
      return {
        threads: [1, 2].map((v) => ({ name: `T${v}`, *body() { const r = yield* load(x); yield* store(x, r + 1); } })),
        finalChecks: () => (x.value !== 2 ? [{ kind: 'bug', title: `lost update: x = ${x.value}` }] : []),
        outcome: () => String(x.value),
      };
    });
    const r = dpor(p);
    expect(r.outcomes).toEqual(['1', '2']);
    expect(r.findings.map((f) => f.title)).toEqual(['lost update: x = 1']);
    expect(r.findings[0]!.count).toBeGreaterThanOrEqual(1);
  });

  it('atomic increments commute as writes: N! traces but one outcome', () => {
    const p = program(() => {
      const x = new Cell('x');
      return { threads: [0, 1, 2].map((i) => ({ name: `T${i}`, *body() { yield* fetchAdd(x, 1); } })), outcome: () => String(x.value) };
    });
    const r = dpor(p);
    expect(r.explored).toBe(6);
    expect(r.outcomes).toEqual(['3']);
  });

  it('opposite lock order deadlocks, and the hang names both threads and what they wait for', () => {
    const p = EXAMPLES.find((e) => e.name === 'example-lock-order')!.build('-', {});
    for (const r of [dpor(p), dfs(p)]) {
      const hangs = r.findings.filter((f) => f.kind === 'hang');
      expect(hangs).toHaveLength(1);
      expect(hangs[0]!.title).toContain('T0');
      expect(hangs[0]!.title).toContain('lock B');
      expect(hangs[0]!.title).toContain('T1');
      expect(hangs[0]!.title).toContain('lock A');
      // The other blocked thread's wait is in the report's details.
      expect(hangs[0]!.details).toEqual(['T1 waits for lock A:']);
    }
  });

  it('a wait for a value that another thread sets then clears: both outcomes', () => {
    const p = program(() => {
      const x = new Cell('x');
      const got = new Cell('got');
      return {
        threads: [
          { name: 'W', *body() { yield* waitFor(x, 1); yield* store(got, 1); } },
          { name: 'S', *body() { yield* store(x, 1); yield* store(x, 0); } },
        ],
        outcome: () => `got=${got.value}`,
      };
    });
    for (const r of [dpor(p), dfs(p)]) {
      expect(r.outcomes).toEqual(['got=1']);
      expect(r.findings.map((f) => f.kind)).toEqual(['hang']);
    }
  });

  it('a blocked wait is not put before a step that happens before its thread got to it: no execution cut short', () => {
    // In the executions where A reads C's store of 1, A's wait for c1 == 0 can only follow C's
    // store of 0, which enables it: that race cannot be reversed (A is blocked there). C's store
    // of 1 conflicts with the wait too, but it happens before A's read: the wait before it means
    // the read before it, the reversal of a race of its own. Reversing the wait's race there
    // again would start an execution explored already, cut short as redundant.
    const p = program(() => {
      const c0 = new Cell('c0');
      const c1 = new Cell('c1');
      const c2 = new Cell('c2');
      const seen: number[] = [];
      return {
        threads: [
          { name: 'A', *body() { seen[0] = yield* load(c1); yield* store(c0, 0); yield* store(c2, 1); yield* waitFor(c1, 0); } },
          { name: 'B', *body() { yield* waitFor(c0, 0); seen[1] = yield* load(c0); } },
          { name: 'C', *body() { yield* store(c1, 1); yield* store(c1, 0); } },
        ],
        outcome: () => `${c0.value},${c1.value},${c2.value}|${seen.join(',')}`,
      };
    });
    const r = dpor(p);
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(dfs(p).outcomes);
    expect(r.explored).toBe(12);
    expect(r.sleepBlocked).toBe(0);
  });

  it('fault points: one execution per fault site plus the fault-free one', () => {
    const p = program(() => {
      const failed: string[] = [];
      return {
        threads: [
          { name: 'T', *body() { for (const site of ['a', 'b', 'c']) if (yield* fault(site)) failed.push(site); } },
        ],
        outcome: () => failed.join(',') || 'none',
      };
    });
    expect(dpor(p).outcomes).toEqual(['a', 'b', 'c', 'none']);
    expect(dpor(p, { maxFaults: 0 }).outcomes).toEqual(['none']);
    expect(dpor(p, { maxFaults: 2 }).explored).toBe(7);
    expect(dpor(p, { maxFaults: 3 }).explored).toBe(8);
  });

  it('spawn and join order the child before the parent', () => {
    const p = program(() => {
      const x = new Cell('x');
      const seen: number[] = [];
      return {
        threads: [
          {
            name: 'P',
            *body() {
              const c = yield* spawn('C', function* () { yield* store(x, 1); });
              yield* join(c);
              seen.push(yield* load(x));
            },
          },
        ],
        outcome: () => seen.join(','),
      };
    });
    expect(dpor(p).outcomes).toEqual(['1']);
    expect(dfs(p).outcomes).toEqual(['1']);
  });

  it('a Failure ends the execution as a finding; a report does not', () => {
    const p = program(() => {
      const x = new Cell('x');
      return {
        threads: [
          { name: 'A', *body() { yield* store(x, 1); } },
          {
            name: 'B',
            *body() {
              const v = yield* load(x);
              if (v === 0) yield* report('warn', 'saw zero');
              else throw new Failure('panic', 'saw one');
            },
          },
        ],
      };
    });
    const r = dpor(p);
    expect(r.findings.map((f) => `${f.kind}:${f.title}`).sort()).toEqual(['panic:saw one', 'warn:saw zero']);
    const panic = r.findings.find((f) => f.kind === 'panic')!;
    expect(panic.trace.map((s) => s.thread)).toEqual(['A', 'B']);
    expect(panic.stack).toEqual([]);
  });
});
