// include/linux/compiler_types.h: `static inline`. A function a header defines inline has no
// frame of its own in the kernel's reports: KASAN's "BUG: KASAN: use-after-free in <function>",
// the "WARNING: ... at <file> <function>" line and the hung task's stack name the out-of-line
// function the inline code was compiled into (%pS of the instruction pointer). The model keeps
// inline functions as frames, so that the interleaving shows them, and marks them here so that
// a report names the function the kernel would.
//
// Marked by name: a function that is inline on some trees and out of line on others
// (gen_pool_add_virt(), inline since "lib/genalloc: Introduce chunk owners") counts as inline.

import { frame, type Gen } from '../../../engine/ops.js';

const INLINE = new Set<string>();

/** frame(), for a function the kernel defines `static inline` in a header. */
export function static_inline<A extends unknown[], R>(name: string, body: (...args: A) => Gen<R>): (...args: A) => Gen<R> {
  INLINE.add(name);
  return frame(name, body);
}

/** Whether `fn` is inlined into its callers in the kernel. */
export function is_inline(fn: string): boolean {
  return INLINE.has(fn);
}
