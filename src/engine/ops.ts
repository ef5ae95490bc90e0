// The protocol between a modelled thread and the engine.
//
// A thread is a generator. Before each atomic step it yields the step's announcement: the
// shared objects the step will read or write (its footprint), or a blocking condition that
// must hold before the step may run. The code between two announcements is the step and runs
// without interruption. A few other yields are "immediate": they do not end the step and are
// answered at once (entering/leaving a function frame, a nondeterministic choice, spawning a
// thread, recording a report).
//
// The engine knows nothing about what the objects are; it only compares them by identity.

/**
 * How a step touches an object. An `update` is a modification whose result the step does not
 * use, such as an atomic add (`atomic_long_add`, `this_cpu_inc`, `page_ref_inc`): two updates
 * of one object commute, so they do not conflict with each other; an update conflicts with a
 * read and with a write. A step that uses the value it changes (`cmpxchg`, `atomic_inc_return`)
 * writes; one that uses it only to test it against zero (`atomic_dec_and_test`) is a tested
 * add (CounterAdd), an update that commutes with other updates only where the values allow.
 */
export type AccessKind = 'read' | 'write' | 'update';

/** One shared object touched by a step. `obj` is compared by identity (objects or strings). */
export interface Access {
  readonly obj: unknown;
  readonly kind: AccessKind;
  /** An update of a counter whose amount the step knows (see CounterAdd). */
  readonly add?: CounterAdd;
  /** What a read uses of the object's value, or what a write stores in it (see ValueView). */
  readonly view?: ValueView;
}

/**
 * The value of an object as a step reads or writes it, for value-aware commutation
 * (value-views.ts). `value()` is the object's value now (a word, or an array of words for a
 * structure). A read gives `observe(v)`: what it takes from the value v it reads; everything the
 * step does with the object, its readiness included, must depend on that alone. A write gives
 * `stores()`: the value the object has after the step, were it taken now. Observations are
 * compared with Object.is, arrays item by item.
 */
export interface ValueView {
  value(): unknown;
  observe?(v: unknown): unknown;
  stores?(): unknown;
  /**
   * For a blocking step's read (BlockOp): false when, observing this, the step cannot be ready
   * whatever else holds (a wait for a flag to be set, seeing it clear). A race of the step with
   * the write that enabled it then cannot be reversed at that write (source-dpor.ts).
   */
  enables?(observed: unknown): boolean;
}

/**
 * What an update of a counter adds, for value-aware commutation (counter-epochs.ts): `delta`,
 * and `value()`, the counter's value now. A tested add (`testsZero`) uses its result, but
 * only to tell whether it is zero (`atomic_dec_and_test`, `atomic_long_sub_and_test`): two
 * such adds commute exactly when no order of them and the adds around them changes which of
 * them reaches zero. An add whose delta is not given commutes with plain adds only.
 */
export interface CounterAdd {
  readonly delta: bigint;
  readonly testsZero: boolean;
  readonly value: () => bigint;
  /** The counter wraps modulo this (2^64 for a 64-bit atomic); none: it never wraps. */
  readonly modulus?: bigint;
}

/** Announces the next atomic step and what it touches. */
export interface StepOp {
  readonly op: 'step';
  readonly label: string;
  readonly access: readonly Access[];
}

/**
 * Announces a step that may only run once `ready()` holds (a lock becoming free, a
 * completion being done). `access` must include a read of every object `ready()` looks at,
 * so that the engine knows which steps can enable or disable it.
 */
export interface BlockOp {
  readonly op: 'block';
  readonly label: string;
  readonly access: readonly Access[];
  readonly ready: () => boolean;
  /** What the thread waits for, shown when it never comes (hang). */
  readonly waitsFor: string;
}

/** Waits until thread `tid` has finished. */
export interface JoinOp {
  readonly op: 'join';
  readonly tid: number;
}

/** A nondeterministic choice among `options` values 0..options-1, answered immediately. */
export interface ChooseOp {
  readonly op: 'choose';
  readonly label: string;
  readonly options: number;
  /** A fault-injection point: any value other than 0 is a fault and counts against the budget. */
  readonly fault: boolean;
}

/** Starts a new thread, answered immediately with its id. */
export interface SpawnOp {
  readonly op: 'spawn';
  readonly name: string;
  readonly body: () => Thread;
}

/**
 * Calls a named function (immediate): the engine runs `gen` on top of the thread's stack of
 * generators, with `fn` as a frame of its call stack, and passes its result back to the caller.
 */
export interface CallOp {
  readonly op: 'call';
  readonly fn: string;
  readonly gen: Gen<unknown>;
}

