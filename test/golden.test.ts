// Golden tests: the text report of seed 002's check and the mail of the newest tree's
// chunk-owner use-after-free, character for character (exploration is deterministic). After a
// deliberate change of either, regenerate them with ZONEDEV_UPDATE_GOLDEN=1 and read the diff.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expect } from 'expect';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const GOLDEN = join(ROOT, 'test', 'golden');

function golden(file: string, args: string[], code: number): void {
  const r = spawnSync(process.execPath, [MAIN, ...args, '--jobs', '1'], { encoding: 'utf8', timeout: 600_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(code);
  const path = join(GOLDEN, file);
  if (process.env.ZONEDEV_UPDATE_GOLDEN === '1') writeFileSync(path, r.stdout);
  expect(r.stdout).toBe(readFileSync(path, 'utf8'));
}

describe('golden reports', () => {
  it('zonedev check p2pmem-alloc-vs-unbind --tree v5.1 (seed 002), as a file or pipe gets it', { timeout: 600_000 }, () => {
    golden('check-alloc-v5.1.txt', ['check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1'], 1);
  });

  it('zonedev report p2pmem-alloc-vs-unbind --tree newest (the chunk-owner use-after-free)', { timeout: 600_000 }, () => {
    golden('report-alloc-newest.txt', ['report', 'p2pmem-alloc-vs-unbind', '--tree', 'newest'], 0);
  });

  it('zonedev check p2pmem-alloc-vs-unbind --tree newest+p2pdma-free-pagemap-with-pool: the candidate fix, clean but for the kernel warning of the injected failure', { timeout: 600_000 }, () => {
    golden('check-alloc-newest-fixed.txt', ['check', 'p2pmem-alloc-vs-unbind', '--tree', 'newest+p2pdma-free-pagemap-with-pool'], 1);
  });
});
