// lib/percpu-refcount.c and include/linux/percpu-refcount.h
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../../src/engine/explore.js';
import type { FinalReport, ThreadSpec } from '../../src/engine/execution.js';
import { block, type Gen, read, self, spawn, step } from '../../src/engine/ops.js';
import { Cell, store, waitFor } from '../../src/examples/toy.js';
import { bootTree } from '../../src/history/trees.js';
import { GFP_KERNEL } from '../../src/kernel/include/linux/gfp.js';
import {
  __PERCPU_REF_ATOMIC,
  __PERCPU_REF_ATOMIC_DEAD,
  __PERCPU_REF_DEAD,
  area_of,
  PERCPU_COUNT_BIAS,
  percpu_ref,
  percpu_ref_func,
  percpu_ref_get,
  percpu_ref_get_many,
  percpu_ref_is_dying,
  percpu_ref_is_zero,
  percpu_ref_kill,
  percpu_ref_put,
  percpu_ref_put_many,
  percpu_ref_tryget,
  percpu_ref_tryget_live,
  percpu_ref_tryget_live_rcu,
  percpu_ref_tryget_many,
  percpu_ref_value,
  PERCPU_REF_ALLOW_REINIT,
  PERCPU_REF_INIT_ATOMIC,
  PERCPU_REF_INIT_DEAD,
} from '../../src/kernel/include/linux/percpu-refcount.js';
import { ENOMEM } from '../../src/kernel/include/uapi/errno.js';
import { rcu_read_lock, rcu_read_unlock } from '../../src/kernel/kernel/rcu/tree.js';
import {
  percpu_ref_exit,
  percpu_ref_init,
  percpu_ref_kill_and_confirm,
  percpu_ref_reinit,
  percpu_ref_resurrect,
  percpu_ref_switch_to_atomic,
  percpu_ref_switch_to_atomic_sync,
  percpu_ref_switch_to_percpu,
} from '../../src/kernel/lib/percpu-refcount.js';
import { machine } from '../../src/kernel/machine.js';

const TREES = ['v5.1', 'v5.2', 'v6.14', 'v6.15', 'newest'];
const OLD = ['v5.1', 'v5.2'];
const NEW = ['v6.14', 'v6.15', 'newest'];

interface Built {
  threads: ThreadSpec[];
  outcome?: () => string;
  finalChecks?: () => readonly FinalReport[];
}

function run(tree: string, build: () => Built, o: ExploreOptions = {}) {
  return explore({ setup: () => { bootTree(tree); return build(); } }, { strategy: 'dpor', collectOutcomes: true, maxFaults: 0, ...o });
}

const leaks = (): FinalReport[] => machine().slab.leaks().map((l) => ({ kind: 'leak', title: `unreferenced object: ${l.what} (allocated by ${l.allocatedBy})` }));
const kinds = (r: { findings: readonly { kind: string }[] }) => r.findings.map((f) => f.kind);
const titles = (r: { findings: readonly { title: string }[] }) => r.findings.map((f) => f.title);

/** A release callback that records how often, in which thread, and whether a holder still held a reference. */
function releaseProbe() {
  const p = {
    released: 0,
    where: '',
    held: 0,
    bad: 0,
    /** Written (as a step) by release, so that a test thread can wait for it. */
    cell: new Cell('released'),
    release: percpu_ref_func('my_release', function* (_ref: percpu_ref): Gen<void> {
      p.released++;
      p.where = (yield* self()).name;
      if (p.held > 0) p.bad++;
      yield* store(p.cell, p.released);
    }),
  };
  return p;
}

