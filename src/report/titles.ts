// Finding titles the way syzbot forms them from a kernel report: the kind of crash and the
// function it happened in ("KASAN: use-after-free Read in pci_alloc_p2pmem", "WARNING in
// p2pmem_alloc_mmap", "INFO: task hung in memunmap_pages", "memory leak in percpu_ref_init"),
// so that a title can be grepped for in syzbot's dashboard, lore and the kernel's git log.
//
// The function is the one the kernel's report names: the innermost frame of the stack that is
// not inlined into its caller (include/linux/compiler.ts) and not one of the frames a report
// parser passes over to find the culprit (the sleeping primitive a hung task waits in, the
// allocator of a leaked object) — the idea of syzkaller's frame skip list, with the frames
// this model has.
//
// The model's own line (what was accessed, which object, who allocated it) stays as the
// finding's description: the first line of its report.

import { is_inline } from '../kernel/include/linux/compiler.js';

/** Frames a hung task's report passes over: where it sleeps, not what it was doing. */
const SLEEPING = new Set([
  'wait_for_completion',
  'wait_for_completion_timeout',
  'wait_for_completion_killable',
  '__wait_for_common',
  'schedule',
  'schedule_timeout',
  'mutex_lock',
  'mutex_lock_nested',
  'down_read',
  'down_write',
]);

/** Allocator frames a leak's backtrace passes over, to the function that asked for the memory. */
const ALLOCATORS = /^(kmalloc|__kmalloc|kzalloc|kcalloc|kmem_cache_alloc|kmemdup|krealloc|__alloc_percpu|alloc_percpu|__alloc_percpu_gfp|pcpu_alloc|devm_kmalloc|devm_kzalloc|devres_alloc|alloc_dr|kmalloc_node|kzalloc_node|vmalloc|vzalloc)$/;

/** The function a report names for a stack (outermost first): the innermost frame not inlined or skipped. */
export function culprit(stack: readonly string[], skip: (fn: string) => boolean = () => false): string | undefined {
  for (let i = stack.length - 1; i >= 0; i--) {
    const fn = stack[i]!;
    if (!is_inline(fn) && !skip(fn)) return fn;
  }
  return stack.at(-1);
}

/** The frames of a "backtrace:" block in a report's lines (innermost first, as printed). */
function backtraceFrames(details: readonly string[]): string[] {
  const at = details.indexOf('backtrace:');
  if (at < 0) return [];
  const out: string[] = [];
  for (const l of details.slice(at + 1)) {
    if (!l.startsWith(' ')) break;
    out.push(l.trim());
  }
  return out;
}

/**
 * The syzbot-style title of a finding, from its kind, the model's line, the stack of the task
 * that hit it (outermost first) and the rest of its report.
 */
export function findingTitle(kind: string, description: string, stack: readonly string[], details: readonly string[]): string {
  const fn = (skip?: (f: string) => boolean): string => {
    const c = culprit(stack, skip);
    return c ? ` in ${c}` : '';
  };
  switch (kind) {
    case 'kasan': {
      const m = /^BUG: KASAN: ([a-z-]+)(?::)? ?(read|write)?/.exec(description);
      if (!m) return description;
      const access = m[2] ? ` ${m[2] === 'read' ? 'Read' : 'Write'}` : '';
      return `KASAN: ${m[1]}${access}${fn((f) => f === 'kfree' || f === 'free_percpu')}`;
    }
    case 'panic':
      if (description.startsWith('BUG: kernel NULL pointer dereference')) return `BUG: unable to handle kernel NULL pointer dereference${fn()}`;
      if (description.startsWith('BUG: unable to handle page fault')) return `BUG: unable to handle kernel paging request${fn()}`;
      return description;
    case 'bug':
      return description.startsWith('kernel BUG') ? `kernel BUG${fn()}` : description;
    case 'warn':
      return `WARNING${fn()}`;
    case 'hang':
      return `INFO: task hung${fn((f) => SLEEPING.has(f))}`;
    case 'leak': {
      const frame = backtraceFrames(details).find((f) => !ALLOCATORS.test(f));
      return frame ? `memory leak in ${frame}` : description;
    }
    default:
      return description;
  }
}

/**
 * The first lines of the kernel's report for a finding: KASAN's "BUG: KASAN: <type> in
 * <function>" then "<Access> of <object> by task <comm>"; a WARN's own "WARNING: CPU: ..."
 * line, which the model gives as the report's first detail; otherwise the model's line.
 */
/** sysctl_hung_task_timeout_secs: CONFIG_DEFAULT_HUNG_TASK_TIMEOUT's default. */
const HUNG_TASK_TIMEOUT_SECS = 120;

export function reportHeader(f: { readonly kind: string; readonly description: string; readonly stack: readonly string[]; readonly thread: string; readonly tid?: number; readonly details: readonly string[] }): string[] {
  if (f.kind === 'warn' && f.details[0]?.startsWith('WARNING: CPU:')) return [f.details[0]];
  // kernel/hung_task.c check_hung_task(): "INFO: task %s:%d blocked for more than %ld seconds.",
  // at khungtaskd's first look past CONFIG_DEFAULT_HUNG_TASK_TIMEOUT (120 s); then what it waits for.
  if (f.kind === 'hang' && f.tid !== undefined) return [`INFO: task ${f.thread}:${f.tid} blocked for more than ${HUNG_TASK_TIMEOUT_SECS} seconds.`, f.description];
  if (f.kind === 'kasan') {
    const m = /^BUG: KASAN: ([a-z-]+): (read|write) of (.*)$/.exec(f.description);
    const fn = culprit(f.stack);
    if (m && fn) return [`BUG: KASAN: ${m[1]} in ${fn}`, `${m[2] === 'read' ? 'Read' : 'Write'} of ${m[3]} by task ${f.thread}`];
  }
  return [f.description];
}
