// The kernel runtime every model file stands on: mm/slab_common.c allocation with KASAN's and
// kmemleak's checks, include/asm-generic/bug.h, the kernel log, per-CPU placement.
import { describe, it } from 'node:test';
import { expect } from 'expect';
import type { FinalReport } from '../../src/engine/execution.js';
import { explore } from '../../src/engine/explore.js';
import { type Gen, read, step } from '../../src/engine/ops.js';
import { bootTree } from '../../src/history/trees.js';
import { BUG_ON, WARN_ON, WARN_ONCE } from '../../src/kernel/include/asm-generic/bug.js';
import { GFP_KERNEL } from '../../src/kernel/include/linux/gfp.js';
import { pr_err } from '../../src/kernel/kernel/printk.js';
import { machine, smp_processor_id } from '../../src/kernel/machine.js';
import { kfree, kmalloc, kzalloc } from '../../src/kernel/mm/slab.js';

class widget {
  count = 0;
}

/** Runs `body` as one thread on a fresh v5.2 machine; leaks are reported at the end. */
function run(body: () => Gen<void>, maxFaults = 0, threads = 1) {
  return explore(
    {
      setup: () => {
        bootTree('v5.2');
        return {
          threads: Array.from({ length: threads }, (_, i) => ({ name: `T${i}`, body })),
          finalChecks: (): FinalReport[] => machine().slab.leaks().map((l) => ({ kind: 'leak', title: `kmemleak: unreferenced object ${l.what} allocated by ${l.allocatedBy}` })),
          outcome: () => machine().dmesg.join('|'),
        };
      },
    },
    { strategy: 'dpor', maxFaults, collectOutcomes: true },
  );
}

describe('mm/slab_common.c: kmalloc, kzalloc, kfree with KASAN and kmemleak', () => {
  it('an object used after kfree is a KASAN use-after-free', () => {
    const r = run(function* () {
      const w = yield* kzalloc('struct widget', 'test_probe', () => new widget(), GFP_KERNEL);
      yield* kfree(w);
      yield* step('w->count++', read(w!));
      w!.count++;
    });
    expect(r.findings.map((f) => f.kind)).toEqual(['kasan']);
    expect(r.findings[0]!.title).toMatch(/use-after-free: write of struct widget\.count \(allocated by test_probe\)|use-after-free: read of struct widget\.count/);
  });

  it('a second kfree is a KASAN double-free', () => {
    const r = run(function* () {
      const w = yield* kmalloc('struct widget', 'test_probe', () => new widget(), GFP_KERNEL);
      yield* kfree(w);
      yield* kfree(w);
    });
    expect(r.findings.map((f) => f.title)).toEqual(['BUG: KASAN: double-free of struct widget (allocated by test_probe)']);
  });

  it('an object never freed is reported by kmemleak at the end; kfree(NULL) is allowed', () => {
    const r = run(function* () {
      yield* kmalloc('struct widget', 'test_probe', () => new widget(), GFP_KERNEL);
      yield* kfree(null);
    });
    expect(r.findings.map((f) => f.title)).toEqual(['kmemleak: unreferenced object struct widget allocated by test_probe']);
  });

  it('every kmalloc is a fault-injection point that returns NULL', () => {
    const r = run(function* () {
      const a = yield* kmalloc('struct widget', 'a', () => new widget(), GFP_KERNEL);
      const b = yield* kmalloc('struct widget', 'b', () => new widget(), GFP_KERNEL);
      yield* pr_err(`a=${a ? 'ok' : 'NULL'} b=${b ? 'ok' : 'NULL'}`);
      yield* kfree(a);
      yield* kfree(b);
    }, 1);
    expect(r.outcomes).toEqual(['<3>a=NULL b=ok', '<3>a=ok b=NULL', '<3>a=ok b=ok']);
    expect(r.findings).toEqual([]);
  });
});

describe('include/asm-generic/bug.h', () => {
  it('BUG_ON stops the thread with a bug finding', () => {
    const r = run(function* () {
      yield* step('check');
      BUG_ON(true, 'lib/genalloc.c gen_pool_destroy', 'bit < end_bit');
    });
    expect(r.findings.map((f) => [f.kind, f.title])).toEqual([['bug', 'kernel BUG at lib/genalloc.c gen_pool_destroy: bit < end_bit']]);
  });

  it('WARN_ON returns its condition and carries on; WARN_ONCE fires once per boot', () => {
    const r = run(function* () {
      const a = yield* WARN_ON(true, 'here', 'first');
      const b = yield* WARN_ON(false, 'here', 'never');
      for (let i = 0; i < 3; i++) yield* WARN_ONCE(true, 'there', 'once');
      yield* pr_err(`a=${a} b=${b}`);
    });
    expect(r.findings.map((f) => f.title).sort()).toEqual(['WARNING: at here: first', 'WARNING: at there: once']);
    expect(r.outcomes).toEqual(['<3>a=true b=false']);
  });
});

describe('per-CPU placement', () => {
  it('threads sit on the machine\'s CPUs in turn', () => {
    const r = run(function* () {
      const cpu = yield* smp_processor_id();
      yield* pr_err(`cpu${cpu}`);
    }, 0, 3);
    expect(r.outcomes!.every((o) => o.split('|').sort().join('|') === '<3>cpu0|<3>cpu0|<3>cpu1')).toBe(true);
  });
});
