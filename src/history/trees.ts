// The kernel trees: named points in the patch series.

import { boot, type Machine } from '../kernel/machine.js';
import { KNOWN_PATCH_IDS, SERIES, WHAT_IF } from './patches.js';

export interface Tree {
  readonly name: string;
  /** The id of the last patch of the series applied in this tree (undefined: none). */
  readonly upTo: string | undefined;
  readonly description: string;
}

export const TREES: readonly Tree[] = [
  { name: 'v5.1', upTo: undefined, description: 'before seed 001: one percpu_ref per p2pdma device, no ->cleanup()' },
  { name: 'v5.2', upTo: 'memremap-fix-final-page-put-race', description: 'seed 001 applied' },
  { name: 'v5.10', upTo: 'percpu-ref-data-null-check', description: 'long-term stable: the internal pgmap refcount (v5.3) and the map_types cache (v5.4); pdev->p2pdma is not RCU protected yet' },
  { name: 'v5.15', upTo: 'p2pdma-rcu-pdev', description: 'long-term stable: pdev->p2pdma is RCU protected (ae21f835a5bd); the client still maps with pci_p2pdma_map_sg_attrs()' },
  { name: 'v6.0', upTo: 'p2pdma-dma-direct-map-sg', description: 'the last release before the device-private refcount rework of v6.1' },
  { name: 'v6.1', upTo: 'zone-device-refcount-0-private', description: 'long-term stable: the device-private refcount rework (refcount 0 when free, a pgmap reference per page)' },
  { name: 'v6.6', upTo: 'mm-less-noisy-hotplug', description: 'long-term stable: the sysfs allocate file and its mmap (v6.2), before the pagemap moved in struct pci_p2pdma_pagemap (v6.7)' },
  { name: 'v6.12', upTo: 'zone-device-folio', description: 'long-term stable: the same modelled source as v6.14 (no change a scenario can observe in between)' },
  { name: 'v6.14', upTo: 'zone-device-folio', description: 'before seed 000: p2pdma pages start at refcount 1' },
  { name: 'v6.15', upTo: 'p2pdma-refcount-init-to-p2pdma', description: 'seed 000 applied' },
  { name: 'newest', upTo: 'p2pdma-provider-per-bar', description: 'the newest mainline source that could be read' },
];

/**
 * A tree by name: a named release (v5.2), or a point of the series written @<patch id>
 * (the series up to and including that patch; @base is the series with no patch).
 */
export function findTree(name: string): Tree | undefined {
  const named = TREES.find((t) => t.name === name);
  if (named) return named;
  if (name === '@base') return { name, upTo: undefined, description: 'the series with no patch applied' };
  if (name.startsWith('@')) {
    const p = SERIES.find((x) => x.id === name.slice(1));
    if (p) return { name, upTo: p.id, description: `the series up to ${p.id}` };
  }
  return undefined;
}

/** Every point of the series in order: @base, then one after each patch. */
export function seriesPoints(): Tree[] {
  return [findTree('@base')!, ...SERIES.map((p) => findTree(`@${p.id}`)!)];
}

/** The ids of the patches applied in `tree`, in series order. */
export function patchesOf(tree: Tree): string[] {
  if (tree.upTo === undefined) return [];
  const end = SERIES.findIndex((p) => p.id === tree.upTo);
  if (end < 0) throw new Error(`tree ${tree.name} ends at unknown patch ${tree.upTo}`);
  return SERIES.slice(0, end + 1).map((p) => p.id);
}

/** Boots a machine running `tree` (by name), with extra what-if patches if given. */
/** Whether `tree` has patch `id` (for deciding whether a scenario applies). */
export function treeHas(tree: Tree, id: string): boolean {
  return patchesOf(tree).includes(id);
}

/**
 * Boots a machine running `name` (a tree name, see findTree). What-if patches may be added with
 * a `+` suffix: "v5.1+some-what-if-patch".
 */
export function bootTree(name: string, options: { nr_cpu_ids?: number } = {}): Machine {
  const [base, ...whatIf] = name.split('+');
  const tree = findTree(base!);
  if (!tree) throw new Error(`unknown tree '${name}'`);
  for (const w of whatIf) if (!WHAT_IF.some((p) => p.id === w)) throw new Error(`unknown what-if patch '${w}'`);
  return boot({
    tree: { name, patches: new Set([...patchesOf(tree), ...whatIf]), known: KNOWN_PATCH_IDS },
    nr_cpu_ids: options.nr_cpu_ids,
  });
}
