// include/linux/refcount.h, lib/refcount.c, include/linux/kref.h
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../../src/engine/explore.js';
import type { ThreadSpec } from '../../src/engine/execution.js';
import type { Gen } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import { kref, kref_get, kref_get_unless_zero, kref_init, kref_put, kref_read } from '../../src/kernel/include/linux/kref.js';
import {
  INT_MAX,
  REFCOUNT_SATURATED,
  refcount_add,
  refcount_dec,
  refcount_dec_and_test,
  refcount_dec_if_one,
  refcount_dec_not_one,
  refcount_inc,
  refcount_inc_not_zero,
  refcount_read,
  refcount_set,
  refcount_sub_and_test,
  refcount_t,
  UINT_MAX,
} from '../../src/kernel/include/linux/refcount.js';

const OLD = ['v5.1', 'v5.2'];
const NEW = ['v6.14', 'v6.15', 'newest'];

function run(tree: string, build: () => { threads: ThreadSpec[]; outcome?: () => string }, o: ExploreOptions = {}) {
  return explore({ setup: () => { bootTree(tree); return build(); } }, { strategy: 'dpor', collectOutcomes: true, maxFaults: 0, ...o });
}

/** One thread running `body` on a refcount starting at `n`; the outcome is body's result and the final refs. */
function single(tree: string, n: number, body: (r: refcount_t) => Gen<string>) {
  return run(tree, () => {
    const r = new refcount_t(n);
    let out = '';
    return { threads: [{ name: 'A', *body() { out = yield* body(r); } }], outcome: () => `${out} refs=${r.refs}` };
  });
}

describe('refcount_t', () => {
  it('include/linux/refcount.h: refcount_dec_and_test on 0 warns "refcount_t: underflow; use-after-free." (v5.1/v5.2: no decrement; v6: saturates)', () => {
    for (const tree of OLD) {
      const r = single(tree, 0, function* (c) { return String(yield* refcount_dec_and_test(c)); });
      expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['warn', 'WARNING: at lib/refcount.c refcount_sub_and_test_checked: refcount_t: underflow; use-after-free.']]);
      expect(r.outcomes).toEqual(['false refs=0']);
    }
    for (const tree of NEW) {
      const r = single(tree, 0, function* (c) { return String(yield* refcount_dec_and_test(c)); });
      expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['warn', 'WARNING: at lib/refcount.c refcount_warn_saturate: refcount_t: underflow; use-after-free.']]);
      expect(r.outcomes).toEqual([`false refs=${REFCOUNT_SATURATED}`]);
    }
  });

  it('refcount_inc on 0: v6 "addition on 0; use-after-free." (saturated), v5.1/v5.2 "increment on 0; use-after-free." (stays 0)', () => {
    for (const tree of OLD) {
      const r = single(tree, 0, function* (c) { yield* refcount_inc(c); return ''; });
      expect(r.findings.map((f) => f.title)).toEqual(['WARNING: at lib/refcount.c refcount_inc_checked: refcount_t: increment on 0; use-after-free.']);
      expect(r.outcomes).toEqual([' refs=0']);
    }
    for (const tree of NEW) {
      const r = single(tree, 0, function* (c) { yield* refcount_inc(c); return ''; });
      expect(r.findings.map((f) => f.title)).toEqual(['WARNING: at lib/refcount.c refcount_warn_saturate: refcount_t: addition on 0; use-after-free.']);
      expect(r.outcomes).toEqual([` refs=${REFCOUNT_SATURATED}`]);
    }
  });

  it('refcount_add(2) on 0 warns "addition on 0; use-after-free." on every tree', () => {
    for (const tree of [...OLD, ...NEW]) {
      const r = single(tree, 0, function* (c) { yield* refcount_add(2, c); return ''; });
      expect(r.findings.map((f) => f.title.split(': ').slice(-2).join(': '))).toEqual(['refcount_t: addition on 0; use-after-free.']);
    }
  });

  it('ordinary use: inc, inc_not_zero, sub_and_test, dec_and_test reach 0 exactly once; no warnings', () => {
    for (const tree of [...OLD, ...NEW]) {
      const r = single(tree, 1, function* (c) {
        yield* refcount_inc(c);
        const a = yield* refcount_inc_not_zero(c);
        const b = yield* refcount_sub_and_test(2, c);
        const d = yield* refcount_dec_and_test(c);
        const e = yield* refcount_inc_not_zero(c);
        return `${a},${b},${d},${e},${yield* refcount_read(c)}`;
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['true,false,true,false,0 refs=0']);
    }
  });

  it('saturation: v6 overflow past INT_MAX → REFCOUNT_SATURATED and "saturated; leaking memory."; a saturated count never reaches 0', () => {
    for (const tree of NEW) {
      const r = single(tree, INT_MAX, function* (c) {
        yield* refcount_inc(c);
        const z = yield* refcount_dec_and_test(c);
        return String(z);
      });
      // The decrement of a saturated (negative) count is itself reported as an underflow and
      // re-saturates: the count stays in the saturation range.
      expect(r.findings.map((f) => f.title)).toEqual([
        'WARNING: at lib/refcount.c refcount_warn_saturate (REFCOUNT_ADD_OVF): refcount_t: saturated; leaking memory.',
        'WARNING: at lib/refcount.c refcount_warn_saturate: refcount_t: underflow; use-after-free.',
      ]);
      expect(r.outcomes).toEqual([`false refs=${REFCOUNT_SATURATED}`]);
    }
  });

  it('saturation: v5.1/v5.2 saturate at UINT_MAX and never move off it', () => {
    for (const tree of OLD) {
      const r = single(tree, -2 /* UINT_MAX - 1 */, function* (c) {
        yield* refcount_inc(c);
        const z = yield* refcount_dec_and_test(c);
        yield* refcount_inc(c);
        return `${z},${(yield* refcount_read(c)) === UINT_MAX}`;
      });
      expect(r.findings.map((f) => f.title)).toEqual(['WARNING: at lib/refcount.c refcount_inc_not_zero_checked: refcount_t: saturated; leaking memory.']);
      expect(r.outcomes).toEqual(['false,true refs=-1']);
    }
  });

  it('refcount_dec hitting 0 warns "decrement hit 0; leaking memory."', () => {
    for (const tree of ['v5.2', 'v6.15']) {
      const r = single(tree, 1, function* (c) { yield* refcount_dec(c); return ''; });
      expect(r.findings.map((f) => f.title.split(': ').slice(-2).join(': '))).toEqual(['refcount_t: decrement hit 0; leaking memory.']);
    }
  });

  it('lib/refcount.c: refcount_dec_if_one and refcount_dec_not_one', () => {
    for (const tree of ['v5.1', 'newest']) {
      const r = single(tree, 2, function* (c) {
        const a = yield* refcount_dec_if_one(c);
        const b = yield* refcount_dec_not_one(c);
        const d = yield* refcount_dec_not_one(c);
        const e = yield* refcount_dec_if_one(c);
        return `${a},${b},${d},${e}`;
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['false,true,false,true refs=0']);
    }
  });

  it('two threads dropping the last two references: exactly one sees the count reach zero (DPOR = DFS)', () => {
    const build = () => {
      const c = new refcount_t(0);
      const zero: string[] = [];
      const body = (n: string) => function* (): Gen<void> { if (yield* refcount_dec_and_test(c)) zero.push(n); };
      return {
        threads: [
          { name: 'init', *body() { yield* refcount_set(c, 2); } },
          { name: 'A', body: body('A') },
          { name: 'B', body: body('B') },
        ],
        outcome: () => zero.join(','),
      };
    };
    for (const tree of ['v5.1', 'v6.14']) {
      const d = run(tree, build);
      const f = run(tree, build, { strategy: 'dfs' });
      expect(d.outcomes).toEqual(f.outcomes);
      // A put racing with the set (count still 0) underflows: the warning is reachable.
      expect(d.findings.map((x) => x.kind)).toEqual(['warn']);
      expect(d.outcomes).toContain('A');
      expect(d.outcomes).toContain('B');
    }
  });
});

