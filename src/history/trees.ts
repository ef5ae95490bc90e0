// The kernel trees: named points in the patch series.

import { boot, type Machine } from '../kernel/machine.js';
import { KNOWN_PATCH_IDS, SERIES } from './patches.js';

export interface Tree {
  readonly name: string;
  /** The id of the last patch of the series applied in this tree (undefined: none). */
  readonly upTo: string | undefined;
  readonly description: string;
}

export const TREES: readonly Tree[] = [
  { name: 'v5.1', upTo: undefined, description: 'before seed 001: one percpu_ref per p2pdma device, no ->cleanup()' },
  { name: 'v5.2', upTo: 'memremap-fix-final-page-put-race', description: 'seed 001 applied' },
  { name: 'v6.14', upTo: 'zone-device-folio', description: 'before seed 000: p2pdma pages start at refcount 1' },
  { name: 'v6.15', upTo: 'p2pdma-refcount-init-to-p2pdma', description: 'seed 000 applied' },
  { name: 'newest', upTo: 'p2pdma-provider-per-bar', description: 'the newest mainline source that could be read' },
];

export function findTree(name: string): Tree | undefined {
  return TREES.find((t) => t.name === name);
}

/** The ids of the patches applied in `tree`, in series order. */
export function patchesOf(tree: Tree): string[] {
  if (tree.upTo === undefined) return [];
  const end = SERIES.findIndex((p) => p.id === tree.upTo);
  if (end < 0) throw new Error(`tree ${tree.name} ends at unknown patch ${tree.upTo}`);
  return SERIES.slice(0, end + 1).map((p) => p.id);
}

/** Boots a machine running `tree` (by name), with extra what-if patches if given. */
export function bootTree(name: string, options: { nr_cpu_ids?: number; extraPatches?: readonly string[] } = {}): Machine {
  const tree = findTree(name);
  if (!tree) throw new Error(`unknown tree '${name}'`);
  return boot({
    tree: { name, patches: new Set([...patchesOf(tree), ...(options.extraPatches ?? [])]), known: KNOWN_PATCH_IDS },
    nr_cpu_ids: options.nr_cpu_ids,
  });
}
