// include/linux/pfn.h (and PAGE_SHIFT/PAGE_SIZE of include/asm-generic/page.h, which it is
// written against): page frame numbers and physical addresses. Addresses are JS numbers and may
// exceed 32 bits, so the shifts are written as multiplications.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** PHYS_PFN(x): x >> PAGE_SHIFT. */
export function PHYS_PFN(x: number): number {
  return Math.floor(x / PAGE_SIZE);
}

/** PFN_PHYS(pfn): pfn << PAGE_SHIFT. */
export function PFN_PHYS(pfn: number): number {
  return pfn * PAGE_SIZE;
}

/** PFN_UP(x): (x + PAGE_SIZE - 1) >> PAGE_SHIFT. */
export function PFN_UP(x: number): number {
  return Math.ceil(x / PAGE_SIZE);
}
