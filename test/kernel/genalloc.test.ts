// lib/genalloc.c and include/linux/genalloc.h: the contracts the model must keep, per tree.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/engine/explore.js';
import type { ThreadSpec } from '../../src/engine/execution.js';
import { type Gen, spawn } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import {
  addr_in_gen_pool,
  gen_pool,
  gen_pool_add,
  gen_pool_add_owner,
  gen_pool_add_virt,
  gen_pool_alloc,
  gen_pool_alloc_algo,
  gen_pool_alloc_owner,
  gen_pool_avail,
  gen_pool_create,
  gen_pool_destroy,
  gen_pool_first_fit_order_align,
  gen_pool_free,
  gen_pool_free_owner,
  gen_pool_has_addr,
  gen_pool_size,
  gen_pool_virt_to_phys,
  type ptr_ref,
} from '../../src/kernel/include/linux/genalloc.js';
import { machine } from '../../src/kernel/machine.js';

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'];
const OWNER_TREES = ['v5.2', 'v6.14', 'v6.15', 'newest'];
const PAGE = 4096;
const BASE = 0x1_0000_0000; // above 32 bits on purpose

interface Built {
  threads: ThreadSpec[];
  outcome?: () => string;
}

/** Explores a program on `tree`; leaks left at the end are findings, as kmemleak's. */
function run(tree: string, build: () => Built, options: ExploreOptions = {}): ExploreResult {
  return explore(
    {
      setup: () => {
        bootTree(tree);
        const b = build();
        return {
          threads: b.threads,
          outcome: b.outcome,
          finalChecks: () => machine().slab.leaks().map((l) => ({ kind: 'leak', title: `unreferenced object ${l.what} (${l.allocatedBy})` })),
        };
      },
    },
    { strategy: 'dpor', maxFaults: 0, collectOutcomes: true, ...options },
  );
}

/** One thread doing `body`; the outcome is what it returns. */
function seq(tree: string, body: () => Gen<string>, options: ExploreOptions = {}): ExploreResult {
  return run(
    tree,
    () => {
      let out = '';
      return {
        threads: [
          {
            name: 'T',
            *body() {
              out = yield* body();
            },
          },
        ],
        outcome: () => out,
      };
    },
    options,
  );
}

function* newPool(order: number, size: number, base = BASE): Gen<gen_pool> {
  const pool = (yield* gen_pool_create(order, -1))!;
  expect(yield* gen_pool_add_virt(pool, base, 0x9000_0000, size, -1)).toBe(0);
  return pool;
}

const hex = (a: number): string => `0x${a.toString(16)}`;

