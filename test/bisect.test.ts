// zonedev bisect walks the patch series (DESIGN.md "Kernel trees and patches"): for seed 002's
// race it must name seed 001's "Fix final page put race" as the patch that removed it.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expect } from 'expect';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

interface BisectDoc {
  scenario: string;
  points: { point: string; trees: string[]; complete: boolean }[];
  findings: { kind: string; title: string; description: string; bug?: string; introducedBy: string | null; removedBy: string | null; foundAt: string[]; unsure: string[] }[];
}

describe('zonedev bisect', () => {
  it('names "mm/devm_memremap_pages: Fix final page put race" as removing the seed 002 panic of p2pmem-alloc-vs-unbind', { timeout: 600_000 }, () => {
    const r = spawnSync(process.execPath, [MAIN, 'bisect', 'p2pmem-alloc-vs-unbind', '--max-faults', '0', '--json'], { encoding: 'utf8', timeout: 600_000 });
    expect(r.stderr).toBe('');
    // findings at some point: exit status 1, as check
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as BisectDoc;
    expect(doc.points[0]!.point).toBe('@base');
    expect(doc.points.every((p) => p.complete)).toBe(true);
    expect(doc.findings.every((f) => f.unsure.length === 0)).toBe(true);
    const panic = doc.findings.find((f) => f.kind === 'panic' && /struct page \(pfn 0x[0-9a-f]+\)\.pgmap, whose memmap has been removed/.test(f.description));
    expect(panic).toBeDefined();
    expect(panic!.introducedBy).toBeNull();
    expect(panic!.removedBy).toBe('memremap-fix-final-page-put-race');
    expect(panic!.bug).toBe('memmap-removed');
    // One bug across the trees though the struct it names differs: the chunk-owner use-after-free.
    const owner = doc.findings.filter((f) => f.bug === 'chunk-owner-freed');
    expect(owner.length).toBe(1);
    expect(owner[0]!).toMatchObject({ introducedBy: 'p2pdma-per-resource-ref', removedBy: null });
    // Found at every point before the fix and at none after it.
    const fixAt = doc.points.findIndex((p) => p.point === '@memremap-fix-final-page-put-race');
    expect(panic!.foundAt).toEqual(doc.points.slice(0, fixAt).map((p) => p.point));
    // The named trees sit at their points.
    expect(doc.points.find((p) => p.trees.includes('v5.2'))!.point).toBe('@memremap-fix-final-page-put-race');
  });

  it('does not name a patch as certain from a point it did not explore completely', { timeout: 600_000 }, () => {
    const r = spawnSync(process.execPath, [MAIN, 'bisect', 'p2pmem-alloc-vs-unbind', '--max-faults', '0', '--max-executions', '3', '--json'], { encoding: 'utf8', timeout: 600_000 });
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as BisectDoc;
    expect(doc.points.some((p) => !p.complete)).toBe(true);
    for (const f of doc.findings) {
      const absent = doc.points.filter((p) => !f.foundAt.includes(p.point));
      // Every boundary drawn next to an incomplete point where the finding is absent is unsure.
      if (f.removedBy !== null && !doc.points.find((p) => p.point === `@${f.removedBy}`)!.complete) expect(f.unsure).toContain('removedBy');
      if (f.introducedBy !== null && absent.some((p) => !p.complete && doc.points.indexOf(p) < doc.points.findIndex((q) => q.point === `@${f.introducedBy}`))) expect(f.unsure).toContain('introducedBy');
    }
    expect(doc.findings.some((f) => f.unsure.length > 0)).toBe(true);
  });
});
