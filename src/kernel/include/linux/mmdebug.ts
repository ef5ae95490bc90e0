// include/linux/mmdebug.h (VM_BUG_ON, VM_BUG_ON_PAGE, VM_BUG_ON_FOLIO, VM_WARN_ON,
// VM_WARN_ON_ONCE, VM_WARN_ON_ONCE_PAGE, VM_WARN_ON_FOLIO, VM_WARN_ON_ONCE_FOLIO) as on a
// CONFIG_DEBUG_VM kernel, and dump_page() of mm/debug.c. Trees: v5.1 .. newest; the text of
// dump_page()'s first line changed in v5.8 (the model prints the v5.x form on trees without
// patched('memremap-pgmap-owned-ref'), the v6.x form after: no intermediate tree is named).
//
// C stringifies the condition (__stringify(cond)); TypeScript cannot, so callers pass the
// condition's text as `cond_text`, spelled as in the kernel source (e.g. '!page_ref_count(page)').
// `where` names the file and function (the kernel's file:line).
//
// dump_page() reads the page: a page whose memmap is gone faults there, as in the kernel.

import { frame, type Gen, read, step } from '../../../engine/ops.js';
import { BUG, BUG_ON, WARN_ON, WARN_ON_ONCE } from '../asm-generic/bug.js';
import { machine, patched } from '../../machine.js';
import { printk } from '../../kernel/printk.js';
import { type folio, mapcount_obj, page_zonenum, type page, pfn_of_struct_page, refcount_obj } from './mm_types.js';

/** mm/debug.c dump_page(page, reason): prints the struct page and why it was dumped. */
export const dump_page = frame('dump_page', function* (p: page, reason: string): Gen<void> {
  yield* step('__dump_page(page)', read(p), read(refcount_obj(p)), read(mapcount_obj(p)));
  const pfn = pfn_of_struct_page(p);
  const refcount = p._refcount.counter;
  const mapcount = p._mapcount.counter + 1;
  const mapping = p.mapping === null ? '0000000000000000' : `(${p.mapping.name})`;
  const newer = patched('memremap-pgmap-owned-ref');
  const lines = newer
    ? [`page: refcount:${refcount} mapcount:${mapcount} mapping:${mapping} index:0x${p.index.toString(16)} pfn:0x${pfn.toString(16)}`]
    : [`page:(pfn 0x${pfn.toString(16)}) count:${refcount} mapcount:${mapcount} mapping:${mapping} index:0x${p.index.toString(16)}`];
  lines.push(`flags: 0x${(p.flags >>> 0).toString(16)}(zone ${page_zonenum(p)})`);
  for (const l of lines) yield* printk('<4>', l);
  yield* printk(newer ? '<4>' : '<1>', `page dumped because: ${reason}`);
});

/** VM_BUG_ON(cond): BUG_ON(cond) on CONFIG_DEBUG_VM. */
export function VM_BUG_ON(cond: boolean, where: string, cond_text: string): void {
  BUG_ON(cond, where, `VM_BUG_ON(${cond_text})`);
}

/** VM_BUG_ON_PAGE(cond, page): dump_page(page, "VM_BUG_ON_PAGE(cond)"); BUG(). */
export function* VM_BUG_ON_PAGE(cond: boolean, p: page, where: string, cond_text: string): Gen<void> {
  if (!cond) return;
  yield* dump_page(p, `VM_BUG_ON_PAGE(${cond_text})`);
  BUG(where, `VM_BUG_ON_PAGE(${cond_text})`);
}

/** VM_BUG_ON_FOLIO(cond, folio) (v5.16+): dump_page(&folio->page, ...); BUG(). */
export function* VM_BUG_ON_FOLIO(cond: boolean, f: folio, where: string, cond_text: string): Gen<void> {
  if (!cond) return;
  yield* dump_page(f, `VM_BUG_ON_FOLIO(${cond_text})`);
  BUG(where, `VM_BUG_ON_FOLIO(${cond_text})`);
}

/** VM_WARN_ON(cond): WARN_ON(cond). */
export function* VM_WARN_ON(cond: boolean, where: string, cond_text: string): Gen<boolean> {
  return yield* WARN_ON(cond, where, `VM_WARN_ON(${cond_text})`);
}

/** VM_WARN_ON_ONCE(cond): WARN_ON_ONCE(cond). */
export function* VM_WARN_ON_ONCE(cond: boolean, where: string, cond_text: string): Gen<boolean> {
  return yield* WARN_ON_ONCE(cond, where, `VM_WARN_ON_ONCE(${cond_text})`);
}

/**
 * VM_WARN_ON_ONCE_PAGE(cond, page): the first time cond holds at this site,
 * dump_page(page, "VM_WARN_ON_ONCE_PAGE(cond)") and WARN_ON(1). Returns cond.
 */
export function* VM_WARN_ON_ONCE_PAGE(cond: boolean, p: page, where: string, cond_text: string): Gen<boolean> {
  if (!cond) return false;
  const key = `VM_WARN_ON_ONCE_PAGE|${where}|${cond_text}`;
  const m = machine();
  if (!m.warnedOnce.has(key)) {
    yield* dump_page(p, `VM_WARN_ON_ONCE_PAGE(${cond_text})`);
    m.warnedOnce.add(key);
    yield* WARN_ON(true, where, `VM_WARN_ON_ONCE_PAGE(${cond_text})`);
  }
  return true;
}

/** VM_WARN_ON_FOLIO(cond, folio) (v5.16+): dump_page(...); WARN_ON(1) every time. */
export function* VM_WARN_ON_FOLIO(cond: boolean, f: folio, where: string, cond_text: string): Gen<boolean> {
  if (!cond) return false;
  yield* dump_page(f, `VM_WARN_ON_FOLIO(${cond_text})`);
  yield* WARN_ON(true, where, `VM_WARN_ON_FOLIO(${cond_text})`);
  return true;
}

/** VM_WARN_ON_ONCE_FOLIO(cond, folio) (v5.16+). */
export function* VM_WARN_ON_ONCE_FOLIO(cond: boolean, f: folio, where: string, cond_text: string): Gen<boolean> {
  if (!cond) return false;
  const key = `VM_WARN_ON_ONCE_FOLIO|${where}|${cond_text}`;
  const m = machine();
  if (!m.warnedOnce.has(key)) {
    yield* dump_page(f, `VM_WARN_ON_ONCE_FOLIO(${cond_text})`);
    m.warnedOnce.add(key);
    yield* WARN_ON(true, where, `VM_WARN_ON_ONCE_FOLIO(${cond_text})`);
  }
  return true;
}
