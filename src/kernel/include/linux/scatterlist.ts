// include/linux/scatterlist.h: struct scatterlist and the inlines that read no memory but the
// entry's (sg_set_buf, sg_page, sg_phys, sg_virt), the same on every modelled tree; the DMA
// address fields are those the P2PDMA mapping sets (bus_address: sg_dma_mark_bus_address(), v6.x).

import { offset_in_page, page_to_pfn, page_to_virt, pfn_to_page, PFN_PHYS, virt_to_page } from './mm.js';
import type { page } from './mm_types.js';

/**
 * struct scatterlist: page_link (the page's address as a word: the model keeps its pfn, so that
 * the entry's memory does not contain the struct page), offset, length, the DMA address/length.
 */
export class scatterlist {
  page_link = -1;
  offset = 0;
  length = 0;
  dma_address = 0;
  dma_length = 0;
  /** sg_dma_mark_bus_address() (v6.x). */
  bus_address = false;
}

/** sg_set_buf(sg, buf, buflen): sg_set_page(sg, virt_to_page(buf), buflen, offset_in_page(buf)). */
export function sg_set_buf(sg: scatterlist, buf: number, buflen: number): void {
  sg.page_link = page_to_pfn(virt_to_page(buf));
  sg.length = buflen;
  sg.offset = offset_in_page(buf);
}

/** sg_page(sg). */
export function sg_page(sg: scatterlist): page {
  return pfn_to_page(sg.page_link);
}

/** sg_phys(sg): page_to_phys(sg_page(sg)) + sg->offset (pointer arithmetic). */
export function sg_phys(sg: scatterlist): number {
  return PFN_PHYS(page_to_pfn(sg_page(sg))) + sg.offset;
}

/** sg_virt(sg): page_address(sg_page(sg)) + sg->offset. */
export function sg_virt(sg: scatterlist): number {
  return page_to_virt(sg_page(sg)) + sg.offset;
}

