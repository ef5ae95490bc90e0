// kernel/sched/core.c, as far as the scenarios use it: set_cpus_allowed_ptr() for the current
// task, with a mask of one CPU (what `taskset -c N` does to a process). The model's threads
// never migrate, so pinning only says on which CPU smp_processor_id() finds the thread (its
// per-CPU counters, its RCU data). All trees.

import { type Gen, self } from '../../../engine/ops.js';
import { machine } from '../../machine.js';

/** set_cpus_allowed_ptr(current, cpumask_of(cpu)): the current task runs on `cpu` from now on. */
export function* set_cpus_allowed_ptr(cpu: number): Gen<number> {
  const m = machine();
  if (cpu < 0 || cpu >= m.nr_cpu_ids) throw new Error(`set_cpus_allowed_ptr: CPU ${cpu} does not exist (nr_cpu_ids ${m.nr_cpu_ids})`);
  m.boundTo.set((yield* self()).tid, cpu);
  return 0;
}
