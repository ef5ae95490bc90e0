// Memory that can go away, checked on every access: the model's KASAN and kmemleak, and the
// page-fault oops of touching a struct page whose memmap was removed (mm/kasan/report.c,
// mm/kmemleak.c, arch/x86/mm/fault.c).
//
// A tracked object is a Proxy around the real one. After it is freed (or, for a struct page,
// after its memory section is removed) every read or write of it throws the finding the
// kernel would report. Tracked objects must not use #private fields.

import { Failure, type Site } from '../../engine/ops.js';

export type Poison = 'freed' | 'unmapped';

export interface Tracked {
  /** What the object is, e.g. "struct pci_p2pdma" or "struct page (pfn 0x100000)". */
  readonly what: string;
  /** Who allocated it, e.g. "pci_p2pdma_setup". */
  readonly allocatedBy: string;
  poison: Poison | undefined;
  /** Slab objects are checked for leaks at the end of a scenario; struct pages are not. */
  readonly slab: boolean;
  /** The object behind the proxy. */
  readonly target: object;
  /** Where it was allocated (KASAN's alloc track, kmemleak's backtrace). */
  readonly allocated: Site | undefined;
  /** Where it was freed or unmapped (KASAN's free track). */
  gone: Site | undefined;
}

const state = new WeakMap<object, Tracked>();

/** The report of an access to poisoned memory. */
function fault(t: Tracked, prop: string | symbol, access: 'read' | 'write'): void {
  if (typeof prop === 'symbol') return;
  if (t.poison === 'freed') throw new Failure('kasan', `BUG: KASAN: use-after-free: ${access} of ${t.what}.${prop} (allocated by ${t.allocatedBy})`, alloc_free_tracks(t));
  throw new Failure('panic', `BUG: unable to handle page fault: ${access} of ${t.what}.${prop}, whose memmap has been removed`, track_lines('The memmap was removed by', t.gone));
}

/** KASAN's alloc and free tracks of a freed object (print_report()'s "Allocated by" and "Freed by"). */
export function alloc_free_tracks(t: Tracked): string[] {
  return [...track_lines('Allocated by', t.allocated), ...track_lines('Freed by', t.gone)];
}

/**
 * mm/kasan/report.c print_track(): "Allocated by task <pid>:" (here the task's name and the
 * step of the interleaving), then its stack, innermost first.
 */
export function track_lines(what: string, at: Site | undefined): string[] {
  if (!at) return [];
  return [`${what} task ${at.thread} in step ${at.step}:`, ...backtrace_lines(at.stack)];
}

/** A stack as the kernel's reports print it: one function a line, innermost first. */
export function backtrace_lines(stack: readonly string[]): string[] {
  return [...stack].reverse().map((fn) => ` ${fn}`);
}

/** Wraps `obj` so that every access after it is poisoned is reported; `allocated`: where (for the reports). */
export function track<T extends object>(obj: T, what: string, allocatedBy: string, slab: boolean, allocated?: Site): T {
  const t: Tracked = { what, allocatedBy, poison: undefined, slab, target: obj, allocated, gone: undefined };
  // The traps hold their object's record: every access of a tracked object goes through them.
  const proxy = new Proxy(obj, {
    get(target, prop, receiver) {
      if (t.poison) fault(t, prop, 'read');
      return Reflect.get(target, prop, receiver) as unknown;
    },
    set(target, prop, value, receiver) {
      if (t.poison) fault(t, prop, 'write');
      return Reflect.set(target, prop, value, receiver);
    },
  });
  state.set(obj, t);
  state.set(proxy, t);
  return proxy;
}

/** The tracking record of `obj`, if it is tracked. */
export function tracked(obj: object): Tracked | undefined {
  return state.get(obj);
}

/** The objects allocated in one machine, for kmemleak. */
export class SlabRegistry {
  private readonly live = new Set<object>();

  add(obj: object): void {
    this.live.add(obj);
  }

  remove(obj: object): void {
    this.live.delete(obj);
  }

  /** What is still allocated: kmemleak's unreferenced objects at the end of a scenario. */
  leaks(): { what: string; allocatedBy: string; allocated: Site | undefined }[] {
    const out: { what: string; allocatedBy: string; allocated: Site | undefined }[] = [];
    for (const o of this.live) {
      const t = state.get(o);
      if (t) out.push({ what: t.what, allocatedBy: t.allocatedBy, allocated: t.allocated });
    }
    return out;
  }
}

/**
 * The shared objects that make up a tracked object's memory: itself and the objects its fields
 * hold (counters, locks, embedded structs). Freeing or unmapping it writes all of them.
 */
export function memoryOf(obj: object): object[] {
  const t = state.get(obj);
  if (!t) return [obj];
  const out: object[] = [obj];
  for (const v of Object.values(t.target)) if (typeof v === 'object' && v !== null) out.push(v as object);
  return out;
}

/** The structs embedded in a tracked allocation (see embedMember()). */
const embedded = new WeakMap<object, object[]>();

/**
 * Declares `member` a struct embedded in `container` (a percpu_ref inside struct pci_p2pdma):
 * part of the container's memory, unlike an object a field merely points to.
 */
export function embedMember(container: object, member: object, target?: object): void {
  const list = embedded.get(container);
  if (list) list.push(member);
  else embedded.set(container, [member]);
  if (target) members.set(member, { target, container });
}

/** For an embedded member's own proxy (p2pdma's member()): the struct behind it and its container. */
const members = new WeakMap<object, { readonly target: object; readonly container: object }>();

/**
 * The memory of `obj` as a debugger reads it, without faulting: the object behind its proxies
 * (its own and, for an embedded struct, its container's), and what became of it when it is
 * gone. For showing the state (kernel/inspect.ts), never for model code.
 */
export function peek_memory<T extends object>(obj: T): { readonly raw: T; readonly gone: Poison | undefined } {
  let raw: object = obj;
  let gone: Poison | undefined;
  for (let guard = 0; guard < 8; guard++) {
    const m = members.get(raw);
    if (m) {
      gone ??= state.get(m.container)?.poison;
      raw = m.target;
      continue;
    }
    const t = state.get(raw);
    if (!t || t.target === raw) break;
    gone ??= t.poison;
    raw = t.target;
  }
  gone ??= state.get(raw)?.poison;
  return { raw: raw as T, gone };
}

/** The shared objects of an allocation's own memory: itself and the structs embedded in it. */
export function ownMemoryOf(obj: object): object[] {
  return [obj, ...(embedded.get(obj) ?? [])];
}

/** Marks `obj` as gone (`at`: where, for the reports): any later access is a finding. */
export function poison(obj: object, how: Poison, at?: Site): void {
  const t = state.get(obj);
  if (!t) throw new Error('poison() of an object that is not tracked');
  t.poison = how;
  t.gone = at;
}

/**
 * &obj->field: the object of an embedded member (a list head, a counter, a lock), found by
 * address arithmetic, which reads none of obj's memory and so is never a KASAN report. A
 * footprint names a member this way: the step that then touches the member reports the access,
 * not the earlier step that announced it.
 */
export function memberOf<T extends object, K extends keyof T>(obj: T, field: K): T[K] {
  const t = state.get(obj);
  return (t ? (t.target as T) : obj)[field];
}

/** Whether `obj` has been freed or unmapped. Reading this is not an access of the object. */
export function isPoisoned(obj: object): boolean {
  return state.get(obj)?.poison !== undefined;
}
