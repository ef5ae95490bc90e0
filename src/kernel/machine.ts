// The modelled machine: one per execution, built by a scenario's setup. It holds what the
// kernel keeps globally: which tree (patch set) it runs, its CPUs, the kernel log, the slab
// objects that are live, and the once-only state of WARN_ONCE.
//
// Executions run one at a time and synchronously, so the machine of the execution in progress
// is simply "the current machine"; model code reaches it through machine().

import { type Gen, self } from '../engine/ops.js';
import { SlabRegistry } from './mm/kasan.js';

export interface TreeConfig {
  /** The tree's name, e.g. "v5.2". */
  readonly name: string;
  /** Ids of the modelled patches applied in this tree. */
  readonly patches: ReadonlySet<string>;
  /** Ids of every modelled patch, applied or not: asking about any other id is a model error. */
  readonly known: ReadonlySet<string>;
}

export interface MachineConfig {
  readonly tree: TreeConfig;
  /** Number of possible CPUs (default 2). */
  readonly nr_cpu_ids?: number;
}

export class Machine {
  readonly tree: TreeConfig;
  readonly nr_cpu_ids: number;
  /** The kernel log. */
  readonly dmesg: string[] = [];
  readonly slab = new SlabRegistry();
  /** Sites whose WARN_ONCE / VM_WARN_ON_ONCE has fired. */
  readonly warnedOnce = new Set<string>();
  /** Anything a subsystem keeps as a global (an xarray, a list head), by name. */
  readonly globals = new Map<string, unknown>();
  /** Threads bound to a CPU (a per-CPU kthread, a CPU's softirq work), by thread id. */
  readonly boundTo = new Map<number, number>();

  constructor(config: MachineConfig) {
    this.tree = config.tree;
    this.nr_cpu_ids = config.nr_cpu_ids ?? 2;
  }

  /** A global of a subsystem, created on first use (e.g. pgmap_array in mm/memremap.c). */
  global<T>(name: string, create: () => T): T {
    let v = this.globals.get(name) as T | undefined;
    if (v === undefined) {
      v = create();
      this.globals.set(name, v);
    }
    return v;
  }
}

let current: Machine | undefined;

/** Builds the machine for a new execution and makes it current. */
export function boot(config: MachineConfig): Machine {
  current = new Machine(config);
  return current;
}

export function machine(): Machine {
  if (!current) throw new Error('no machine has been booted');
  return current;
}

/**
 * Whether the running tree has patch `id` applied. Every hunk of a modelled patch asks this
 * with the patch's id, so that grepping the id finds all of them.
 */
export function patched(id: string): boolean {
  const m = machine();
  if (!m.tree.known.has(id)) throw new Error(`unknown patch id '${id}'`);
  patchesAsked?.add(id);
  return m.tree.patches.has(id);
}

/** The patch ids patched() has been asked about while `askedWhile` runs. */
let patchesAsked: Set<string> | undefined;

/**
 * Runs `f` and says which patch ids the model asked patched() about meanwhile. The model learns
 * its tree only through patched(), so a deterministic run on another tree that answers each of
 * those ids alike asks the same and does the same (see cli/same-answers.ts).
 */
export function askedWhile<T>(f: () => T): { value: T; asked: string[] } {
  const outer = patchesAsked;
  const asked = new Set<string>();
  patchesAsked = asked;
  try {
    const value = f();
    return { value, asked: [...asked].sort() };
  } finally {
    if (outer) for (const id of asked) outer.add(id);
    patchesAsked = outer;
  }
}

/**
 * smp_processor_id(): the CPU the running thread is on. Each thread stays on one CPU: the one
 * it is bound to, else thread i on CPU i mod nr_cpu_ids.
 */
export function* smp_processor_id(): Gen<number> {
  const me = yield* self();
  const m = machine();
  return m.boundTo.get(me.tid) ?? me.tid % m.nr_cpu_ids;
}
