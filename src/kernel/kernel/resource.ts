// kernel/resource.c, as far as memremap needs it: the System RAM children of iomem_resource
// (which a scenario declares) and region_intersects(), the same on every modelled tree
// (v5.1..newest).

import { frame, type Gen, read, step } from '../../engine/ops.js';
import { machine } from '../machine.js';

/** A System RAM range in the iomem resource tree. */
interface ram_range {
  readonly start: number;
  readonly end: number;
}

class resource_state {
  /** iomem_resource's System RAM children. */
  readonly system_ram: ram_range[] = [];
  /** The shared object of a walk of iomem_resource (under resource_lock). */
  readonly iomem = { name: 'iomem_resource' };
}

function state(): resource_state {
  return machine().global('resource', () => new resource_state());
}

/** A scenario's setup: declares a System RAM range (for region_intersects()). */
export function add_system_ram(start: number, end: number): void {
  state().system_ram.push({ start, end });
}

export const REGION_INTERSECTS = 0;
export const REGION_DISJOINT = 1;
export const REGION_MIXED = 2;

/** region_intersects(start, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE). */
export const region_intersects = frame('region_intersects', function* (start: number, size: number): Gen<number> {
  const s = state();
  yield* step('read_lock(&resource_lock); walk iomem_resource', read(s.iomem));
  const end = start + size - 1;
  let type = 0;
  let other = 0;
  for (const r of s.system_ram) {
    if (r.start <= end && r.end >= start) {
      if (r.start <= start && r.end >= end) type++;
      else other++;
    }
  }
  if (type === 0 && other === 0) return REGION_DISJOINT;
  return other === 0 ? REGION_INTERSECTS : REGION_MIXED;
});
