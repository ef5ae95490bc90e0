// zonedev/scenario: what a scenario module written outside the library imports (README,
// "Writing a scenario"): the Scenario type, and the p2pdma world and actors the library's own
// scenarios are made of (support/p2pdma.ts). Kernel functions come from zonedev/kernel/<path>,
// named as the kernel's files are (zonedev/kernel/drivers/pci/p2pdma); the engine's operations
// from zonedev/engine.

export type { Scenario, ScenarioParam } from './scenario.js';
export {
  BAR_BASE,
  BAR_STRIDE,
  build_world,
  client_actor,
  driver_actor,
  final_checks,
  outcome,
  type p2pdma_world,
  process_actor,
  state,
  sysfs_reader_actor,
  USER_ADDR,
  wait_probed,
} from './support/p2pdma.js';
export { dma_map_sg } from '../src/kernel/kernel/dma/direct.js';
export { percpu_ref_hung_task_lines } from '../src/kernel/lib/percpu-refcount.js';
export { PAGE_SIZE } from '../src/kernel/mm/memory_hotplug.js';