/** Records a non-fatal finding (a warning) and carries on (immediate). */
export interface ReportOp {
  readonly op: 'report';
  readonly kind: string;
  readonly title: string;
  /** More of the report, line by line. */
  readonly details?: readonly string[];
}

/** Appends a line to the execution's log, shown with the step that wrote it (immediate). */
export interface LogOp {
  readonly op: 'log';
  readonly text: string;
}

/** Asks for the running thread's id and name (immediate). */
export interface SelfOp {
  readonly op: 'self';
}

export interface ThreadIdentity {
  readonly tid: number;
  readonly name: string;
}

/** Asks where the running thread is: its name, its call stack and its step (immediate). */
export interface WhereOp {
  readonly op: 'where';
}

/** Where a thread is: for reports that name the step and stack of an earlier event (who freed an object). */
export interface Site {
  readonly thread: string;
  /** Its call stack, outermost first. */
  readonly stack: readonly string[];
  /** The number of the step in progress, as the interleaving numbers it (0 in setup). */
  readonly step: number;
}

export type Op = StepOp | BlockOp | JoinOp | ChooseOp | SpawnOp | CallOp | ReportOp | LogOp | SelfOp | WhereOp;

/** A pending announcement: what a thread will do when it is next scheduled. */
export type Announcement = StepOp | BlockOp | JoinOp | ExitOp;

/** The engine's own announcement for a spawned thread that has returned but not yet exited. */
export interface ExitOp {
  readonly op: 'exit';
}

/** The generator type of model code returning R. */
export type Gen<R = void> = Generator<Op, R, unknown>;

/** A thread body. */
export type Thread = Gen<void>;

/**
 * A fatal finding thrown by model code: the thread dies here, the way an oops (a BUG, a bad
 * page fault, a KASAN report treated as fatal) kills the task that hit it; the other threads
 * run on, and what the dead thread leaves behind (locks held, waiters) is not reported again.
 * Any other exception thrown by model code is a fault of the model, never a finding.
 */
export class Failure extends Error {
  constructor(
    readonly kind: string,
    readonly title: string,
    /** More of the report, line by line (KASAN's "Allocated by task ..." and "Freed by task ..."). */
    readonly details: readonly string[] = [],
  ) {
    super(`${kind}: ${title}`);
    this.name = 'Failure';
  }
}

export const read = (obj: unknown): Access => ({ obj, kind: 'read' });
export const write = (obj: unknown): Access => ({ obj, kind: 'write' });
/** A commuting modification whose result the step does not use (see AccessKind). */
export const update = (obj: unknown): Access => ({ obj, kind: 'update' });
/** An add of `delta` to a counter, result unused (`atomic_long_add`); `value()` reads the counter. */
export const addTo = (obj: unknown, delta: bigint, value: () => bigint, modulus?: bigint): Access => ({ obj, kind: 'update', add: { delta, testsZero: false, value, modulus } });
/** An add of `delta` whose result is only tested against zero (`atomic_long_sub_and_test`). */
export const addAndTest = (obj: unknown, delta: bigint, value: () => bigint, modulus?: bigint): Access => ({ obj, kind: 'update', add: { delta, testsZero: true, value, modulus } });

/** A read of which the step uses only `observe(value())` (a flag test of a word: see ValueView). */
export function readObserving<V>(obj: unknown, value: () => V, observe: (v: V) => unknown): Access {
  return { obj, kind: 'read', view: { value, observe: observe as (v: unknown) => unknown } };
}

/**
 * A blocking step's read of which its readiness uses only `observe(value())`, and which cannot
 * be ready while `enables` of that observation is false (a wait for a flag, a completion).
 */
export function awaitObserving<V, O>(obj: unknown, value: () => V, observe: (v: V) => O, enables: (observed: O) => boolean): Access {
  return { obj, kind: 'read', view: { value, observe: observe as (v: unknown) => unknown, enables: enables as (o: unknown) => boolean } };
}

/** A write that leaves the object holding `stores()` (see ValueView). */
export function writeStoring<V>(obj: unknown, value: () => V, stores: () => V): Access {
  return { obj, kind: 'write', view: { value, stores } };
}

/**
 * The kind an access has when nothing is known of the values: a tested add uses its result,
 * so it is a write (counter-epochs.ts makes it an update where the values allow).
 */
export function kindOf(a: Access): AccessKind {
  return a.add?.testsZero ? 'write' : a.kind;
}

/** Whether two accesses of one object conflict: not both reads, and not both updates. */
export function conflicting(a: AccessKind, b: AccessKind): boolean {
  return a === 'write' || b === 'write' || a !== b;
}