describe('kref', () => {
  it('include/linux/kref.h: kref_put calls release exactly once, when the last reference goes, never while a lookup holds one', () => {
    for (const tree of ['v5.1', 'v6.15']) {
      const r = run(tree, () => {
        const k = new kref(1); // KREF_INIT(1): the owner's reference
        let released = 0;
        let heldByB = false;
        let bad = 0;
        let got: boolean | undefined;
        const release = function* (_k: kref): Gen<void> {
          released++;
          if (heldByB) bad++;
        };
        return {
          threads: [
            { name: 'owner', *body() { yield* kref_get(k); yield* kref_put(k, release); yield* kref_put(k, release); } },
            // A lookup: only kref_get_unless_zero may be used without holding a reference.
            {
              name: 'lookup',
              *body() {
                got = yield* kref_get_unless_zero(k);
                if (!got) return;
                heldByB = true;
                yield* kref_read(k); // uses the object while holding the reference
                heldByB = false;
                yield* kref_put(k, release);
              },
            },
          ],
          outcome: () => `released=${released} bad=${bad} lookup=${got}`,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['released=1 bad=0 lookup=false', 'released=1 bad=0 lookup=true']);
    }
  });

  it('kref_put of the last reference runs release; a later kref_get warns (use-after-free pattern)', () => {
    for (const tree of ['v5.2', 'v6.14']) {
      const r = run(tree, () => {
        const k = new kref();
        let released = 0;
        let ret = -1;
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* kref_init(k);
                ret = yield* kref_put(k, function* (): Gen<void> { released++; });
                yield* kref_get(k);
              },
            },
          ],
          outcome: () => `ret=${ret} released=${released}`,
        };
      });
      expect(r.outcomes).toEqual(['ret=1 released=1']);
      expect(r.findings.map((f) => f.kind)).toEqual(['warn']);
      expect(r.findings[0]!.title).toMatch(/refcount_t: (increment|addition) on 0; use-after-free\./);
    }
  });
});
