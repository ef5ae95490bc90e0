// --trace-out and --junit: the Chrome JSON trace as Perfetto's trace processor reads it (a
// traceEvents array of B/E and X slices, C counters and M metadata, each slice on a named
// thread of a named process, B/E nested per thread in time order), with the model's counters
// (struct page refcounts, percpu_ref counts) as counter tracks; and JUnit XML (well formed, a
// test case per scenario and tree, a failure per unwaived finding, a waived one said in
// system-out), every text escaped.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expect } from 'expect';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CheckResult } from '../src/cli/jobs.js';
import { junitReport } from '../src/report/junit.js';
import { chromeTrace, STEP_US, type TraceEvent } from '../src/report/perfetto.js';
import { MARKUP, markupResult } from './support/markup.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function zonedev(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The checks of the Chrome JSON trace format that Perfetto's importer relies on. */
function checkTraceFormat(doc: unknown): TraceEvent[] {
  expect(typeof doc).toBe('object');
  const events = (doc as { traceEvents: TraceEvent[] }).traceEvents;
  expect(Array.isArray(events)).toBe(true);
  const named = new Set<string>();
  const processes = new Set<number>();
  const stacks = new Map<string, { name: string; ts: number }[]>();
  const lastTs = new Map<string, number>();
  for (const e of events) {
    expect(typeof e.name).toBe('string');
    expect(['B', 'E', 'X', 'C', 'M', 'i']).toContain(e.ph);
    expect(Number.isFinite(e.ts) && e.ts >= 0).toBe(true);
    expect(Number.isInteger(e.pid)).toBe(true);
    if (e.ph === 'M') {
      expect(['process_name', 'process_sort_index', 'thread_name', 'thread_sort_index']).toContain(e.name);
      if (e.name === 'process_name') processes.add(e.pid);
      if (e.name === 'thread_name') named.add(`${e.pid}/${e.tid}`);
      continue;
    }
    if (e.ph === 'C') {
      const values = Object.values(e.args ?? {});
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) expect(typeof v).toBe('number');
      continue;
    }
    expect(processes.has(e.pid)).toBe(true);
    const thread = `${e.pid}/${e.tid}`;
    expect(named.has(thread)).toBe(true);
    // Per thread, events come in time order, and B/E nest.
    expect(e.ts).toBeGreaterThanOrEqual(lastTs.get(thread) ?? 0);
    lastTs.set(thread, e.ts);
    const stack = stacks.get(thread) ?? [];
    stacks.set(thread, stack);
    if (e.ph === 'B') stack.push({ name: e.name, ts: e.ts });
    else if (e.ph === 'E') {
      const open = stack.pop();
      expect(open?.name).toBe(e.name);
      expect(e.ts).toBeGreaterThanOrEqual(open!.ts);
    } else if (e.ph === 'X') expect(e.dur).toBeGreaterThan(0);
  }
  for (const s of stacks.values()) expect(s).toEqual([]);
  return events;
}

