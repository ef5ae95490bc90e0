// Seed 002: a p2pmem user allocates from a provider, DMA-maps the memory and frees it, while
// another process unbinds the provider's driver. On v5.1 devm_memremap_pages_release() removes
// the memmap (arch_remove_memory) before the last page reference is dropped, so the user's
// pci_p2pdma_map_sg() touches a struct page that no longer exists. Seed 001 (v5.2) makes the
// release wait for the pgmap reference first.

import { percpu_ref_hung_task_lines } from '../src/kernel/lib/percpu-refcount.js';
import type { Scenario } from './scenario.js';
import { build_world, client_actor, driver_actor, final_checks, outcome, state } from './support/p2pdma.js';
import { PAGE_SIZE } from '../src/kernel/mm/memory_hotplug.js';

export const p2pmemAllocVsUnbind: Scenario = {
  name: 'p2pmem-alloc-vs-unbind',
  description: 'an in-kernel p2pmem client allocates, DMA-maps and frees p2pmem while the provider driver is unbound (seed 002)',
  params: {
    pages: { default: 1, min: 1, max: 4, description: 'pages in the provider BAR' },
    clients: { default: 1, min: 1, max: 3, description: 'concurrent p2pmem clients (each allocates one page)' },
    rounds: { default: 1, min: 1, max: 3, description: 'times each client allocates, DMA-maps and frees (a freed page is handed out again)' },
  },
  build(tree, params) {
    return {
      setup() {
        const w = build_world(tree, 1, params.pages!);
        const threads = [driver_actor(w)];
        // Several clients are identical (one class of interchangeable threads, client_actor).
        const many = params.clients! > 1;
        for (let i = 0; i < params.clients!; i++) threads.push(client_actor(w, many ? `client${i}` : 'client', 1, PAGE_SIZE, false, params.rounds!, many ? 'client' : undefined));
        return { threads, finalChecks: final_checks(w), hangDetails: percpu_ref_hung_task_lines, outcome: outcome(w), state: state(w) };
      },
    };
  },
};
