// A scenario written outside the library, as a user writes one (README, "Writing a scenario"):
//   zonedev check ./examples/scenario-provider-lookup-vs-unbind.ts --tree v5.1
// checks it without a rebuild. A p2pmem user finds the provider with pci_p2pmem_find_many()
// and allocates with pci_alloc_p2pmem() (not a scatterlist), reads the bus address and frees;
// a second actor reads the provider's p2pmem/size; the driver is unbound meanwhile. The README
// shows this file from its first import on (test/examples.test.ts checks that it does).

import { log } from 'zonedev/engine';
import { pci_alloc_p2pmem, pci_free_p2pmem, pci_p2pmem_find_many, pci_p2pmem_virt_to_bus } from 'zonedev/kernel/drivers/pci/p2pdma';
import { pci_dev_put } from 'zonedev/kernel/drivers/pci/pci';
import { build_world, driver_actor, final_checks, outcome, PAGE_SIZE, percpu_ref_hung_task_lines, type Scenario, state, sysfs_reader_actor, wait_probed } from 'zonedev/scenario';

const scenario: Scenario = {
  name: 'provider-lookup-vs-unbind',
  description: 'a p2pmem user finds the provider, allocates, reads the bus address and frees while a reader reads p2pmem/size and the driver is unbound',
  params: { pages: { default: 1, min: 1, max: 4, description: 'pages in the provider BAR' } },
  build(tree, params) {
    return {
      setup() {
        const w = build_world(tree, 1, params.pages!);   // boots the tree; the provider, its BAR, the client; driver not bound
        return {
          threads: [
            driver_actor(w),                              // binds the provider driver (probe), then unbinds it
            { name: 'user', *body() {
                yield* wait_probed(w);                    // the scenario's precondition: the provider is bound
                const pdev = yield* pci_p2pmem_find_many([w.client.dev]);
                if (!pdev) return;
                const addr = yield* pci_alloc_p2pmem(pdev, PAGE_SIZE);
                if (addr !== 0) {
                  yield* log(`bus address 0x${(yield* pci_p2pmem_virt_to_bus(pdev, addr)).toString(16)}`);
                  yield* pci_free_p2pmem(pdev, addr, PAGE_SIZE);
                }
                pci_dev_put(pdev);
            } },
            sysfs_reader_actor(w, ['size']),              // reads /sys/bus/pci/devices/<provider>/p2pmem/size
          ],
          finalChecks: final_checks(w),                   // kmemleak, what the unbind left set up, the memmap, pdev->p2pdma
          hangDetails: percpu_ref_hung_task_lines,        // who holds the percpu_ref a hung task waits for
          outcome: outcome(w),                            // a summary of the final state (comparing strategies)
          state: state(w),                                // what the trace viewer shows at each step
        };
      },
    };
  },
};
export default scenario;
