// kernel/dma/direct.c (with kernel/dma/mapping.c's dma_map_sg(), one frame here), as far as a
// p2pmem client's DMA mapping goes. Until the DMA API mapped p2pdma pages itself
// (patched('p2pdma-dma-direct-map-sg'): "PCI/P2PDMA: Introduce helpers for dma_map_sg
// implementations", 5e180ff326b4, and f02ad36d4f76 "dma-direct: support PCI P2PDMA pages in
// dma-direct map_sg", v6.0) its users (nvme_map_data(), rdma_rw_ctx_init()) called
// pci_p2pdma_map_sg() for a scatterlist whose first page is_pci_p2pdma_page(): v5.1/v5.2
// pci_p2pdma_map_sg(), the v5.4 series .. v5.19 pci_p2pdma_map_sg_attrs(). Since, dma-direct's
// dma_direct_map_sg() asks is_pci_p2pdma_page() of each entry and maps it through
// pci_p2pdma_map_segment() (newest: __pci_p2pdma_update_state()).

import { frame, type Gen } from '../../../engine/ops.js';
import {
  __pci_p2pdma_update_state,
  pci_p2pdma_map_segment,
  pci_p2pdma_map_sg,
  pci_p2pdma_map_sg_attrs,
  pci_p2pdma_map_state,
  PCI_P2PDMA_MAP_BUS_ADDR,
} from '../../drivers/pci/p2pdma.js';
import type { pci_dev } from '../../drivers/pci/pci.js';
import { is_pci_p2pdma_page } from '../../include/linux/mm.js';
import { type scatterlist, sg_page, sg_phys } from '../../include/linux/scatterlist.js';
import { patched } from '../../machine.js';

/**
 * DMA-maps a scatterlist for `dev` as the tree does it: v5.1/v5.2 pci_p2pdma_map_sg(); the v5.4
 * series .. v5.19 pci_p2pdma_map_sg_attrs(); v6.0+ dma-direct (kernel/dma/direct.c dma_direct_map_sg): for a p2pdma page (is_pci_p2pdma_page(),
 * a read of the page) pci_p2pdma_map_segment(), newest __pci_p2pdma_update_state(). Returns the
 * entries mapped (0: not mappable).
 */
export const dma_map_sg = frame('dma_map_sg', function* (dev: pci_dev, sgl: scatterlist[]): Gen<number> {
  if (!patched('memremap-pgmap-owned-ref')) return yield* pci_p2pdma_map_sg(dev.dev, sgl, sgl.length);
  if (!patched('p2pdma-dma-direct-map-sg')) {
    // The client's own test of the first entry (nvme_map_data()).
    if (!(yield* is_pci_p2pdma_page(sg_page(sgl[0]!)))) return 0;
    return yield* pci_p2pdma_map_sg_attrs(dev.dev, sgl, sgl.length);
  }
  const state = new pci_p2pdma_map_state();
  for (const sg of sgl) {
    if (!(yield* is_pci_p2pdma_page(sg_page(sg)))) return 0;
    if (patched('p2pdma-provider-per-bar')) {
      yield* __pci_p2pdma_update_state(state, dev.dev, sg_page(sg));
      if (state.map !== PCI_P2PDMA_MAP_BUS_ADDR) return 0;
      sg.dma_address = sg_phys(sg) + state.bus_off;
      sg.dma_length = sg.length;
    } else if ((yield* pci_p2pdma_map_segment(state, dev.dev, sg)) !== PCI_P2PDMA_MAP_BUS_ADDR) {
      return 0;
    }
  }
  return sgl.length;
});