describe('percpu_ref_init / percpu_ref_exit', () => {
  it('lib/percpu-refcount.c percpu_ref_init: flags 0 → percpu mode, count = PERCPU_COUNT_BIAS + 1; INIT_ATOMIC → 1; INIT_DEAD → 0, atomic and dead', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const refs = [0, PERCPU_REF_INIT_ATOMIC, PERCPU_REF_INIT_DEAD].map((f) => new percpu_ref(`ref${f}`));
        const out: string[] = [];
        const p = releaseProbe();
        return {
          threads: [
            {
              name: 'A',
              *body() {
                for (const [i, f] of [0, PERCPU_REF_INIT_ATOMIC, PERCPU_REF_INIT_DEAD].entries()) {
                  const ref = refs[i]!;
                  const ret = yield* percpu_ref_init(ref, p.release, f, GFP_KERNEL);
                  const bits = ref.percpu_count_ptr & __PERCPU_REF_ATOMIC_DEAD;
                  out.push(`${ret}:${bits}:${ref.data!.count.counter}:${yield* percpu_ref_is_dying(ref)}:${yield* percpu_ref_is_zero(ref)}`);
                }
              },
            },
          ],
          outcome: () => out.join(' '),
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual([`0:0:${BigInt.asIntN(64, PERCPU_COUNT_BIAS + 1n)}:false:false 0:1:1:false:false 0:3:0:true:true`]);
    }
  });

  it('lib/percpu-refcount.c percpu_ref_init: a failed per-CPU allocation (and, v5.10+, a failed kzalloc of ref->data) returns -ENOMEM and leaks nothing', () => {
    for (const tree of TREES) {
      const r = run(
        tree,
        () => {
          const ref = new percpu_ref('ref');
          const p = releaseProbe();
          let ret = 1;
          return {
            threads: [
              {
                name: 'A',
                *body() {
                  ret = yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL);
                  if (ret === 0) yield* percpu_ref_exit(ref);
                },
              },
            ],
            outcome: () => `ret=${ret} ptr=${ref.percpu_count_ptr === 0n ? 'NULL' : ref.percpu_count_ptr === __PERCPU_REF_ATOMIC_DEAD ? 'ATOMIC_DEAD' : 'stashed'}`,
            finalChecks: leaks,
          };
        },
        { maxFaults: 1 },
      );
      expect(r.findings).toEqual([]);
      // v5.1/v5.2: one fault point; v6.x: two (alloc_percpu, then kzalloc).
      expect(r.explored).toBe(OLD.includes(tree) ? 2 : 3);
      const ok = OLD.includes(tree) ? 'ret=0 ptr=ATOMIC_DEAD' : 'ret=0 ptr=stashed';
      expect(r.outcomes).toEqual([`ret=${-ENOMEM} ptr=NULL`, ok]);
    }
  });

  it('percpu_ref_exit without kill leaks nothing; without exit the per-CPU area (and v6 ref->data) leak', () => {
    for (const tree of ['v5.1', 'v6.14']) {
      for (const doExit of [true, false]) {
        const r = run(tree, () => {
          const ref = new percpu_ref('ref');
          const p = releaseProbe();
          return {
            threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL); if (doExit) yield* percpu_ref_exit(ref); } }],
            finalChecks: leaks,
          };
        });
        if (doExit) expect(r.findings).toEqual([]);
        else expect(titles(r)).toEqual(tree === 'v5.1' ? ['unreferenced object: per-CPU counters of ref (allocated by percpu_ref_init)'] : ['unreferenced object: per-CPU counters of ref (allocated by percpu_ref_init)', 'unreferenced object: struct percpu_ref_data (allocated by percpu_ref_init)']);
      }
    }
  });

  it('v5.10+ percpu_ref_exit stashes the count in the word: is_dying() true, is_zero() from the word', () => {
    for (const tree of NEW) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        let out = '';
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, PERCPU_REF_INIT_ATOMIC, GFP_KERNEL);
                yield* percpu_ref_get(ref);
                yield* percpu_ref_exit(ref);
                out = `${ref.data === null} ${ref.percpu_count_ptr >> 2n} ${yield* percpu_ref_is_dying(ref)} ${yield* percpu_ref_is_zero(ref)}`;
              },
            },
          ],
          outcome: () => out,
          finalChecks: leaks,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['true 2 true false']);
    }
  });

  it('v5.10+: a get after percpu_ref_exit dereferences ref->data == NULL (oops)', () => {
    const r = run('v6.15', () => {
      const ref = new percpu_ref('ref');
      const p = releaseProbe();
      return { threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL); yield* percpu_ref_exit(ref); yield* percpu_ref_get(ref); } }] };
    });
    expect(kinds(r)).toEqual(['panic']);
    expect(titles(r)[0]).toContain('NULL pointer dereference');
  });
});

