// Triage on the real scenarios: how each finding was reached, the list of bugs first with one
// bug's call paths grouped, --only, and waivers that let CI fail on new findings only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { parseWaivers } from '../src/cli/waivers.js';
import type { TraceStep } from '../src/engine/execution.js';
import { interleaving } from '../src/report/text.js';
import { expectUsageError } from './usage-error.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function zonedev(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Doc {
  results: { scenario: string; tree: string; findings: { kind: string; title: string; description: string; bug?: string; origin: string; label: string; faults: number; waived?: string }[] }[];
}

function findings(...args: string[]): Doc['results'][number]['findings'] {
  return (JSON.parse(zonedev('check', ...args, '--json').out) as Doc).results.flatMap((r) => r.findings);
}

function waiverFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'zonedev-')), 'waivers');
  writeFileSync(file, text);
  return file;
}

const ADD_PAGES = 'WARNING: at arch/x86/mm/init_64.c add_pages: WARN_ON_ONCE(ret)';

describe('triage labels', () => {
  it("add_pages()'s WARN_ON_ONCE(ret) over the failed sparse_add_section() is the kernel's own warning; the devm_kfree() WARN of the error path is not", () => {
    const fs = findings('p2pdma-add-resource-fault', '--tree', 'v6.14');
    const byDescription = new Map(fs.map((f) => [f.description, f]));
    expect(byDescription.get(ADD_PAGES)).toMatchObject({ label: 'fault-warning', title: 'WARNING in add_pages', bug: 'add_pages', origin: 'known' });
    const devmKfree = fs.find((f) => f.title === 'WARNING in devm_kfree');
    expect(devmKfree).toMatchObject({ label: 'fault', bug: 'devm_kfree-member', origin: 'known' });
    for (const f of fs) expect(f.faults).toBeGreaterThan(0);
  });

  it("seed 002's use-after-free is reached without a fault; v5.1's error-path leak only with one", () => {
    const fs = findings('p2pmem-alloc-vs-unbind', '--tree', 'v5.1');
    const uaf = fs.filter((f) => f.description.startsWith('BUG: KASAN: use-after-free: read of struct pci_p2pdma.devmap_ref'));
    expect(uaf.length).toBe(2);
    // Two call paths, one inlined into the other: the kernel names pci_alloc_p2pmem for both.
    for (const f of uaf) expect(f).toMatchObject({ label: 'no-fault', faults: 0, title: 'KASAN: use-after-free Read in pci_alloc_p2pmem', bug: 'p2pdma-freed', origin: 'known' });
    expect(fs.find((f) => f.kind === 'leak')?.label).toBe('fault');
  });
});

describe('the text report', () => {
  it('lists the bugs first, one line each, and groups one bug reached through two call paths', () => {
    const r = zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1');
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    const list = lines.findIndex((l) => /^\d+ bugs found/.test(l));
    const firstDetail = lines.findIndex((l) => /^\[1(\.1)?\] /.test(l));
    expect(list).toBeGreaterThan(0);
    expect(firstDetail).toBeGreaterThan(list);
    const uafLine = lines.slice(list, firstDetail).find((l) => l.endsWith('KASAN: use-after-free Read in pci_alloc_p2pmem'));
    expect(uafLine).toMatch(/\[\d+\]\s+kasan\s+v5\.1\s+\d+\/\d+\s+known\s+no-fault 2 paths/);
    const n = /\[(\d+)\]/.exec(uafLine!)![1]!;
    expect(lines.filter((l) => new RegExp(`^\\[${n}\\.[12]\\] kasan: KASAN: use-after-free Read in pci_alloc_p2pmem$`).test(l)).length).toBe(2);
    expect(lines.some((l) => /\bknown\s+fault-warning\s+WARNING in add_pages$/.test(l))).toBe(true);
  });
});

