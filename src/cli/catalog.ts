// What the command can check: the scenario library, scenario modules given by path, the
// engine's example programs, and the kernel trees each scenario applies to.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';
import { SCENARIOS } from '../../scenarios/index.js';
import type { Scenario } from '../../scenarios/scenario.js';
import { EXAMPLES } from '../examples/scenarios.js';
import { SERIES, WHAT_IF } from '../history/patches.js';
import { findTree, treeHas, TREES, type Tree } from '../history/trees.js';

/** A user-facing error: printed as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** How a worker finds a scenario again: by name in the library, or by module path. */
export type ScenarioRef = { readonly kind: 'library'; readonly name: string } | { readonly kind: 'file'; readonly path: string };

export function refFor(arg: string): ScenarioRef {
  if (/\.(m?[jt]s|c[jt]s)$/.test(arg) || arg.includes('/')) {
    const path = resolve(arg);
    if (!existsSync(path)) throw new UsageError(`no scenario module at ${arg}`);
    return { kind: 'file', path };
  }
  if (!libraryScenario(arg)) throw new UsageError(`unknown scenario '${arg}' (see 'zonedev list scenarios')`);
  return { kind: 'library', name: arg };
}

export function libraryScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name) ?? EXAMPLES.find((s) => s.name === name);
}

/** Loads the scenario a ref names. Throws UsageError when the module is not a scenario. */
export async function loadScenario(ref: ScenarioRef): Promise<Scenario> {
  if (ref.kind === 'library') {
    const s = libraryScenario(ref.name);
    if (!s) throw new UsageError(`unknown scenario '${ref.name}'`);
    return s;
  }
  let mod: Record<string, unknown>;
  try {
    // A TypeScript module is compiled as it is loaded, without a rebuild: tsx's loader, taken
    // into this thread's module graph, so that the module and the command share the model's
    // modules (one machine(), one Failure class).
    if (/\.[cm]?ts$/.test(ref.path)) typescriptLoader ??= register();
    mod = (await import(pathToFileURL(ref.path).href)) as Record<string, unknown>;
  } catch (e) {
    // A compile error is several lines (esbuild's): joined, so that it stays one line and says where.
    const msg = (e instanceof Error ? e.message : String(e)).split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
    const esm = /require\(\) ES Module|require is not defined/.test(msg);
    throw new UsageError(
      esm
        ? `cannot load scenario module ${ref.path}: it is read as CommonJS; a scenario is an ES module (name it .mts, or put it in a package with "type": "module")`
        : `cannot load scenario module ${ref.path}: ${msg.length > 400 ? `${msg.slice(0, 399)}…` : msg}`,
    );
  }
  const s = scenarioOf(mod);
  if (!s || typeof s !== 'object' || typeof s.name !== 'string' || typeof s.build !== 'function') {
    throw new UsageError(`${ref.path} does not export a scenario (export default { name, description, params, build })`);
  }
  return { description: '', params: {}, ...s } as Scenario;
}

/** tsx's loader, once registered in this thread. */
let typescriptLoader: (() => Promise<void>) | undefined;

/** A module's scenario: its default export (or `scenario`), through a CommonJS wrapper's `default` if there is one. */
function scenarioOf(mod: Record<string, unknown>): Partial<Scenario> | undefined {
  let s = (mod.default ?? mod.scenario) as (Partial<Scenario> & { default?: unknown }) | undefined;
  if (s && typeof s === 'object' && s.name === undefined && typeof s.default === 'object') s = s.default as Partial<Scenario>;
  return s;
}

/** The trees a scenario applies to, in series order. */
export function treesFor(s: Scenario): Tree[] {
  if (s.treeless) return [NO_TREE];
  return TREES.filter((t) => applies(s, t));
}

/** The tree of a scenario that runs without a kernel. */
export const NO_TREE: Tree = { name: '-', upTo: undefined, description: 'no kernel' };

export function applies(s: Scenario, t: Tree): boolean {
  if (s.treeless) return t.name === '-';
  if (s.requires && !treeHas(t, s.requires)) return false;
  if (s.removedBy && treeHas(t, s.removedBy)) return false;
  return true;
}

/** A tree by name, with what-if patches after a `+` (`newest+p2pdma-free-pagemap-with-pool`): an unknown one is a usage error. */
export function resolveTree(name: string): Tree {
  const [base, ...whatIf] = name.split('+');
  const t = findTree(base!);
  if (!t) throw new UsageError(`unknown tree '${base}' (see 'zonedev list trees')`);
  for (const w of whatIf) {
    if (WHAT_IF.some((p) => p.id === w)) continue;
    const inSeries = SERIES.some((p) => p.id === w);
    throw new UsageError(`unknown what-if patch '${w}' in --tree ${name} (${inSeries ? `${w} is a patch of the series: check --tree @${w}` : "see 'zonedev list patches'"})`);
  }
  return t;
}

/** Fills in and checks a scenario's parameters from NAME=VALUE strings. */
export function resolveParams(s: Scenario, given: Readonly<Record<string, string>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, p] of Object.entries(s.params)) out[name] = p.default;
  for (const [name, raw] of Object.entries(given)) {
    const p = s.params[name];
    if (!p) {
      const known = Object.keys(s.params);
      throw new UsageError(`scenario ${s.name} has no parameter '${name}'${known.length ? ` (it has: ${known.join(', ')})` : ''}`);
    }
    const v = Number(raw);
    if (!Number.isInteger(v) || v < p.min || v > p.max) throw new UsageError(`--param ${name}=${raw}: must be an integer from ${p.min} to ${p.max}`);
    out[name] = v;
  }
  return out;
}

export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.trim();
}