describe('--trace-out', () => {
  it('writes seed 002 as a Chrome JSON trace: a track per thread, a slice per function and step, refcounts as counters', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonedev-trace-'));
    const file = join(dir, 'trace.json');
    const r = zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--json', '--trace-out', file);
    expect(r.code).toBe(1);
    const results = (JSON.parse(r.out) as { results: CheckResult[] }).results;
    const events = checkTraceFormat(JSON.parse(readFileSync(file, 'utf8')));
    const f = results[0]!.findings[0]!;
    // The first finding is process 1, its threads the scenario's actors.
    const threads = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === 1).map((e) => e.args!.name);
    expect(threads).toEqual(expect.arrayContaining(['driver', 'client']));
    // A step slice for every step of its interleaving, at the step's time.
    const steps = events.filter((e) => e.ph === 'X' && e.pid === 1);
    expect(steps.map((e) => e.name)).toEqual(f.trace.map((s) => s.label));
    expect(steps.map((e) => e.ts)).toEqual(f.trace.map((s) => s.index * STEP_US));
    // The kernel functions of the unbind and of the client's DMA mapping are slices.
    const functions = new Set(events.filter((e) => e.ph === 'B' && e.pid === 1).map((e) => e.name));
    for (const fn of ['devm_memremap_pages_release', 'pci_p2pdma_map_sg', 'pci_alloc_p2pmem']) expect(functions).toContain(fn);
    // Counter tracks: the struct page's refcount and the percpu_ref's count.
    const counters = new Set(events.filter((e) => e.ph === 'C' && e.pid === 1).map((e) => e.name));
    expect(counters).toContain('struct page pfn 0x100000 _refcount');
    expect([...counters].some((c) => c.startsWith('dev_pagemap ') && c.endsWith('p2pdma->devmap_ref'))).toBe(true);
    // And the finding, at its step.
    const finding = events.find((e) => e.ph === 'i' && e.pid === 1);
    expect(finding?.name).toBe(`${f.kind}: ${f.title}`);
  });

  it('keeps markup as it is (JSON text)', () => {
    const doc = JSON.parse(JSON.stringify(chromeTrace([markupResult()])));
    const events = checkTraceFormat(doc);
    expect(events.some((e) => e.ph === 'X' && e.name === MARKUP.label)).toBe(true);
  });
});

describe('--junit', () => {
  it('writes a test case per scenario and tree, a failure per unwaived finding', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonedev-junit-'));
    const file = join(dir, 'junit.xml');
    const waivers = join(dir, 'waivers');
    writeFileSync(waivers, 'p2pmem-alloc-vs-unbind v5.1 panic: BUG: unable to handle kernel paging request in pci_p2pdma_map_sg\n');
    const r = zonedev('check', 'p2pmem-alloc-vs-unbind', '--tree', 'v5.1', '--tree', 'v5.2', '--json', '--junit', file, '--waivers', waivers);
    const results = (JSON.parse(r.out) as { results: CheckResult[] }).results;
    const xml = readFileSync(file, 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'failure'].includes(name) }).parse(xml) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; testcase: { name: string; failure?: { type: string; message: string; '#text': string }[]; 'system-out': string }[] }[] };
    };
    const unwaived = results.flatMap((c) => c.findings.filter((f) => f.waived === undefined));
    expect(Number(doc.testsuites.tests)).toBe(results.length);
    // failures counts the test cases that failed; each has a <failure> per unwaived finding.
    expect(unwaived.length).toBeGreaterThan(results.filter((c) => c.findings.some((f) => f.waived === undefined)).length);
    expect(Number(doc.testsuites.failures)).toBe(results.filter((c) => c.findings.some((f) => f.waived === undefined)).length);
    const cases = doc.testsuites.testsuite[0]!.testcase;
    expect(cases.map((c) => c.name)).toEqual(['p2pmem-alloc-vs-unbind on v5.1', 'p2pmem-alloc-vs-unbind on v5.2']);
    results.forEach((cell, i) => {
      const failures = cases[i]!.failure ?? [];
      expect(failures.map((x) => x.message)).toEqual(cell.findings.filter((f) => f.waived === undefined).map((f) => f.title));
      for (const x of failures) expect(x['#text']).toContain('zonedev replay ');
    });
    // The waived panic on v5.1 is not a failure; system-out says so.
    expect(cases[0]!.failure?.map((x) => x.message) ?? []).not.toContain('BUG: unable to handle kernel paging request in pci_p2pdma_map_sg');
    expect(cases[0]!['system-out']).toContain('waived by p2pmem-alloc-vs-unbind v5.1 panic: BUG: unable to handle kernel paging request in pci_p2pdma_map_sg');
  });

  it('escapes markup: the parser reads back the texts as they were', () => {
    const xml = junitReport([markupResult()]);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', processEntities: true }).parse(xml) as { testsuites: { testsuite: { testcase: { failure: { message: string; '#text': string } } } } };
    const failure = doc.testsuites.testsuite.testcase.failure;
    expect(failure.message).toBe(MARKUP.title);
    expect(failure['#text']).toContain(MARKUP.note);
  });
});
