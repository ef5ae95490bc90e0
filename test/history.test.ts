// The patch series and its trees.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expect } from 'expect';

/** The repository root (tests run from dist/test). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
import { KNOWN_PATCH_IDS, SERIES } from '../src/history/patches.js';
import { bootTree, findTree, patchesOf, seriesPoints, TREES } from '../src/history/trees.js';
import { patched } from '../src/kernel/machine.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the patch series', () => {
  it('every patch id the model asks about is a modelled patch', () => {
    const root = ROOT;
    const asked = new Set<string>();
    for (const f of [...sources(join(root, 'src', 'kernel')), ...sources(join(root, 'scenarios'))]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/patched\('([^']+)'\)|requires: '([^']+)'|removedBy: '([^']+)'/g)) asked.add(m[1] ?? m[2] ?? m[3]!);
    }
    expect([...asked].filter((id) => !KNOWN_PATCH_IDS.has(id))).toEqual([]);
  });

  it('patch ids are unique and trees are in series order, each extending the one before', () => {
    expect(new Set(SERIES.map((p) => p.id)).size).toBe(SERIES.length);
    let prev: string[] = [];
    for (const t of TREES) {
      const ps = patchesOf(t);
      expect(ps.slice(0, prev.length)).toEqual(prev);
      prev = ps;
    }
  });

  it('seed 001 is six patches between v5.1 and v5.2, and seed 000 is the one patch between v6.14 and v6.15', () => {
    const v51 = patchesOf(findTree('v5.1')!);
    const v52 = patchesOf(findTree('v5.2')!);
    const added = v52.filter((p) => !v51.includes(p)).map((id) => SERIES.find((p) => p.id === id)!);
    expect(added.map((p) => p.seed)).toEqual(['001', '001', '001', '001', '001', '001']);
    const v614 = patchesOf(findTree('v6.14')!);
    const v615 = patchesOf(findTree('v6.15')!);
    expect(v615.filter((p) => !v614.includes(p))).toEqual(['p2pdma-refcount-init-to-p2pdma']);
  });

  it('series points name every prefix of the series', () => {
    const points = seriesPoints();
    expect(points).toHaveLength(SERIES.length + 1);
    expect(patchesOf(points[0]!)).toEqual([]);
    expect(patchesOf(points.at(-1)!)).toEqual(SERIES.map((p) => p.id));
  });

  it('a booted tree answers patched() for its patches, and an unknown id is a model error', () => {
    bootTree('v5.2');
    expect(patched('memremap-fix-final-page-put-race')).toBe(true);
    expect(patched('p2pdma-refcount-init-to-p2pdma')).toBe(false);
    expect(() => patched('no-such-patch')).toThrow(/unknown patch id/);
    bootTree('@genalloc-chunk-owners');
    expect(patched('genalloc-chunk-owners')).toBe(true);
    expect(patched('p2pdma-per-resource-ref')).toBe(false);
  });
});
