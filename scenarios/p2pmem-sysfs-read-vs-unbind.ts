// The p2pmem sysfs attributes read while the provider's driver is unbound. v5.1 destroys the
// pool before removing the attributes (size_show/available_show read a freed pool); v5.2
// clears pdev->p2pdma before removing them (the show functions dereference it unchecked) —
// both fixed by "PCI/P2PDMA: finish RCU conversion of pdev->p2pdma" (2021), which reads it
// under RCU with NULL checks.

import { percpu_ref_hung_task_lines } from '../src/kernel/lib/percpu-refcount.js';
import type { Scenario } from './scenario.js';
import { build_world, driver_actor, final_checks, outcome, state, sysfs_reader_actor } from './support/p2pdma.js';

export const p2pmemSysfsReadVsUnbind: Scenario = {
  name: 'p2pmem-sysfs-read-vs-unbind',
  description: 'a process reads p2pmem/size while the provider driver is unbound',
  params: {
    pages: { default: 1, min: 1, max: 4, description: 'pages in the provider BAR' },
  },
  build(tree, params) {
    return {
      setup() {
        const w = build_world(tree, 1, params.pages!);
        return { threads: [driver_actor(w), sysfs_reader_actor(w, ['size'])], finalChecks: final_checks(w), hangDetails: percpu_ref_hung_task_lines, outcome: outcome(w), state: state(w) };
      },
    };
  },
};
