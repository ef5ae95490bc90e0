// Seed 001 patch 3/6 ("PCI/P2PDMA: Fix the gen_pool_add_virt() failure path"): the provider
// publishes a BAR with every fallible call of pci_p2pdma_setup() / pci_p2pdma_add_resource()
// (and of devm_memremap_pages() under it) a fault candidate, then its driver is unbound. On
// v5.1 a failed gen_pool_add_virt() frees the pgmap while devm_memremap_pages_release() stays
// registered and runs on it at unbind.

import { percpu_ref_hung_task_lines } from '../src/kernel/lib/percpu-refcount.js';
import type { Scenario } from './scenario.js';
import { build_world, driver_actor, final_checks, outcome, state } from './support/p2pdma.js';

export const p2pdmaAddResourceFault: Scenario = {
  name: 'p2pdma-add-resource-fault',
  description: 'the provider publishes a BAR with every fallible call a fault candidate, then is unbound (seed 001 patch 3)',
  params: {
    pages: { default: 1, min: 1, max: 4, description: 'pages in the provider BAR' },
  },
  build(tree, params) {
    return {
      setup() {
        const w = build_world(tree, 1, params.pages!);
        return { threads: [driver_actor(w)], finalChecks: final_checks(w), hangDetails: percpu_ref_hung_task_lines, outcome: outcome(w), state: state(w) };
      },
    };
  },
};
