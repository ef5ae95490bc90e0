// The `rounds` parameter of the client and process scenarios: each actor repeats its cycle
// (allocate, DMA-map, free; or mmap, touch, munmap), so that a page freed back to the pool is
// handed out again. Checked on one execution run by hand (the provider probes, the actor runs
// all its rounds, then the driver unbinds), through the model's state after every step: the
// page leaves the pool, comes back, and leaves it again; and its refcount follows each tree's
// rules (seed 000: on v6.14 free_zone_device_folio() sets a p2pdma page back to 1, from v6.15
// it stays 0 in the pool and p2pmem_alloc_mmap() sets it to 1). Then the verdicts per tree
// with two rounds, which the second round leaves as they are with one.

import { describe, it } from 'node:test';
import { expect } from 'expect';
import { Execution, type Program } from '../src/engine/execution.js';
import { explore } from '../src/engine/explore.js';
import type { ModelState } from '../src/engine/state.js';
import { knownBug } from '../src/history/known-bugs.js';
import { SCENARIOS } from '../scenarios/index.js';

function program(name: string, tree: string, rounds: number): Program {
  const s = SCENARIOS.find((x) => x.name === name)!;
  const params: Record<string, number> = { rounds };
  for (const [k, v] of Object.entries(s.params)) params[k] ??= v.default;
  return s.build(tree, params);
}

function row(state: ModelState, section: string, key: string): string | undefined {
  return state.sections.find((s) => s.name === section)?.rows.find((r) => r.key.startsWith(key))?.value;
}

/** One execution: the actor (thread 1) whenever it can step, else the driver; the state after each step. */
function actorFirst(p: Program): ModelState[] {
  const exec = new Execution(p, () => 0, { maxSteps: 10_000, maxFaults: 0, captureState: true });
  while (exec.status === 'running') {
    const enabled = exec.enabled();
    exec.step(enabled.includes(1) ? 1 : enabled[0]!);
  }
  expect(exec.status).toBe('finished');
  return [exec.initialState!, ...exec.trace.filter((s) => s.index > 0).map((s) => s.state!)];
}

/** What `read` takes from a row, each change once, in order (steps that change nothing it reads left out). */
function history<T>(states: readonly ModelState[], section: string, key: string, read: (value: string) => T | undefined): T[] {
  const out: T[] = [];
  for (const s of states) {
    const v = row(s, section, key);
    const x = v === undefined ? undefined : read(v);
    if (x !== undefined && (out.length === 0 || x !== out.at(-1))) out.push(x);
  }
  return out;
}

const allocated = (v: string): boolean => !v.endsWith('allocated: none');
const refcount = (v: string): number | undefined => {
  const m = /_refcount (-?\d+)/.exec(v);
  return m ? Number(m[1]) : undefined;
};

describe('rounds: a freed page is handed out again', () => {
  for (const tree of ['v5.2', 'v6.14', 'newest']) {
    it(`p2pmem-alloc-vs-unbind on ${tree}, three rounds: the page leaves the pool three times`, () => {
      const pool = history(actorFirst(program('p2pmem-alloc-vs-unbind', tree, 3)), 'gen_pool', '0000:02:00.0 chunk', allocated);
      // Free after the probe, then allocated and freed once per round (the unbind destroys the pool).
      expect(pool).toEqual([false, true, false, true, false, true, false]);
    });
  }

  it('p2pmem-mmap-vs-unbind on v6.14, two rounds: the freed page is set back to refcount 1 and mapped again', () => {
    const states = actorFirst(program('p2pmem-mmap-vs-unbind', 'v6.14', 2));
    // __init_single_page(): 1; vm_insert_page(): 2; put_page(): 1; munmap's zap: 0,
    // free_zone_device_folio() sets it back to 1; the second round the same.
    expect(history(states, 'struct page', 'pfn 0x100000', refcount)).toEqual([1, 2, 1, 0, 1, 2, 1, 0, 1]);
  });

  it('p2pmem-mmap-vs-unbind on v6.15, two rounds: the freed page stays at 0 until p2pmem_alloc_mmap() sets it to 1', () => {
    const states = actorFirst(program('p2pmem-mmap-vs-unbind', 'v6.15', 2));
    // __init_single_page(): 1, then __init_zone_device_page(): 0 for a p2pdma page;
    // p2pmem_alloc_mmap()'s set_page_count(): 1; vm_insert_page(): 2; put_page(): 1; the zap:
    // 0, and it stays 0 in the pool; again.
    expect(history(states, 'struct page', 'pfn 0x100000', refcount)).toEqual([1, 0, 1, 2, 1, 0, 1, 2, 1, 0]);
  });
});

describe('rounds: the verdicts with two rounds are those with one', () => {
  const label = (f: { kind: string; title: string; stack: readonly string[] }): string => {
    const b = knownBug(f.kind, f.title, f.stack);
    return b ? `${b.kind}:${b.id}` : `UNEXPECTED ${f.kind}: ${f.title}`;
  };
  const cases: [string, string[]][] = [
    ['p2pmem-alloc-vs-unbind', ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest']],
    ['p2pmem-mmap-vs-unbind', ['v6.14', 'v6.15', 'newest']],
  ];
  for (const [name, trees] of cases) {
    for (const tree of trees) {
      it(`${name} on ${tree}`, { timeout: 180_000 }, () => {
        const verdict = (rounds: number): string[] => {
          const r = explore(program(name, tree, rounds), { strategy: 'dpor', maxFaults: 1 });
          expect(r.complete).toBe(true);
          return [...new Set(r.findings.map(label))].sort();
        };
        const two = verdict(2);
        expect(two).toEqual(verdict(1));
        expect(two.some((l) => l.startsWith('UNEXPECTED'))).toBe(false);
      });
    }
  }
});