describe('kill and release', () => {
  it('include/linux/percpu-refcount.h percpu_ref_tryget_live: succeeds while live, fails once killed; tryget still succeeds until the count is zero', () => {
    for (const tree of TREES) {
      for (const flags of [0, PERCPU_REF_INIT_ATOMIC]) {
        const r = run(tree, () => {
          const ref = new percpu_ref('ref');
          const p = releaseProbe();
          const out: boolean[] = [];
          return {
            threads: [
              {
                name: 'A',
                *body() {
                  yield* percpu_ref_init(ref, p.release, flags, GFP_KERNEL);
                  out.push(yield* percpu_ref_tryget_live(ref)); // takes a ref
                  yield* percpu_ref_kill(ref);
                  out.push(yield* percpu_ref_tryget_live(ref));
                  out.push(yield* percpu_ref_tryget(ref)); // count > 0: succeeds
                  yield* percpu_ref_put(ref);
                  yield* percpu_ref_put(ref);
                  out.push(yield* percpu_ref_tryget_live(ref));
                },
              },
            ],
            outcome: () => `${out.join(',')} released=${p.released}`,
          };
        });
        expect(r.findings).toEqual([]);
        expect(r.outcomes).toEqual(['true,false,true,false released=1']);
      }
    }
  });

  it('lib/percpu-refcount.c: release runs exactly once, after kill, in the thread whose put reaches zero', () => {
    for (const tree of ['v5.1', 'v6.14']) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        const events: string[] = [];
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL);
                yield* percpu_ref_get(ref);
                yield* percpu_ref_kill(ref);
                events.push(`after kill released=${p.released}`);
                yield* block('wait for the confirmation', 'the RCU callback', () => ref.data!.confirm_switch === null, read(ref.data!));
                events.push(`after confirm released=${p.released}`);
                yield* percpu_ref_put(ref);
              },
            },
          ],
          outcome: () => `${events.join('; ')}; finally released=${p.released} in ${p.where}; value=${percpu_ref_value(ref)}`,
        };
      });
      expect(r.findings).toEqual([]);
      // A's put and the callback's put (of the reference the switch took) race: whichever
      // reaches zero runs release, in its own thread.
      expect(r.outcomes).toEqual([
        'after kill released=0; after confirm released=0; finally released=1 in A; value=0',
        'after kill released=0; after confirm released=0; finally released=1 in rcu callbacks on CPU 0; value=0',
      ]);
    }
  });

  it('lib/percpu-refcount.c: with no other reference, release runs in the RCU callback after the grace period (percpu mode) or in kill itself (atomic mode)', () => {
    for (const tree of TREES) {
      for (const flags of [0, PERCPU_REF_INIT_ATOMIC]) {
        const r = run(tree, () => {
          const ref = new percpu_ref('ref');
          const p = releaseProbe();
          return {
            threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, flags, GFP_KERNEL); yield* percpu_ref_kill(ref); } }],
            outcome: () => `released=${p.released} in ${p.where}`,
          };
        });
        expect(r.findings).toEqual([]);
        expect(r.outcomes).toEqual([flags ? 'released=1 in A' : 'released=1 in rcu callbacks on CPU 0']);
      }
    }
  });

  it('lib/percpu-refcount.c percpu_ref_kill_and_confirm: a second kill WARNs "percpu_ref_kill_and_confirm called more than once on my_release!"', () => {
    for (const tree of TREES) {
      for (const flags of [0, PERCPU_REF_INIT_ATOMIC]) {
        const r = run(tree, () => {
          const ref = new percpu_ref('ref');
          const p = releaseProbe();
          return {
            threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, flags, GFP_KERNEL); yield* percpu_ref_get(ref); yield* percpu_ref_kill(ref); yield* percpu_ref_kill(ref); } }],
            outcome: () => `released=${p.released}`,
          };
        });
        expect(titles(r)).toEqual(['WARNING: at lib/percpu-refcount.c percpu_ref_kill_and_confirm: percpu_ref_kill_and_confirm called more than once on my_release!']);
        // The second kill drops the reference A still held: release runs once, nothing more.
        expect(r.outcomes).toEqual(['released=1']);
      }
    }
  });

  it('get/put racing with kill from two threads (DPOR): release exactly once, never while a reference is held, the count never negative', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        function* holder(): Gen<void> {
          // B owns one reference (taken for it by A before it was started) and takes another.
          yield* percpu_ref_get(ref);
          p.held++;
          yield* percpu_ref_put(ref);
          p.held--;
          p.held--;
          yield* percpu_ref_put(ref);
        }
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL);
                yield* percpu_ref_get(ref);
                p.held++;
                yield* spawn('B', holder);
                yield* percpu_ref_kill(ref);
              },
            },
          ],
          outcome: () => `released=${p.released} in ${p.where} bad=${p.bad} value=${percpu_ref_value(ref)}`,
        };
      });
      // No "percpu ref (...) <= 0" warning, no other finding; whichever put comes last runs
      // release: B's, or the RCU callback's (A's put in the kill comes before the callback's).
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['released=1 in B bad=0 value=0', 'released=1 in rcu callbacks on CPU 0 bad=0 value=0']);
      expect(r.complete).toBe(true);
    }
  });

  it('tryget_live racing with kill_and_confirm: it may still succeed before confirmation; once confirm_kill has run it always fails; release once', () => {
    for (const tree of ['v5.2', 'newest']) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        const confirmed = new Cell('confirmed');
        const res: Record<string, string> = {};
        const confirm = percpu_ref_func('my_confirm', function* (): Gen<void> { yield* store(confirmed, 1); });
        const user = (name: string, waitConfirm: boolean) =>
          function* (): Gen<void> {
            if (waitConfirm) yield* waitFor(confirmed, 1);
            const got = yield* percpu_ref_tryget_live(ref);
            res[name] = got ? 'got' : 'failed';
            if (got) {
              p.held++;
              yield* percpu_ref_is_dying(ref); // uses the object
              p.held--;
              yield* percpu_ref_put(ref);
            }
          };
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL);
                yield* spawn('racer', user('racer', false));
                yield* spawn('late', user('late', true));
                yield* percpu_ref_kill_and_confirm(ref, confirm);
              },
            },
          ],
          outcome: () => `racer=${res.racer} late=${res.late} released=${p.released} bad=${p.bad}`,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['racer=failed late=failed released=1 bad=0', 'racer=got late=failed released=1 bad=0']);
    }
  });

  it('a put too many in percpu mode: "percpu ref (my_release) <= 0 (0) after switching to atomic" (the PERCPU_COUNT_BIAS fold)', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        return {
          threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL); yield* percpu_ref_put(ref); yield* percpu_ref_kill(ref); } }],
          outcome: () => `released=${p.released} count=${ref.data!.count.counter}`,
        };
      });
      expect(titles(r)).toEqual(['WARNING: at lib/percpu-refcount.c percpu_ref_switch_to_atomic_rcu: percpu ref (my_release) <= 0 (0) after switching to atomic']);
      // The callback's own put then takes the count to -1: sub_and_test is never exactly 0, no release.
      expect(r.outcomes).toEqual(['released=0 count=-1']);
    }
  });

  it('v5.1: percpu_ref_exit while the switch is in flight WARNs (confirm_switch) and the RCU callback then reads freed per-CPU memory', () => {
    const r = run('v5.1', () => {
      const ref = new percpu_ref('ref');
      const p = releaseProbe();
      return { threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL); yield* percpu_ref_kill(ref); yield* percpu_ref_exit(ref); } }] };
    });
    // The callback runs either between free_percpu() and the store of ATOMIC_DEAD (KASAN
    // use-after-free of the counters) or after it (per_cpu_ptr() of a NULL per-CPU pointer).
    expect([...kinds(r)].sort()).toEqual(['kasan', 'panic', 'warn']);
    expect(titles(r)).toContain('WARNING: at lib/percpu-refcount.c percpu_ref_exit: WARN_ON_ONCE(ref->confirm_switch)');
    expect(titles(r).some((t) => t.includes('BUG: KASAN: use-after-free: read of per-CPU counters of ref'))).toBe(true);
  });

  it('v5.10+: release() calling percpu_ref_exit() from kill of an atomic ref retakes percpu_ref_switch_lock: spinlock recursion (v5.1/v5.2 take no lock in exit)', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const release = percpu_ref_func('exiting_release', function* (rf: percpu_ref): Gen<void> { yield* percpu_ref_exit(rf); });
        return { threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, release, PERCPU_REF_INIT_ATOMIC, GFP_KERNEL); yield* percpu_ref_kill(ref); } }], finalChecks: leaks };
      });
      if (OLD.includes(tree)) expect(r.findings).toEqual([]);
      else {
        expect(kinds(r)).toEqual(['bug', 'hang']);
        expect(titles(r)[0]).toBe('BUG: spinlock recursion on CPU#0, A/0');
      }
    }
  });
});

