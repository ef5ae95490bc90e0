// arch/x86/mm/pat/memtype.c, as far as memremap needs it: the memtype reservation of a device
// range, track_pfn_remap()/untrack_pfn() (v5.1..v6.15; pfnmap_track()/pfnmap_untrack() in
// newest, the same reservation).

import { fault, frame, type Gen, step, write } from '../../../../../engine/ops.js';
import { ENOMEM } from '../../../../include/uapi/errno.js';
import { machine, patched } from '../../../../machine.js';
import { PFN_PHYS } from '../../../../include/linux/pfn.js';
import { hex } from '../../../../kernel/printk.js';

class memtype_state {
  /** The memtype reservations, "start-end" → count. */
  readonly memtypes = new Map<string, number>();
  /** The shared object of the memtype tree (memtype_lock). */
  readonly tree = { name: 'memtype tree' };
}

function state(): memtype_state {
  return machine().global('memtype', () => new memtype_state());
}


/**
 * track_pfn_remap(NULL, &pgprot, pfn, 0, size) (pfnmap_track() in newest): reserves the
 * memtype of the range; the memtype allocation can fail (-ENOMEM).
 */
export const track_pfn_remap = frame('track_pfn_remap', function* (pfn: number, size: number): Gen<number> {
  const name = patched('mm-zone-device-folio-free-op') ? 'pfnmap_track' : 'track_pfn_remap';
  if (yield* fault(`${name}(${hex(pfn)}, ${size}): reserve_memtype: kzalloc(struct memtype)`)) return -ENOMEM;
  const s = state();
  yield* step(`${name}: memtype_reserve(${hex(PFN_PHYS(pfn))}, ${hex(PFN_PHYS(pfn) + size)})`, write(s.tree));
  const key = `${hex(PFN_PHYS(pfn))}-${hex(PFN_PHYS(pfn) + size)}`;
  s.memtypes.set(key, (s.memtypes.get(key) ?? 0) + 1);
  return 0;
});

/** untrack_pfn(NULL, pfn, size[, mm_wr_locked]) (pfnmap_untrack() in newest): frees the memtype. */
export const untrack_pfn = frame('untrack_pfn', function* (pfn: number, size: number): Gen<void> {
  const s = state();
  yield* step(`memtype_free(${hex(PFN_PHYS(pfn))}, ${hex(PFN_PHYS(pfn) + size)})`, write(s.tree));
  const key = `${hex(PFN_PHYS(pfn))}-${hex(PFN_PHYS(pfn) + size)}`;
  const n = s.memtypes.get(key) ?? 0;
  if (n > 0) s.memtypes.set(key, n - 1);
});

/** The ranges still reserved, "memtype start-end" (end-of-scenario checks). */
export function memtype_leftovers(): string[] {
  return [...state().memtypes].filter(([, n]) => n > 0).map(([k]) => `memtype ${k}`);
}