describe('kernel-shaped reports', () => {
  it("KASAN's use-after-free names who allocated and who freed the object, at which step, stacks innermost first, and those steps are not folded", () => {
    const r = zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1');
    // Of the bug's two call paths, the one through the inlined percpu_ref_tryget_live().
    const block = r.out
      .split('\n[')
      .filter((b) => /^\d+\.[12]\] kasan: KASAN: use-after-free Read in pci_alloc_p2pmem/.test(b))
      .find((b) => b.includes('Call Trace:\n     percpu_ref_tryget_live'))!;
    const lines = block.split('\n').map((l) => l.trim());
    const call = lines.indexOf('Call Trace:');
    expect(lines.slice(call + 1, call + 3)).toEqual(['percpu_ref_tryget_live', 'pci_alloc_p2pmem']);
    // KASAN's header names the out-of-line function percpu_ref_tryget_live() is inlined into.
    expect(lines.slice(call - 2, call)).toEqual(['BUG: KASAN: use-after-free in pci_alloc_p2pmem', 'Read of struct pci_p2pdma.devmap_ref.percpu_count_ptr (in struct pci_p2pdma, allocated by devm_kmalloc) by task client']);
    const alloc = lines.findIndex((l) => /^Allocated by task driver in step \d+:$/.test(l));
    const freed = lines.findIndex((l) => /^Freed by task driver in step \d+:$/.test(l));
    expect(alloc).toBeGreaterThan(call);
    expect(lines[alloc + 1]).toBe('devm_kmalloc');
    expect(lines.slice(freed + 1, freed + 3)).toEqual(['kfree', 'release_nodes']);
    const freeStep = /in step (\d+):/.exec(lines[freed]!)![1]!;
    expect(lines.some((l) => l.startsWith(`${freeStep}) driver`) && l.includes('kfree(dr) [struct pci_p2pdma]'))).toBe(true);
  });

  it('an interleaving fits a terminal width: fewer frames first, then the line cut', () => {
    const doc = JSON.parse(zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--only', 'panic', '--json').out) as { results: { findings: { trace: TraceStep[] }[] }[] };
    const trace = doc.results[0]!.findings[0]!.trace;
    const wide = interleaving(trace);
    expect(Math.max(...wide.map((l) => l.length))).toBeGreaterThan(120);
    const narrow = interleaving(trace, false, new Set(), 120);
    for (const l of narrow) expect(l.length).toBeLessThanOrEqual(120);
    // A step's line is cut; the kernel's message under it is wrapped, every word kept.
    const words = (ls: string[]): string[] => ls.join(' ').split(/\s+/).filter((w) => w && !w.includes('…'));
    const message = wide.filter((l) => /^\s+panic: /.test(l));
    expect(message).toHaveLength(1);
    expect(words(narrow)).toEqual(expect.arrayContaining(words(message)));
    expect(narrow.length).toBe(wide.length + 1);
    // The step's own label survives where dropping frames is enough.
    expect(narrow.some((l) => l.includes(trace.at(-1)!.label))).toBe(true);
  });

  it("kmemleak's unreferenced object comes with its allocation backtrace", () => {
    const fs = (JSON.parse(zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--only', 'leak', '--json').out) as { results: { findings: { details: string[] }[] }[] }).results[0]!.findings;
    expect(fs[0]!.details).toContain('backtrace:');
    expect(fs[0]!.details).toContain(' percpu_ref_init');
  });

  it("titles are syzbot's: the kind and the function the kernel's report names", () => {
    const titles = new Set(findings('p2pmem-alloc-vs-unbind', '--tree', 'v5.1').map((f) => `${f.kind}: ${f.title}`));
    expect(titles).toEqual(
      new Set([
        'kasan: KASAN: use-after-free Read in pci_alloc_p2pmem',
        'panic: BUG: unable to handle kernel NULL pointer dereference in pci_alloc_p2pmem',
        'panic: BUG: unable to handle kernel paging request in pci_p2pdma_map_sg',
        'kasan: KASAN: use-after-free Read in pci_p2pdma_map_sg',
        'leak: memory leak in percpu_ref_init',
        // wait_for_completion() is where it sleeps, not what it was doing
        'hang: INFO: task hung in pci_p2pdma_release',
        'kasan: KASAN: use-after-free Read in devm_memremap_pages_release',
        'warn: WARNING in add_pages',
      ]),
    );
    const mmap = findings('p2pmem-mmap-vs-unbind', '--tree', 'v6.15').map((f) => f.title);
    expect(mmap).toContain('WARNING in p2pmem_alloc_mmap');
    expect(mmap).toContain('INFO: task hung in memunmap_pages');
  });

  it("a WARN's report starts with the kernel's WARNING: CPU: .. PID: .. at <file> <function> line", () => {
    const r = zonedev('check', 'p2pdma-add-resource-fault', '--tree', 'v5.2');
    expect(r.out).toMatch(/\n {4}WARNING: CPU: \d+ PID: \d+ Comm: driver at arch\/x86\/mm\/init_64\.c add_pages: WARN_ON_ONCE\(ret\)\n {4}Call Trace:\n {5}add_pages\n/);
  });
});

describe('hung tasks', () => {
  it('the report says what keeps the completion from being completed: the ref still held, or never killed', () => {
    const mmap = zonedev('check', 'p2pmem-mmap-vs-unbind', '--tree', 'v6.15', '--only', 'hang').out;
    // kernel/hung_task.c's line, then what the task waits for, then its stack.
    expect(mmap).toMatch(/\n {4}INFO: task driver:\d+ blocked for more than 120 seconds\.\n {4}task hung: driver in wait_for_completion waits for completion pgmap->done\n {4}Call Trace:\n {5}wait_for_completion\n {5}memunmap_pages\n/);
    expect(mmap).toContain('\n    pgmap->ref is killed; 1 reference still held, so its release() has not run\n');
    const v51 = zonedev('check', 'p2pdma-add-resource-fault', '--tree', 'v5.1', '--only', 'hang').out;
    expect(v51).toContain('\n    p2pdma->devmap_ref has not been killed: its release() cannot run before percpu_ref_kill() and the last put\n');
  });

  it('it lists who took and dropped each reference of the ref, in which step, and those steps are not folded', () => {
    const out = zonedev('check', 'p2pmem-mmap-vs-unbind', '--tree', 'v6.15', '--only', 'hang').out;
    const lines = out.split('\n');
    const head = lines.indexOf('    pgmap->ref is killed; 1 reference still held, so its release() has not run');
    expect(lines[head + 1]).toMatch(/^ {6}its references: (\d+) taken, (\d+) dropped:$/);
    const [, taken, dropped] = /(\d+) taken, (\d+) dropped/.exec(lines[head + 1]!)!;
    expect(Number(taken) - Number(dropped)).toBe(1);
    const events = lines.slice(head + 2, head + 2 + Number(taken) + Number(dropped));
    for (const e of events) expect(e).toMatch(/^ {8}step +\d+  \S.*  [+-]\d+ percpu_ref_\w+/);
    // The leaked one: p2pmem_alloc_mmap()'s get, whose vm_insert_page() failed; its step is shown on its own.
    const leak = events.find((e) => / \+1 percpu_ref_tryget_live_rcu < p2pmem_alloc_mmap /.test(e))!;
    expect(leak).toContain('  process  ');
    const step = /step +(\d+)/.exec(leak)![1]!;
    expect(lines.some((l) => new RegExp(`^ +${step}\\) process +.*p2pmem_alloc_mmap > percpu_ref_tryget_live_rcu: `).test(l))).toBe(true);
    // The initial reference, and its put by percpu_ref_kill().
    expect(events.some((e) => / \+1 percpu_ref_init < memremap_pages /.test(e))).toBe(true);
    expect(events.some((e) => / -1 percpu_ref_put_many < percpu_ref_put < percpu_ref_kill_and_confirm /.test(e))).toBe(true);
  });
});

describe('known upstream bugs', () => {
  it('a finding in the catalogue is known, with the commits that introduced and fixed it; the chunk-owner use-after-free is new on every tree', () => {
    const v51 = zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--only', 'panic').out;
    expect(v51).toContain('known (memmap-removed): ');
    expect(v51).toContain('fixed by 50f44ee7248a ("mm/devm_memremap_pages: fix final page put race")');
    for (const tree of ['v5.2', 'newest']) {
      const fs = findings('p2pmem-alloc-vs-unbind', '--tree', tree, '--only', 'kasan');
      expect([...new Set(fs.map((f) => `${f.bug} ${f.origin} ${f.label}`))]).toEqual(['chunk-owner-freed new no-fault']);
    }
    const newest = zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'newest', '--only', 'kasan').out;
    expect(newest).toMatch(/\[1\]\s+kasan\s+newest\s+\d+\/\d+\s+new\s+no-fault\s+KASAN: use-after-free Read in pci_alloc_p2pmem/);
    expect(newest).toContain('not fixed upstream');
  });

  it('a finding outside the catalogue is new', () => {
    const fs = findings('example-lock-order');
    expect(fs.map((f) => [f.bug, f.origin])).toEqual([[undefined, 'new']]);
  });
});

describe('--only and --waivers', () => {
  it('--only keeps the kinds asked for', () => {
    const fs = findings('p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--only', 'kasan,hang');
    expect(fs.length).toBeGreaterThan(0);
    expect(new Set(fs.map((f) => f.kind))).toEqual(new Set(['kasan', 'hang']));
  });

  it('a run whose every finding is waived exits 0 and still reports them, marked', () => {
    const file = waiverFile(`# the kernel's own warning for the injected sparse_add_section() failure\n* * warn: ${ADD_PAGES}\np2pdma-add-resource-fault * warn: WARNING: at drivers/base/devres.c *\n`);
    const r = zonedev('check', 'p2pdma-add-resource-fault', '--tree', 'v6.14', '--waivers', file, '--json');
    expect(r.code).toBe(0);
    const fs = (JSON.parse(r.out) as Doc).results[0]!.findings;
    expect(fs.length).toBe(2);
    for (const f of fs) expect(f.waived).toBeDefined();
    const text = zonedev('check', 'p2pdma-add-resource-fault', '--tree', 'v6.14', '--waivers', file);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`waived by: * * warn: ${ADD_PAGES}`);
  });

  it('the HTML report says how each finding was reached and which waiver accepts it', () => {
    const file = waiverFile(`* * warn: ${ADD_PAGES}\n`);
    const html = join(mkdtempSync(join(tmpdir(), 'zonedev-')), 'r.html');
    zonedev('check', 'p2pdma-add-resource-fault', '--tree', 'v6.14', '--waivers', file, '--html', html);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain("the kernel's own warning for an injected failure; <b>waived</b>");
    expect(page).toContain('reached only with an injected failure</p>');
    // what the catalogue says and the kernel's report
    expect(page).toContain('fixed by 6238784e502b (&quot;PCI/P2PDMA: Fix incorrect pointer usage in devm_kfree() call&quot;)');
    expect(page).toContain('WARNING: CPU: ');
  });

  it('a finding no waiver accepts makes the exit status 1', () => {
    const file = waiverFile(`* * warn: ${ADD_PAGES}\n`);
    const r = zonedev('check', 'p2pdma-add-resource-fault', '--tree', 'v6.14', '--waivers', file, '--json');
    expect(r.code).toBe(1);
    const fs = (JSON.parse(r.out) as Doc).results[0]!.findings;
    expect(fs.filter((f) => f.waived === undefined).map((f) => f.title)).toEqual([expect.stringContaining('devm_kfree')]);
  });

  it("a waiver may name a finding by its syzbot title as well as by its description", () => {
    const file = waiverFile('* * warn: WARNING in add_pages\n* * warn: WARNING in devm_*\n');
    const r = zonedev('check', 'p2pdma-add-resource-fault', '--tree', 'v6.14', '--waivers', file, '--json');
    expect(r.code).toBe(0);
  });

  it('a waiver of another scenario or tree accepts nothing', () => {
    const file = waiverFile(`p2pmem-mmap-vs-unbind * warn: ${ADD_PAGES}\n* v5.1 warn: ${ADD_PAGES}\n`);
    expect(findings('p2pdma-add-resource-fault', '--tree', 'v6.14', '--waivers', file).every((f) => f.waived === undefined)).toBe(true);
  });

  it('parses waivers: exact titles, prefixes, comments', () => {
    const w = parseWaivers('# accepted\n\n* v5.1 kasan: BUG: KASAN: *   # any use-after-free\np2pmem-alloc-vs-unbind * warn: W\n', 'f');
    expect(w).toEqual([
      { scenario: '*', tree: 'v5.1', kind: 'kasan', title: 'BUG: KASAN: ', prefix: true, text: '* v5.1 kasan: BUG: KASAN: *' },
      { scenario: 'p2pmem-alloc-vs-unbind', tree: '*', kind: 'warn', title: 'W', prefix: false, text: 'p2pmem-alloc-vs-unbind * warn: W' },
    ]);
  });

  it('a bad waiver line: exit 2, one line naming it', () => expectUsageError(zonedev('check', 'example-lost-update', '--waivers', waiverFile('* * kasan\n')), /--waivers .*:1: expected/));
  it('a waiver file that does not exist: exit 2, one line', () => expectUsageError(zonedev('check', 'example-lost-update', '--waivers', '/nonexistent/waivers'), /--waivers \/nonexistent\/waivers/));
  it('an unknown kind for --only: exit 2, one line', () => expectUsageError(zonedev('check', 'example-lost-update', '--only', 'kasan,oops'), /unknown kind 'oops'/));
});
