// The trace viewer of --html, end to end in Chromium (Debian's, driven by playwright-core; no
// browser is downloaded): a real finding (seed 002 on v5.1, the panic of a client reading a
// struct page whose memmap is gone), stepped by key and by click, its state panel checked
// against the model's state at each step, with no console error and no network request. A
// screenshot is kept in test-results/.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { expect } from 'expect';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { CheckResult, FindingReport } from '../src/cli/jobs.js';
import { withStates } from '../src/cli/states.js';
import { setupLength, htmlReport } from '../src/report/html.js';
import { MARKUP, markupResult } from './support/markup.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-results');

let browser: Browser;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
});

/** A page that records console errors, page errors and every request it makes. */
async function open(url: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  return { page, errors, requests };
}

/** The state panel as shown: "section / key: value" lines, those marked changed, and the rows the step removed (struck through). */
async function panel(page: Page): Promise<{ rows: string[]; changed: string[]; removed: string[] }> {
  return page.locator('.viewer').first().evaluate((v) => {
    const rows: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    v.querySelectorAll<HTMLElement>('.statepanel .row').forEach((r) => {
      const line = `${r.dataset.section} / ${r.textContent}`;
      if (r.classList.contains('removed')) removed.push(line);
      else rows.push(line);
      if (r.classList.contains('changed')) changed.push(line);
    });
    return { rows, changed, removed };
  });
}

/** What the panel must show after step i of the finding: the model's own state, captured by its replay. */
function expected(f: FindingReport, i: number): { rows: string[]; changed: string[]; removed: string[] } {
  const state = f.trace[i]!.state ?? f.initialState!;
  const previous = i === 0 ? f.initialState! : (f.trace[i - 1]!.state ?? f.initialState!);
  const old = new Map(previous.sections.flatMap((s) => s.rows.map((r) => [`${s.name} / ${r.key}`, r.value] as const)));
  const rows: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const s of state.sections) {
    for (const r of s.rows) {
      const line = `${s.name} / ${r.key}: ${r.value}`;
      rows.push(line);
      if (i > 0 && old.get(`${s.name} / ${r.key}`) !== r.value) changed.push(line);
    }
    if (i > 0) for (const r of previous.sections.find((x) => x.name === s.name)?.rows ?? []) if (!s.rows.some((n) => n.key === r.key)) removed.push(`${s.name} / ${r.key}: ${r.value}`);
  }
  return { rows, changed, removed };
}

describe('the trace viewer (--html) in Chromium', () => {
  it('steps through seed 002 by key and by click, the state panel showing the model state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonedev-viewer-'));
    const html = join(dir, 'report.html');
    const r = spawnSync(process.execPath, [MAIN, 'check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--json', '--html', html], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    const checked = (JSON.parse(r.stdout) as { results: CheckResult[] }).results;
    // The model's state at each step of the first finding, from its replay.
    const { results } = await withStates(checked, { threads: 1 });
    const f = results[0]!.findings[0]!;
    expect(f.title).toBe('BUG: unable to handle kernel paging request in pci_p2pdma_map_sg');
    const setup = setupLength(f.trace, f.initialState);
    expect(setup).toBeGreaterThan(0);

    const { page, errors, requests } = await open(pathToFileURL(html).href);
    const viewer = page.locator('.viewer').first();
    const cursor = async (): Promise<number> => Number(await viewer.getAttribute('data-cursor'));
    const where = (i: number): string => {
      const s = f.trace[i]!;
      return `step ${s.index === 0 ? 'setup' : s.index} of ${f.trace.at(-1)!.index}: ${s.thread} ${s.label}`;
    };

    // The setup ends when the client, waiting for the probe at the start, can run; it opens on
    // the first step after it, the setup's rows hidden.
    expect(f.trace[setup - 1]!.state!.sections.find((s) => s.name === 'blocked threads')!.rows).toEqual([]);
    expect(await cursor()).toBe(setup);
    expect(await viewer.locator('tr.step.hidden').count()).toBe(setup);
    expect(await viewer.locator('.where').textContent()).toBe(where(setup));
    expect(await panel(page)).toEqual(expected(f, setup));

    // By key: down five steps, up one.
    await viewer.focus();
    for (let k = 0; k < 5; k++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('k');
    expect(await cursor()).toBe(setup + 4);
    expect(await viewer.locator('.where').textContent()).toBe(where(setup + 4));
    expect(await panel(page)).toEqual(expected(f, setup + 4));

    // By click, on every step where the state changes.
    for (let i = setup; i < f.trace.length; i++) {
      if (expected(f, i).changed.length === 0 && expected(f, i).removed.length === 0) continue;
      await viewer.locator(`tr.step[data-step="${i}"]`).click();
      expect(await cursor()).toBe(i);
      expect(await panel(page)).toEqual(expected(f, i));
    }

    // The last step: the client reads the struct page of a section the unbind removed.
    await viewer.focus();
    await page.keyboard.press('End');
    expect(await cursor()).toBe(f.trace.length - 1);
    const last = await panel(page);
    expect(last).toEqual(expected(f, f.trace.length - 1));
    expect(last.rows).toContain('struct page / pfn 0x100000: no memmap (section not present)');

    // The setup shown and hidden again.
    await viewer.locator('button.setup').click();
    expect(await viewer.locator('tr.step.hidden').count()).toBe(0);
    await viewer.locator(`tr.step[data-step="${setup - 2}"]`).click();
    await viewer.locator('button.setup').click();
    expect(await viewer.locator('tr.step.hidden').count()).toBe(setup);
    // Hiding the setup with the cursor in it moves the cursor out of it.
    expect(await cursor()).toBe(setup);

    mkdirSync(ARTIFACTS, { recursive: true });
    await viewer.locator(`tr.step[data-step="${f.trace.length - 1}"]`).click();
    await viewer.screenshot({ path: join(ARTIFACTS, 'viewer-seed002-v5.1.png') });
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(html).href]);
    await page.close();
  });

  it('shows a label holding markup as text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonedev-viewer-'));
    const html = join(dir, 'markup.html');
    writeFileSync(html, htmlReport([markupResult()], ['v5.1'], 'markup'));
    const { page, errors } = await open(pathToFileURL(html).href);
    const viewer = page.locator('.viewer').first();
    await viewer.focus();
    await page.keyboard.press('End');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // No element came from the model's texts, and each is there as written.
    expect(await page.locator('.finding img, .finding svg, .finding b, .finding i, .finding u').count()).toBe(0);
    const text = await page.locator('.finding').first().textContent();
    for (const s of [MARKUP.title, MARKUP.label, MARKUP.note, MARKUP.frame, MARKUP.thread, MARKUP.value]) expect(text).toContain(s);
    expect(errors).toEqual([]);
    await page.close();
  });
});
