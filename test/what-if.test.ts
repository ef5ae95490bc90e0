// What-if patches: the alternatives the seed threads discussed, modelled as patches against the
// tree they were written for (src/history/patches.ts WHAT_IF), with their verdicts against the
// base tree's. The findings are the ones the threads predicted:
// - p2pdma-wait-in-kill (v5.1; Logan Gunthorpe's diff in the seed 002 thread): the wait for the
//   devmap_ref moved into the kill callback, after the last put_page(), fixes seed 002's panic
//   with one BAR; with two BARs the first kill waits for page references the other pgmap still
//   holds ("Both need to drop their references before we can wait_for_completion()").
// - p2pdma-device-kref (v5.1; Dan Williams' question there): a kref in place of the
//   percpu_ref_is_dying() guard changes who kills the ref, not when the memmap goes: seed 002's
//   panic stays.
// - p2pdma-per-resource-ref-v1 (v5.2; v1 of seed 001's patch 5/6): pci_p2pdma_release()
//   dereferences pdev->p2pdma after clearing it, on every unbind.
// And the command: an unknown what-if patch is a usage error.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { explore, type ExploreOptions } from '../src/engine/explore.js';
import { knownBug } from '../src/history/known-bugs.js';
import { WHAT_IF } from '../src/history/patches.js';
import { SCENARIOS } from '../scenarios/index.js';
import { expectUsageError } from './usage-error.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function zonedev(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function verdict(name: string, tree: string, options: ExploreOptions = {}): string[] {
  const s = SCENARIOS.find((x) => x.name === name)!;
  const params: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.params)) params[k] = v.default;
  const r = explore(s.build(tree, params), { strategy: 'dpor', maxFaults: 1, ...options });
  if (options.preemptionBound === undefined) expect(r.complete).toBe(true);
  return [...new Set(r.findings.map((f) => {
    const b = knownBug(f.kind, f.title, f.stack);
    return b ? `${b.kind}:${b.id}` : `UNEXPECTED ${f.kind}: ${f.title}`;
  }))].sort();
}

const without = (labels: readonly string[], ...gone: string[]): string[] => labels.filter((l) => !gone.includes(l));

describe('what-if p2pdma-wait-in-kill (v5.1)', () => {
  it('one BAR: the memmap outlives the last page reference, seed 002 is gone', () => {
    const base = verdict('p2pmem-alloc-vs-unbind', 'v5.1');
    expect(base).toContain('panic:memmap-removed');
    // The fault path's hang in pci_p2pdma_release() goes with the wait it no longer has.
    expect(verdict('p2pmem-alloc-vs-unbind', 'v5.1+p2pdma-wait-in-kill')).toEqual(without(base, 'panic:memmap-removed', 'kasan:pgmap-freed-map_sg', 'hang:devmap_ref_done'));
  });

  it('two BARs: the first kill waits for the page references of the pgmap released after it', () => {
    const got = verdict('p2pdma-two-bars-vs-unbind', 'v5.1+p2pdma-wait-in-kill', { preemptionBound: 3 });
    expect(got).toContain('hang:devmap_ref_done-in-kill');
    expect(got).not.toContain('panic:memmap-removed');
    expect(got.some((l) => l.startsWith('UNEXPECTED'))).toBe(false);
  });
});

describe('what-if p2pdma-device-kref (v5.1)', () => {
  it('the kref replaces the double-kill guard, and seed 002 stays', () => {
    expect(verdict('p2pmem-alloc-vs-unbind', 'v5.1+p2pdma-device-kref')).toEqual(verdict('p2pmem-alloc-vs-unbind', 'v5.1'));
    const twoBars = verdict('p2pdma-two-bars-vs-unbind', 'v5.1+p2pdma-device-kref', { preemptionBound: 3 });
    expect(twoBars).toContain('panic:memmap-removed');
    expect(twoBars.some((l) => l.startsWith('UNEXPECTED'))).toBe(false);
  });
});

describe('what-if p2pdma-per-resource-ref-v1 (v5.2)', () => {
  // The unbind's oops comes before gen_pool_destroy(): a finding of the freed pool cannot follow.
  const cases: [string, string[]][] = [
    ['p2pmem-alloc-vs-unbind', []],
    ['p2pdma-add-resource-fault', []],
    ['p2pmem-sysfs-read-vs-unbind', ['kasan:pool-freed-size_show']],
  ];
  for (const [name, gone] of cases) {
    it(`${name}: the unbind dereferences the pdev->p2pdma it has just cleared`, () => {
      expect(verdict(name, 'v5.2+p2pdma-per-resource-ref-v1')).toEqual([...without(verdict(name, 'v5.2'), ...gone), 'panic:null-p2pdma-release-v1'].sort());
    });
  }
});

describe('what-if patches on the command line', () => {
  it('each is listed with the tree to check it on', () => {
    const r = zonedev('list', 'patches');
    for (const p of WHAT_IF) expect(r.out).toContain(`[what-if: --tree ${p.base}+${p.id}]`);
  });

  it('an unknown one is a usage error, and so is a patch of the series', () => {
    expectUsageError(zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1+no-such-patch'), /unknown what-if patch 'no-such-patch'/);
    expectUsageError(zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1+p2pdma-rcu-pdev'), /is a patch of the series: check --tree @p2pdma-rcu-pdev/);
  });
});
