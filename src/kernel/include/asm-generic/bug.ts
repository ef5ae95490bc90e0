// include/asm-generic/bug.h: BUG, BUG_ON, WARN, WARN_ON, WARN_ON_ONCE, WARN_ONCE.
//
// A BUG stops the thread the way the kernel's oops does: a fatal finding. A WARN prints a
// backtrace and carries on: a finding that does not stop the execution. WARN_ON returns its
// condition so that it can be used in `if`, as in the kernel. `where` names the check's place
// (file and function), standing in for the kernel's file:line.

import { Failure, type Gen, report, self } from '../../../engine/ops.js';
import { machine, smp_processor_id } from '../../machine.js';

export function BUG(where: string, what = ''): never {
  throw new Failure('bug', `kernel BUG at ${where}${what ? `: ${what}` : ''}`);
}

export function BUG_ON(condition: boolean, where: string, what = ''): void {
  if (condition) BUG(where, what);
}

export function* WARN(condition: boolean, where: string, what: string): Gen<boolean> {
  if (condition) yield* __warn(where, what);
  return condition;
}

/**
 * kernel/panic.c __warn(): "WARNING: CPU: <cpu> PID: <pid> at <file:line> <function>" with the
 * task's comm, then the backtrace (the finding's stack). The finding's description leaves the
 * CPU and PID out, so that one WARN is one finding whichever task hits it.
 */
function* __warn(where: string, what: string): Gen<void> {
  const cpu = yield* smp_processor_id();
  const me = yield* self();
  yield* report('warn', `WARNING: at ${where}: ${what}`, [`WARNING: CPU: ${cpu} PID: ${me.tid} Comm: ${me.name} at ${where}: ${what}`]);
}

export function* WARN_ON(condition: boolean, where: string, what = 'WARN_ON'): Gen<boolean> {
  return yield* WARN(condition, where, what);
}

/** Fires at most once per site in a boot, like the kernel's static __warned flag. */
export function* WARN_ONCE(condition: boolean, where: string, what: string): Gen<boolean> {
  if (!condition) return false;
  const key = `${where}|${what}`;
  const m = machine();
  if (!m.warnedOnce.has(key)) {
    m.warnedOnce.add(key);
    yield* __warn(where, what);
  }
  return true;
}

export function* WARN_ON_ONCE(condition: boolean, where: string, what = 'WARN_ON_ONCE'): Gen<boolean> {
  return yield* WARN_ONCE(condition, where, what);
}

/** A kernel panic (e.g. the oops of a fatal page fault). */
export function panic(what: string): never {
  throw new Failure('panic', what);
}