describe('mode switching, resurrect, reinit', () => {
  it('switch_to_atomic_sync then switch_to_percpu: a round trip on v5.1/v5.2 and with ALLOW_REINIT; without it v5.3+ frees the per-CPU memory early and stays atomic', () => {
    for (const tree of TREES) {
      for (const flags of [0, PERCPU_REF_ALLOW_REINIT]) {
        if (flags && OLD.includes(tree)) continue;
        const r = run(tree, () => {
          const ref = new percpu_ref('ref');
          const p = releaseProbe();
          const out: string[] = [];
          const mode = () => `${(ref.percpu_count_ptr & __PERCPU_REF_ATOMIC) !== 0n ? 'atomic' : 'percpu'}${(ref.percpu_count_ptr & __PERCPU_REF_DEAD) !== 0n ? '+dead' : ''}`;
          return {
            threads: [
              {
                name: 'A',
                *body() {
                  yield* percpu_ref_init(ref, p.release, flags, GFP_KERNEL);
                  yield* percpu_ref_get_many(ref, 3);
                  yield* percpu_ref_switch_to_atomic_sync(ref);
                  yield* step('test: read the mode', read(ref));
                  out.push(mode());
                  yield* percpu_ref_switch_to_percpu(ref);
                  yield* step('test: read the mode', read(ref));
                  out.push(mode());
                  yield* percpu_ref_put_many(ref, 3);
                },
              },
            ],
            outcome: () => `${out.join(' ')} ${percpu_ref_value(ref)}`,
          };
        });
        const reinit = OLD.includes(tree) || flags !== 0;
        if (reinit) {
          expect(r.findings).toEqual([]);
          expect(r.outcomes).toEqual(['atomic percpu 1']);
        } else {
          // switch_to_percpu() needs ALLOW_REINIT from v5.3: _sync returns once confirm_switch is
          // NULL, before the callback's __percpu_ref_exit(). Depending on where
          // switch_to_percpu() falls, the ref is already dying (stays atomic, fine), or the
          // WARN_ON_ONCE(!allow_reinit) fires, or the early free lands between the mode test and
          // __percpu_ref_switch_to_percpu(): BUG_ON(!percpu_count).
          expect(titles(r).sort()).toEqual([
            'WARNING: at lib/percpu-refcount.c __percpu_ref_switch_to_percpu: WARN_ON_ONCE(!ref->data->allow_reinit)',
            'kernel BUG at lib/percpu-refcount.c:__percpu_ref_switch_to_percpu: BUG_ON(!percpu_count)',
          ]);
          expect(r.outcomes).toEqual(['atomic atomic 1', 'atomic atomic+dead 1', 'atomic+dead atomic+dead 1']);
        }
      }
    }
  });

  it('percpu_ref_switch_to_atomic with a confirm callback on an atomic ref calls it synchronously', () => {
    const r = run('v6.15', () => {
      const ref = new percpu_ref('ref');
      const p = releaseProbe();
      let where = '';
      return {
        threads: [
          {
            name: 'A',
            *body() {
              yield* percpu_ref_init(ref, p.release, PERCPU_REF_INIT_ATOMIC, GFP_KERNEL);
              yield* percpu_ref_switch_to_atomic(ref, percpu_ref_func('c', function* () { where = (yield* self()).name; }));
            },
          },
        ],
        outcome: () => where,
      };
    });
    expect(r.outcomes).toEqual(['A']);
  });

  it('lib/percpu-refcount.c percpu_ref_reinit: after kill and release, back to percpu mode with one reference (v5.1/v5.2, or with ALLOW_REINIT)', () => {
    for (const tree of TREES) {
      const flags = OLD.includes(tree) ? 0 : PERCPU_REF_ALLOW_REINIT;
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        const out: string[] = [];
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, flags, GFP_KERNEL);
                yield* percpu_ref_kill(ref);
                yield* waitFor(p.cell, 1);
                yield* percpu_ref_reinit(ref);
                out.push(`${yield* percpu_ref_tryget_live(ref)}`);
                yield* percpu_ref_put(ref);
                out.push(`${(ref.percpu_count_ptr & __PERCPU_REF_ATOMIC_DEAD) === 0n} ${percpu_ref_value(ref)}`);
              },
            },
          ],
          outcome: () => out.join(' '),
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['true true 1']);
    }
  });

  it('v5.3+: percpu_ref_reinit without PERCPU_REF_ALLOW_REINIT: the per-CPU memory is gone, BUG_ON(!percpu_count)', () => {
    for (const tree of NEW) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL);
                yield* percpu_ref_kill(ref);
                yield* waitFor(p.cell, 1);
                yield* percpu_ref_reinit(ref);
              },
            },
          ],
        };
      });
      expect(titles(r)).toEqual(['kernel BUG at lib/percpu-refcount.c:__percpu_ref_switch_to_percpu: BUG_ON(!percpu_count)']);
    }
  });

  it('v5.3+: switch_to_percpu of an INIT_ATOMIC ref works (INIT_ATOMIC implies ALLOW_REINIT)', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        let percpu = false;
        return {
          threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, PERCPU_REF_INIT_ATOMIC, GFP_KERNEL); yield* percpu_ref_switch_to_percpu(ref); percpu = (ref.percpu_count_ptr & __PERCPU_REF_ATOMIC) === 0n; } }],
          outcome: () => `${percpu} ${percpu_ref_value(ref)}`,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['true 1']);
    }
  });

  it('lib/percpu-refcount.c percpu_ref_reinit on a live ref: WARN_ON_ONCE(!percpu_ref_is_zero), and resurrect WARNs (not dead, percpu)', () => {
    for (const tree of ['v5.1', 'v6.14']) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        return { threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL); yield* percpu_ref_reinit(ref); } }] };
      });
      expect(titles(r)).toEqual([
        'WARNING: at lib/percpu-refcount.c percpu_ref_reinit: WARN_ON_ONCE(!percpu_ref_is_zero(ref))',
        `WARNING: at lib/percpu-refcount.c percpu_ref_resurrect: ${tree === 'v5.1' ? 'WARN_ON_ONCE(!(ref->percpu_count_ptr & __PERCPU_REF_DEAD))' : 'WARN_ON_ONCE(!percpu_ref_is_dying(ref))'}`,
        'WARNING: at lib/percpu-refcount.c percpu_ref_resurrect: WARN_ON_ONCE(__ref_is_percpu(ref, &percpu_count))',
      ]);
    }
  });

  it('percpu_ref_resurrect of an INIT_DEAD ref brings it to life in atomic mode when force_atomic', () => {
    for (const tree of TREES) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        const out: boolean[] = [];
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, PERCPU_REF_INIT_DEAD | PERCPU_REF_INIT_ATOMIC, GFP_KERNEL);
                out.push(yield* percpu_ref_tryget_live(ref));
                yield* percpu_ref_resurrect(ref);
                out.push(yield* percpu_ref_tryget_live(ref));
                out.push(yield* percpu_ref_is_dying(ref));
              },
            },
          ],
          outcome: () => `${out.join(',')} ${percpu_ref_value(ref)} atomic=${(ref.percpu_count_ptr & __PERCPU_REF_ATOMIC) !== 0n}`,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['false,true,false 2 atomic=true']);
    }
  });

  it('kill while a switch_to_atomic is in flight waits (wait_event_lock_irq, lock dropped) for its confirmation', () => {
    for (const tree of ['v5.2', 'v6.15']) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        let confirmedBeforeKillReturned = false;
        let confirmed = false;
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, PERCPU_REF_ALLOW_REINIT, GFP_KERNEL);
                yield* percpu_ref_switch_to_atomic(ref, percpu_ref_func('c', function* () { confirmed = true; }));
                yield* percpu_ref_kill(ref);
                confirmedBeforeKillReturned = confirmed;
              },
            },
          ],
          outcome: () => `${confirmedBeforeKillReturned} released=${p.released}`,
        };
      });
      expect(r.findings).toEqual([]);
      expect(r.outcomes).toEqual(['true released=1']);
    }
  });
});