/** The one kind a step touching an object in kinds `a` and `b` has: the same, or a write. */
export function combined(a: AccessKind, b: AccessKind): AccessKind {
  return a === b ? a : 'write';
}

/**
 * The iterator of an operation that model code delegates to with `yield*`: it yields `op` once
 * and returns what the engine answered. A plain object rather than a generator, because a
 * generator per step is a cost on the hot path.
 */
class Yield<R> {
  private yielded = false;
  constructor(
    private readonly op: Op,
    private readonly answer: (input: unknown) => R,
  ) {}

  next(input?: unknown): IteratorResult<Op, R> {
    if (this.yielded) return { value: this.answer(input), done: true };
    this.yielded = true;
    return { value: this.op, done: false };
  }

  return(value: R): IteratorResult<Op, R> {
    this.yielded = true;
    return { value, done: true };
  }

  /** The engine answered with an exception (a framed callee threw): it goes on in the caller. */
  throw(e: unknown): IteratorResult<Op, R> {
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

const nothing = (): void => undefined;
const asNumber = (v: unknown): number => v as number;

function once<R>(op: Op, answer: (input: unknown) => R): Gen<R> {
  return new Yield(op, answer) as unknown as Gen<R>;
}

/** Announces an atomic step touching `access`. */
export function step(label: string, ...access: Access[]): Gen<void> {
  return once({ op: 'step', label, access }, nothing);
}

/** Announces a step that waits until `ready()` holds. */
export function block(label: string, waitsFor: string, ready: () => boolean, ...access: Access[]): Gen<void> {
  return once({ op: 'block', label, waitsFor, ready, access }, nothing);
}

/** A nondeterministic choice among `options` values. */
export function choose(label: string, options: number): Gen<number> {
  return once({ op: 'choose', label, options, fault: false }, asNumber);
}

/** A fault-injection point: true when this call is to fail. */
export function fault(label: string): Gen<boolean> {
  return once({ op: 'choose', label, options: 2, fault: true }, (v) => (v as number) !== 0);
}

export function spawn(name: string, body: () => Thread): Gen<number> {
  return once({ op: 'spawn', name, body }, asNumber);
}

export function join(tid: number): Gen<void> {
  return once({ op: 'join', tid }, nothing);
}

export function report(kind: string, title: string, details?: readonly string[]): Gen<void> {
  return once({ op: 'report', kind, title, ...(details?.length ? { details } : {}) }, nothing);
}

/** The running thread. */
export function self(): Gen<ThreadIdentity> {
  return once({ op: 'self' }, (v) => v as ThreadIdentity);
}

/** Where the running thread is: name, call stack, step. */
export function where(): Gen<Site> {
  return once({ op: 'where' }, (v) => v as Site);
}

export function log(text: string): Gen<void> {
  return once({ op: 'log', text }, nothing);
}

/**
 * Wraps a generator function so that its calls appear as a named frame on the thread's call
 * stack. Every step a thread takes is labelled with the frames it is in.
 */
export function frame<A extends unknown[], R>(name: string, body: (...args: A) => Gen<R>): (...args: A) => Gen<R> {
  // The caller's `yield*` hands the callee's generator to the engine in one call operation
  // and gets back the callee's result: the engine drives the callee itself, so that an
  // operation deep in a call stack reaches it in one resumption, not through every `yield*`.
  const framed = function (...args: A): Gen<R> {
    return once({ op: 'call', fn: name, gen: body(...args) }, (result) => result as R);
  };
  Object.defineProperty(framed, 'name', { value: name });
  return framed;
}

/**
 * Calls `f` once per object a footprint touches, with one kind (a step that reads and updates
 * an object writes it, and so does one that touches a counter twice with a tested add), and,
 * when the footprint touches the object once, that access and its index. Footprints are short:
 * a scan beats building a map.
 */
export function forEachObject(access: readonly Access[], f: (obj: unknown, kind: AccessKind, only: Access | undefined, index: number) => void): void {
  for (let i = 0; i < access.length; i++) {
    const a = access[i]!;
    let seenBefore = false;
    for (let j = 0; j < i; j++) if (access[j]!.obj === a.obj) seenBefore = true;
    if (seenBefore) continue;
    let kind = a.kind;
    let once = true;
    for (let j = i + 1; j < access.length; j++) {
      const b = access[j]!;
      if (b.obj !== a.obj) continue;
      once = false;
      kind = a.add?.testsZero || b.add?.testsZero ? 'write' : combined(kind, b.kind);
    }
    f(a.obj, kind, once ? a : undefined, i);
  }
}
