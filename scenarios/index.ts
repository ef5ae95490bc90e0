// The scenario library.

import { p2pdmaAddResourceFault } from './p2pdma-add-resource-fault.js';
import { p2pdmaTwoBarsVsUnbind } from './p2pdma-two-bars-vs-unbind.js';
import { p2pmemAllocVsUnbind } from './p2pmem-alloc-vs-unbind.js';
import { p2pmemMmapVsUnbind } from './p2pmem-mmap-vs-unbind.js';
import { p2pmemSysfsReadVsUnbind } from './p2pmem-sysfs-read-vs-unbind.js';
import type { Scenario } from './scenario.js';

export const SCENARIOS: readonly Scenario[] = [p2pmemAllocVsUnbind, p2pdmaAddResourceFault, p2pdmaTwoBarsVsUnbind, p2pmemMmapVsUnbind, p2pmemSysfsReadVsUnbind];
