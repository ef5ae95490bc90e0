// Seed 001 patch 5/6 and the last paragraphs of seed 002: the provider publishes two BARs;
// clients allocate from both (the pool hands out the newest chunk first, so a client's second
// allocation comes from the other BAR) while the driver is unbound. On v5.1 both pgmaps share
// the device's one percpu_ref (killed once, "is_dying" guard), so neither BAR's release can
// wait for its own pages; v5.2 gives each resource its own ref.

import { percpu_ref_hung_task_lines } from '../src/kernel/lib/percpu-refcount.js';
import type { Scenario } from './scenario.js';
import { build_world, client_actor, driver_actor, final_checks, outcome, state } from './support/p2pdma.js';
import { PAGE_SIZE } from '../src/kernel/mm/memory_hotplug.js';

export const p2pdmaTwoBarsVsUnbind: Scenario = {
  name: 'p2pdma-two-bars-vs-unbind',
  description: 'the provider publishes two BARs, clients allocate from both while the driver is unbound (seed 001 patch 5, seed 002)',
  params: {
    pages: { default: 1, min: 1, max: 4, description: 'pages in each provider BAR' },
    clients: { default: 1, min: 1, max: 2, description: 'concurrent p2pmem clients (each allocates one BAR-sized piece twice)' },
    rounds: { default: 1, min: 1, max: 3, description: 'times each client allocates, DMA-maps and frees (a freed page is handed out again)' },
  },
  build(tree, params) {
    return {
      setup() {
        const w = build_world(tree, 2, params.pages!);
        const threads = [driver_actor(w)];
        // Several clients are identical (one class of interchangeable threads, client_actor).
        const many = params.clients! > 1;
        for (let i = 0; i < params.clients!; i++) threads.push(client_actor(w, many ? `client${i}` : 'client', 2, params.pages! * PAGE_SIZE, false, params.rounds!, many ? 'client' : undefined));
        return { threads, finalChecks: final_checks(w), hangDetails: percpu_ref_hung_task_lines, outcome: outcome(w), state: state(w) };
      },
    };
  },
};