describe('lib/genalloc.c: first fit on a real bitmap', () => {
  for (const tree of TREES) {
    it(`${tree}: 1 byte with min_alloc_order 12 takes a whole page; two allocations are adjacent; free then alloc reuses the hole`, () => {
      const r = seq(tree, function* () {
        const pool = yield* newPool(12, 4 * PAGE);
        const a = yield* gen_pool_alloc(pool, 1);
        const availAfterA = yield* gen_pool_avail(pool);
        const b = yield* gen_pool_alloc(pool, 1);
        const bits1 = pool.chunks[0]!.bits.join('');
        yield* gen_pool_free(pool, a, 1);
        const c = yield* gen_pool_alloc(pool, 1);
        const d = yield* gen_pool_alloc(pool, 2 * PAGE); // bits 2,3
        const e = yield* gen_pool_alloc(pool, 1); // full: 0
        const bits2 = pool.chunks[0]!.bits.join('');
        yield* gen_pool_free(pool, b, 1);
        yield* gen_pool_free(pool, c, PAGE);
        yield* gen_pool_free(pool, d, 2 * PAGE);
        const avail = yield* gen_pool_avail(pool);
        yield* gen_pool_destroy(pool);
        return [hex(a), availAfterA, hex(b), bits1, hex(c), hex(d), e, bits2, avail].join(' ');
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual([`0x100000000 12288 0x100001000 1100 0x100000000 0x100002000 0 1111 16384`]);
    });
  }

  it('allocations round up to 1 << min_alloc_order; avail is checked against the unrounded size and charged the rounded one', () => {
    const r = seq('v5.2', function* () {
      const pool = yield* newPool(12, 3 * PAGE);
      const a = yield* gen_pool_alloc(pool, PAGE + 1); // 2 units
      const avail1 = yield* gen_pool_avail(pool);
      const b = yield* gen_pool_alloc(pool, PAGE); // exactly the last unit (avail == size)
      const c = yield* gen_pool_alloc(pool, 1);
      yield* gen_pool_free(pool, a, PAGE + 1);
      yield* gen_pool_free(pool, b, PAGE);
      yield* gen_pool_destroy(pool);
      return [hex(a), avail1, hex(b), c].join(' ');
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['0x100000000 4096 0x100002000 0']);
  });

  it('gen_pool_alloc(pool, 0) returns 0 without touching the pool', () => {
    const r = seq('v5.1', function* () {
      const pool = yield* newPool(12, PAGE);
      const a = yield* gen_pool_alloc(pool, 0);
      const avail = yield* gen_pool_avail(pool);
      yield* gen_pool_destroy(pool);
      return `${a} ${avail}`;
    });
    expect(r.outcomes).toEqual(['0 4096']);
  });

  it('the bitmap is word-based: areas across a 64-bit word boundary are found and set', () => {
    const r = seq('v6.15', function* () {
      const pool = yield* newPool(0, 130, 0x1000);
      const a = yield* gen_pool_alloc(pool, 70); // bits 0..69, two words
      const b = yield* gen_pool_alloc(pool, 60); // bits 70..129, words 1 and 2
      const c = yield* gen_pool_alloc(pool, 1);
      const set = pool.chunks[0]!.bits.filter((x) => x === 1).length;
      yield* gen_pool_free(pool, a, 70);
      yield* gen_pool_free(pool, b, 60);
      yield* gen_pool_destroy(pool);
      return [hex(a), hex(b), c, set].join(' ');
    });
    expect(r.findings).toEqual([]);
    expect(r.outcomes).toEqual(['0x1000 0x1046 0 130']);
  });

  it('chunks are walked in list_add_rcu order: the chunk added last is tried first', () => {
    const r = seq('v5.1', function* () {
      const pool = (yield* gen_pool_create(12, -1))!;
      yield* gen_pool_add(pool, 0x10000, PAGE, -1);
      yield* gen_pool_add(pool, 0x20000, PAGE, -1);
      const a = yield* gen_pool_alloc(pool, 1);
      const b = yield* gen_pool_alloc(pool, 1);
      const size = yield* gen_pool_size(pool);
      yield* gen_pool_free(pool, a, 1);
      yield* gen_pool_free(pool, b, 1);
      yield* gen_pool_destroy(pool);
      return [hex(a), hex(b), size].join(' ');
    });
    expect(r.outcomes).toEqual(['0x20000 0x10000 8192']);
  });

  it('gen_pool_first_fit_order_align aligns to the power of two of the unit count', () => {
    const r = seq('v6.14', function* () {
      const pool = yield* newPool(12, 8 * PAGE);
      const a = yield* gen_pool_alloc(pool, 1);
      const b = yield* gen_pool_alloc_algo(pool, 2 * PAGE, gen_pool_first_fit_order_align, null);
      yield* gen_pool_free(pool, a, 1);
      yield* gen_pool_free(pool, b, 2 * PAGE);
      yield* gen_pool_destroy(pool);
      return [hex(a), hex(b)].join(' ');
    });
    expect(r.outcomes).toEqual(['0x100000000 0x100002000']);
  });
});

describe('lib/genalloc.c: queries', () => {
  for (const tree of ['v5.1', 'newest']) {
    it(`${tree}: gen_pool_virt_to_phys (-1 outside), gen_pool_has_addr / addr_in_gen_pool (whole range in one chunk), gen_pool_size; gen_pool_add passes phys -1`, () => {
      const r = seq(tree, function* () {
        const pool = yield* newPool(12, 2 * PAGE);
        yield* gen_pool_add(pool, 0x5000_0000, PAGE, -1);
        const p1 = yield* gen_pool_virt_to_phys(pool, BASE + PAGE + 5);
        const p2 = yield* gen_pool_virt_to_phys(pool, BASE + 2 * PAGE);
        const p3 = yield* gen_pool_virt_to_phys(pool, 0x5000_0010);
        const h1 = yield* gen_pool_has_addr(pool, BASE, 2 * PAGE);
        const h2 = yield* addr_in_gen_pool(pool, BASE + PAGE, PAGE + 1);
        const size = yield* gen_pool_size(pool);
        yield* gen_pool_destroy(pool);
        return [hex(p1), p2, p3, h1, h2, size].join(' ');
      });
      expect(r.outcomes).toEqual([`0x90001005 -1 15 true false 12288`]);
    });
  }
});

describe('include/linux/genalloc.h: chunk owners (795ee30648c7, v5.2+)', () => {
  for (const tree of OWNER_TREES) {
    it(`${tree}: gen_pool_alloc_owner / gen_pool_free_owner return the owner of the chunk; failure leaves *owner NULL`, () => {
      const r = seq(tree, function* () {
        const pool = (yield* gen_pool_create(12, -1))!;
        const ownerA = { name: 'A' };
        const ownerB = { name: 'B' };
        yield* gen_pool_add_owner(pool, 0x10000, 0x10000, PAGE, -1, ownerA);
        yield* gen_pool_add_owner(pool, 0x20000, 0x20000, PAGE, -1, ownerB);
        const o: ptr_ref<{ name: string }> = { value: null };
        const a = yield* gen_pool_alloc_owner(pool, 1, o);
        const oa = o.value?.name;
        const b = yield* gen_pool_alloc_owner(pool, 1, o);
        const ob = o.value?.name;
        o.value = ownerA;
        const c = yield* gen_pool_alloc_owner(pool, 1, o);
        const oc = o.value;
        yield* gen_pool_free_owner(pool, a, 1, o);
        const fa = o.value?.name;
        yield* gen_pool_free(pool, b, 1);
        yield* gen_pool_destroy(pool);
        return [hex(a), oa, hex(b), ob, c, oc, fa].join(' ');
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['0x20000 B 0x10000 A 0  B']);
    });
  }

  it('v5.1: the owner API does not exist: calling it is a model error, not a finding', () => {
    for (const call of [
      (pool: gen_pool) => gen_pool_alloc_owner(pool, 1, null),
      (pool: gen_pool) => gen_pool_add_owner(pool, 0x1000, 0, PAGE, -1, null),
      (pool: gen_pool) => gen_pool_free_owner(pool, 0x1000, 1, null),
    ]) {
      expect(() =>
        seq('v5.1', function* () {
          const pool = yield* newPool(12, PAGE);
          yield* call(pool);
          return '';
        }),
      ).toThrow(/does not exist on this tree/);
    }
  });
});

describe('lib/genalloc.c: the checks (BUG, BUG_ON)', () => {
  for (const tree of ['v5.1', 'v6.15']) {
    it(`${tree}: gen_pool_destroy with an outstanding allocation is the BUG_ON(bit < end_bit)`, () => {
      const r = seq(tree, function* () {
        const pool = yield* newPool(12, 2 * PAGE);
        yield* gen_pool_alloc(pool, 1);
        yield* gen_pool_destroy(pool);
        return 'survived';
      });
      expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['bug', 'kernel BUG at lib/genalloc.c gen_pool_destroy: BUG_ON(bit < end_bit)']]);
      expect(r.outcomes).toEqual([]);
    });

    it(`${tree}: gen_pool_free of an address in no chunk is BUG()`, () => {
      const r = seq(tree, function* () {
        const pool = yield* newPool(12, PAGE);
        yield* gen_pool_free(pool, 0x4000, PAGE);
        return 'survived';
      });
      expect(r.findings.map((f) => f.kind)).toEqual(['bug']);
      expect(r.findings[0]!.title).toMatch(/^kernel BUG at lib\/genalloc\.c gen_pool_free(_owner)?: BUG\(\)/);
    });
  }

  it('a double gen_pool_free finds its bits clear: BUG_ON(remain)', () => {
    const r = seq('v5.2', function* () {
      const pool = yield* newPool(12, PAGE);
      const a = yield* gen_pool_alloc(pool, 1);
      yield* gen_pool_free(pool, a, 1);
      yield* gen_pool_free(pool, a, 1);
      return 'survived';
    });
    expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['bug', 'kernel BUG at lib/genalloc.c gen_pool_free_owner: BUG_ON(remain)']]);
  });

  it('freeing past the end of the chunk: BUG_ON(addr + size - 1 > chunk->end_addr)', () => {
    const r = seq('v5.1', function* () {
      const pool = yield* newPool(12, PAGE);
      const a = yield* gen_pool_alloc(pool, 1);
      yield* gen_pool_free(pool, a, 2 * PAGE);
      return 'survived';
    });
    expect(r.findings.map((f) => f.title)).toEqual(['kernel BUG at lib/genalloc.c gen_pool_free: BUG_ON(addr + size - 1 > chunk->end_addr)']);
  });

  it('a pool never destroyed is a leak of the pool and its chunks', () => {
    const r = seq('v5.1', function* () {
      yield* newPool(12, PAGE);
      return 'done';
    });
    expect(r.findings.map((f) => f.title).sort()).toEqual(['unreferenced object struct gen_pool (gen_pool_create)', 'unreferenced object struct gen_pool_chunk (gen_pool_add_virt)']);
  });
});

