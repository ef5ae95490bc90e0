// Seed 000 and the p2pmem "allocate" sysfs file (v6.2+): a process mmaps p2pmem through
// /sys/bus/pci/devices/<provider>/p2pmem/allocate, touches and unmaps it, while the provider's
// driver is unbound (pci_p2pdma_unmap_mappings() removes the file, which zaps the mappings;
// memunmap_pages() then waits for the pages). Seed 000 moves the page refcount initialisation
// into p2pmem_alloc_mmap() with a VM_WARN_ON_ONCE_PAGE whose condition is inverted (v6.15).

import { percpu_ref_hung_task_lines } from '../src/kernel/lib/percpu-refcount.js';
import type { Scenario } from './scenario.js';
import { build_world, driver_actor, final_checks, outcome, process_actor, state } from './support/p2pdma.js';

export const p2pmemMmapVsUnbind: Scenario = {
  name: 'p2pmem-mmap-vs-unbind',
  description: 'a process mmaps p2pmem through sysfs allocate, touches and unmaps it while the provider driver is unbound (seed 000)',
  requires: 'p2pdma-allocate-mmap',
  params: {
    pages: { default: 1, min: 1, max: 4, description: 'pages in the provider BAR' },
    mmap_pages: { default: 1, min: 1, max: 4, description: 'pages the process maps (at most pages)' },
    rounds: { default: 1, min: 1, max: 3, description: 'times the process mmaps, touches and munmaps (a freed page is handed out again)' },
  },
  build(tree, params) {
    return {
      setup() {
        const w = build_world(tree, 1, Math.max(params.pages!, params.mmap_pages!));
        return { threads: [driver_actor(w), process_actor(w, params.mmap_pages!, params.rounds!)], finalChecks: final_checks(w), hangDetails: percpu_ref_hung_task_lines, outcome: outcome(w), state: state(w) };
      },
    };
  },
};
