// The README's "Writing a scenario": its example is the file examples/scenario-provider-lookup-vs-unbind.ts
// (shown from its first import on), which `zonedev check` runs as TypeScript without a rebuild
// and whose output is the one the README shows; and the engine used as a library by a program
// outside the kernel model (examples/library-bank-transfer.ts), run through tsx.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expect } from 'expect';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function run(args: readonly string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The README's fenced block after `marker`. */
function blockAfter(marker: string): string {
  const at = README.indexOf(marker);
  expect(at).toBeGreaterThanOrEqual(0);
  const open = README.indexOf('```', at + marker.length);
  const start = README.indexOf('\n', open) + 1;
  return README.slice(start, README.indexOf('```', start));
}

/** Whether `out` has the lines of `shown` in order, "..." standing for anything. */
function matchesShown(out: string, shown: readonly string[]): boolean {
  const lines = out.split('\n');
  let i = 0;
  for (const want of shown) {
    const re = new RegExp(`^${want.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    while (i < lines.length && !re.test(lines[i]!)) i++;
    if (i === lines.length) return false;
    i++;
  }
  return true;
}

describe("the README's worked example", () => {
  it('is what zonedev check prints, each line cut where a terminal would fold it', () => {
    const block = blockAfter('## A worked example');
    const [command, ...shown] = block.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
    const r = run([MAIN, ...command!.replace(/^\$ zonedev /, '').split(' ')]);
    expect(r.code).toBe(1);
    const out = r.out.split('\n');
    shown.forEach((line, i) => {
      if (line.endsWith('…')) expect(out[i]!.startsWith(line.slice(0, -1))).toBe(true);
      else expect(out[i]).toBe(line);
    });
  });
});

describe("the README's scenario example", () => {
  it('is the example file, from its first import on', () => {
    const file = readFileSync(join(ROOT, 'examples', 'scenario-provider-lookup-vs-unbind.ts'), 'utf8');
    expect(file.slice(file.search(/^import /m))).toBe(blockAfter('is one, written outside the library:'));
  });

  it('runs as TypeScript with zonedev check and prints what the README shows', () => {
    const shown = blockAfter('export default scenario;\n```').split('\n').filter((l) => l !== '');
    const command = shown[0]!.replace(/^\$ zonedev /, '').split(' ');
    const r = run([MAIN, ...command]);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(matchesShown(r.out, shown.slice(1))).toBe(true);
  });

  it('reaches the same findings through --json, each one known to the catalogue or not fixed upstream', () => {
    const r = run([MAIN, 'check', './examples/scenario-provider-lookup-vs-unbind.ts', '--tree', 'v5.2', '--max-faults', '0', '--json']);
    const findings = (JSON.parse(r.out) as { results: { findings: { bug?: string }[] }[] }).results[0]!.findings;
    expect(findings.map((f) => f.bug).sort()).toEqual(['chunk-owner-freed', 'chunk-owner-freed', 'null-p2pdma', 'null-p2pdma-has_p2pmem', 'null-p2pdma-size_show', 'p2pdma-freed-has_p2pmem', 'pool-freed-size_show']);
  });

  it('a TypeScript module that does not compile, or is not an ES module, is one line and exit status 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonedev-ts-'));
    writeFileSync(join(dir, 'broken.mts'), 'export default {\n');
    const broken = run([MAIN, 'check', join(dir, 'broken.mts')]);
    expect(broken.code).toBe(2);
    expect(broken.err.trim().split('\n')).toHaveLength(1);
    expect(broken.err).toMatch(/cannot load scenario module .*broken\.mts: Transform failed .*ERROR/);
    // Outside a package with "type": "module", a .ts file is read as CommonJS.
    writeFileSync(join(dir, 'cjs.ts'), "import { step } from 'zonedev/engine';\nexport default { name: 'x', step };\n");
    const cjs = run([MAIN, 'check', join(dir, 'cjs.ts')]);
    expect(cjs.code).toBe(2);
    expect(cjs.err.trim().split('\n')).toHaveLength(1);
    expect(cjs.err).toMatch(/name it \.mts, or put it in a package with "type": "module"/);
  });

  it('a TypeScript module that is not a scenario is one line and exit status 2', () => {
    const r = run([MAIN, 'check', './examples/library-bank-transfer.ts']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/does not export a scenario/);
  });
});

describe('the engine as a library', () => {
  it('checks a program outside the kernel model (examples/library-bank-transfer.ts)', () => {
    const r = run(['--import', 'tsx', join('examples', 'library-bank-transfer.ts')]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^\d+ executions, complete: true, findings: 1$/);
    expect(lines[1]).toMatch(/^bug: the total is not 200 \(\d+ of \d+ executions\)$/);
    expect(lines[2]).toMatch(/^replayed: the total is not 200, x=\d+ y=\d+$/);
  });
});