describe('tree-specific API', () => {
  it('percpu_ref_tryget_many (v5.6+) adds nr unless zero; absent from v5.1/v5.2', () => {
    for (const tree of NEW) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        let out = '';
        return {
          threads: [{ name: 'A', *body() { yield* percpu_ref_init(ref, p.release, PERCPU_REF_INIT_ATOMIC, GFP_KERNEL); const a = yield* percpu_ref_tryget_many(ref, 3); out = `${a} ${ref.data!.count.counter}`; } }],
          outcome: () => out,
        };
      });
      expect(r.outcomes).toEqual(['true 4']);
    }
    expect(() => run('v5.1', () => {
      const ref = new percpu_ref('ref');
      return { threads: [{ name: 'A', *body() { yield* percpu_ref_tryget_many(ref, 1); } }] };
    })).toThrow(/does not exist in v5.1/);
  });

  it('percpu_ref_tryget_live_rcu (v5.16+): WARN_ON_ONCE(!rcu_read_lock_held()) outside rcu_read_lock', () => {
    for (const tree of NEW) {
      const r = run(tree, () => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        const out: boolean[] = [];
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL);
                yield* rcu_read_lock();
                out.push(yield* percpu_ref_tryget_live_rcu(ref));
                yield* rcu_read_unlock();
                out.push(yield* percpu_ref_tryget_live_rcu(ref));
              },
            },
          ],
          outcome: () => out.join(','),
        };
      });
      expect(titles(r)).toEqual(['WARNING: at include/linux/percpu-refcount.h percpu_ref_tryget_live_rcu: WARN_ON_ONCE(!rcu_read_lock_held())']);
      expect(r.outcomes).toEqual(['true,true']);
    }
  });

  it('per-CPU counters are separate objects: gets on two CPUs land in two slots and sum on the switch', () => {
    const r = run('v6.14', () => {
      const ref = new percpu_ref('ref');
      const p = releaseProbe();
      let slots = '';
      return {
        threads: [
          { name: 'cpu0', *body() { yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL); yield* spawn('cpu1', function* () { yield* percpu_ref_get_many(ref, 2); }); yield* percpu_ref_get(ref); } },
        ],
        outcome: () => {
          slots = area_of(ref.percpu_count_ptr)!.slots.map((s) => String(s.value)).join(',');
          return `${slots} value=${percpu_ref_value(ref)}`;
        },
      };
    });
    expect(r.outcomes).toEqual(['1,2 value=4']);
  });
});