describe('lib/genalloc.c: allocation failures are fault points', () => {
  for (const tree of ['v5.1', 'v5.2']) {
    it(`${tree}: gen_pool_create returns NULL; the chunk allocation of gen_pool_add returns -ENOMEM and leaves the pool empty`, () => {
      const r = seq(
        tree,
        function* () {
          const pool = yield* gen_pool_create(12, -1);
          if (!pool) return 'create: NULL';
          const ret = yield* gen_pool_add(pool, BASE, PAGE, -1);
          const size = yield* gen_pool_size(pool);
          const a = yield* gen_pool_alloc(pool, 1);
          if (a) yield* gen_pool_free(pool, a, 1);
          yield* gen_pool_destroy(pool);
          return `add ${ret} size ${size} alloc ${hex(a)}`;
        },
        { maxFaults: 1 },
      );
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['add -12 size 0 alloc 0x0', 'add 0 size 4096 alloc 0x100000000', 'create: NULL']);
    });
  }
});

describe('lib/genalloc.c: lockless allocation under concurrency (DPOR equals DFS)', () => {
  /** A thread sets the pool up, then spawns one allocating thread per size. */
  function racers(unitBytes: number, poolBytes: number, sizes: number[]): () => Built {
    return () => {
      const results: number[] = sizes.map(() => -1);
      let pool!: gen_pool;
      const threads: ThreadSpec[] = [
        {
          name: 'setup',
          *body() {
            pool = (yield* gen_pool_create(Math.log2(unitBytes), -1))!;
            yield* gen_pool_add_virt(pool, 0x1000, 0, poolBytes, -1);
            for (const [i, size] of sizes.entries()) {
              yield* spawn(`A${i}`, function* () {
                results[i] = yield* gen_pool_alloc(pool, size);
              });
            }
          },
        },
      ];
      return { threads, outcome: () => `${results.map(hex).join(',')} bits=${pool.chunks[0]!.bits.join('')}` };
    };
  }

  it('two threads allocating one unit each from a two-unit pool get different units, in either order', () => {
    const build = racers(PAGE, 2 * PAGE, [1, 1]);
    const dpor = run('v5.2', build, { strategy: 'dpor' });
    const dfs = run('v5.2', build, { strategy: 'dfs' });
    expect(dpor.findings.map((f) => f.title)).toEqual(['unreferenced object struct gen_pool (gen_pool_create)', 'unreferenced object struct gen_pool_chunk (gen_pool_add_owner)']);
    expect(dpor.outcomes).toEqual(['0x1000,0x2000 bits=11', '0x2000,0x1000 bits=11']);
    expect(dfs.outcomes).toEqual(dpor.outcomes);
    expect(dpor.explored).toBeLessThanOrEqual(dfs.explored);
  });

  it('two threads racing for the only unit: one gets it, the other gets 0', () => {
    const build = racers(PAGE, PAGE, [1, 1]);
    const dpor = run('v5.1', build, { strategy: 'dpor' });
    const dfs = run('v5.1', build, { strategy: 'dfs' });
    expect(dpor.outcomes).toEqual(['0x0,0x1000 bits=1', '0x1000,0x0 bits=1']);
    expect(dfs.outcomes).toEqual(dpor.outcomes);
  });

  it('areas that overlap in a bitmap word: a lost cmpxchg race rolls back and retries (bitmap_set_ll/bitmap_clear_ll)', () => {
    // order 0, 130 bits: both want 64 bits; whoever loses the word race clears what it set and
    // searches again.
    const build = racers(1, 130, [64, 64]);
    const dpor = run('v6.15', build, { strategy: 'dpor' });
    const dfs = run('v6.15', build, { strategy: 'dfs' });
    expect(dpor.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(dpor.outcomes).toEqual(dfs.outcomes);
    expect(dpor.outcomes).toEqual([`0x1000,0x1040 bits=${'1'.repeat(128)}00`, `0x1040,0x1000 bits=${'1'.repeat(128)}00`]);
  });

  it('a lost race on the second word of an area: bitmap_clear_ll rolls the first word back and the search retries (DPOR)', () => {
    // order 0, 130 bits, 0..63 allocated (62 + 2). B wants 2 bits, A wants 10, C frees the 2 at
    // 62..63. A may find 62..71, set word 0 and then lose word 1 to B (64..65): it clears
    // 62..63 again and retries from bit 62, ending at 66.
    const build = (): Built => {
      const res = [0, 0];
      let pool!: gen_pool;
      return {
        threads: [
          {
            name: 'setup',
            *body() {
              pool = (yield* gen_pool_create(0, -1))!;
              yield* gen_pool_add_virt(pool, 0x1000, 0, 130, -1);
              yield* gen_pool_alloc(pool, 62);
              const y = yield* gen_pool_alloc(pool, 2);
              yield* spawn('A', function* () {
                res[0] = yield* gen_pool_alloc(pool, 10);
              });
              yield* spawn('B', function* () {
                res[1] = yield* gen_pool_alloc(pool, 2);
              });
              yield* spawn('C', function* () {
                yield* gen_pool_free(pool, y, 2);
              });
            },
          },
        ],
        outcome: () => res.map(hex).join(','),
      };
    };
    const r = run('v6.15', build, { strategy: 'dpor' });
    expect(r.findings.filter((f) => f.kind !== 'leak')).toEqual([]);
    expect(r.outcomes).toEqual(['0x103e,0x1048', '0x1040,0x103e', '0x1040,0x104a', '0x1042,0x1040']);
  });
});
