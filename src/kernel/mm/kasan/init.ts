// mm/kasan/init.c, as far as memremap needs it: the zero shadow mapped for a device range,
// kasan_add_zero_shadow()/kasan_remove_zero_shadow(), the same on every modelled tree
// (v5.1..newest).

import { fault, frame, type Gen, step, write } from '../../../engine/ops.js';
import { ENOMEM } from '../../include/uapi/errno.js';
import { machine } from '../../machine.js';
import { hex } from '../../kernel/printk.js';

class kasan_init_state {
  /** The zero shadow mapped for these "start-end" ranges. */
  readonly shadow = new Map<string, number>();
  /** The shared object of the shadow page tables. */
  readonly tables = { name: 'kasan zero shadow' };
}

function state(): kasan_init_state {
  return machine().global('kasan init', () => new kasan_init_state());
}


/** kasan_add_zero_shadow(start, size): maps the zero shadow; the page-table allocation can fail. */
export const kasan_add_zero_shadow = frame('kasan_add_zero_shadow', function* (start: number, size: number): Gen<number> {
  if (yield* fault(`kasan_add_zero_shadow(${hex(start)}, ${size}): page table allocation`)) return -ENOMEM;
  const s = state();
  yield* step('kasan_add_zero_shadow: populate the shadow page tables', write(s.tables));
  const key = `${hex(start)}-${hex(start + size)}`;
  s.shadow.set(key, (s.shadow.get(key) ?? 0) + 1);
  return 0;
});

/** kasan_remove_zero_shadow(start, size). */
export const kasan_remove_zero_shadow = frame('kasan_remove_zero_shadow', function* (start: number, size: number): Gen<void> {
  const s = state();
  yield* step('kasan_remove_zero_shadow: free the shadow page tables', write(s.tables));
  const key = `${hex(start)}-${hex(start + size)}`;
  const n = s.shadow.get(key) ?? 0;
  if (n > 0) s.shadow.set(key, n - 1);
});

/** The ranges whose zero shadow is still mapped, "kasan zero shadow start-end" (end-of-scenario checks). */
export function kasan_shadow_leftovers(): string[] {
  return [...state().shadow].filter(([, n]) => n > 0).map(([k]) => `kasan zero shadow ${k}`);
}