describe('DPOR against exhaustive DFS', () => {
  it('kill racing tryget_live + put on an atomic ref: the same outcomes (every tree)', () => {
    for (const tree of TREES) {
      const build = (): Built => {
        const ref = new percpu_ref('ref');
        const p = releaseProbe();
        let got = '';
        return {
          threads: [
            {
              name: 'A',
              *body() {
                yield* percpu_ref_init(ref, p.release, PERCPU_REF_INIT_ATOMIC, GFP_KERNEL);
                yield* spawn('B', function* (): Gen<void> {
                  const ok = yield* percpu_ref_tryget_live(ref);
                  got = String(ok);
                  if (ok) yield* percpu_ref_put(ref);
                });
                yield* percpu_ref_kill(ref);
              },
            },
          ],
          outcome: () => `tryget_live=${got} released=${p.released} in ${p.where} value=${percpu_ref_value(ref)}`,
        };
      };
      const d = run(tree, build);
      const f = run(tree, build, { strategy: 'dfs' });
      expect(f.complete).toBe(true);
      expect(d.outcomes).toEqual(f.outcomes);
      expect(d.outcomes).toEqual([
        'tryget_live=false released=1 in A value=0',
        'tryget_live=true released=1 in A value=0',
        'tryget_live=true released=1 in B value=0',
      ]);
      expect(d.explored).toBeLessThan(f.explored);
    }
  });

  it('kill racing a holder\'s put in percpu mode (v5.1): the same outcomes', () => {
    const build = (): Built => {
      const ref = new percpu_ref('ref');
      const p = releaseProbe();
      return {
        threads: [
          {
            name: 'A',
            *body() {
              yield* percpu_ref_init(ref, p.release, 0, GFP_KERNEL);
              yield* percpu_ref_get(ref);
              yield* spawn('B', function* (): Gen<void> { yield* percpu_ref_put(ref); });
              yield* percpu_ref_kill(ref);
            },
          },
        ],
        outcome: () => `released=${p.released} in ${p.where} value=${percpu_ref_value(ref)}`,
      };
    };
    const d = run('v5.1', build);
    const f = run('v5.1', build, { strategy: 'dfs' });
    expect(f.complete).toBe(true);
    expect(d.outcomes).toEqual(f.outcomes);
    expect(d.outcomes).toEqual(['released=1 in B value=0', 'released=1 in rcu callbacks on CPU 0 value=0']);
  });
});
