// One execution of a program: threads, their announcements, and the events taken so far.
// Strategies drive it by picking which enabled thread takes the next step and which value
// each choice gets; the execution itself makes no decisions.

import { type Access, type Announcement, type ChooseOp, type CounterAdd, Failure, type Gen, type Op, type Thread } from './ops.js';
import { BLOCKED_SECTION, type ModelState } from './state.js';
import { isReadable, sameView, type StoredValue, storedValues, valueNow } from './value-views.js';

/** A thread the world starts with. */
export interface ThreadSpec {
  readonly name: string;
  readonly body: () => Thread;
  /**
   * The class of interchangeable threads this one belongs to (symmetry.ts): threads of one
   * class run the same body with the same arguments, and nothing else in the world tells them
   * apart (no per-thread state that another thread visits one by one, the same CPU). Source DPOR
   * then explores their interleavings once per permutation of them.
   */
  readonly symmetric?: string;
}

/** A finding that an end-of-execution check reports. */
export interface FinalReport {
  readonly kind: string;
  readonly title: string;
  /** More of the report, line by line (kmemleak's backtrace of the unreferenced object). */
  readonly details?: readonly string[];
}

/** What a program's setup builds: a fresh world for one execution. */
export interface World {
  readonly threads: readonly ThreadSpec[];
  /** Checks run once every thread has finished (leaks, final state). */
  readonly finalChecks?: () => readonly FinalReport[];
  /** A summary of the final state, used to compare the outcomes that strategies reach. */
  readonly outcome?: () => string;
  /** What the program can say of a deadlock, read when every thread left is blocked (lines of its report). */
  readonly hangDetails?: () => readonly string[];
  /** The model's state as a reader of the interleaving sees it (state.ts); read only when captured. */
  readonly state?: () => ModelState;
}

/** A model: something that can build a fresh world for every execution. */
export interface Program {
  setup(): World;
}

/** An error of the model itself (not a finding): exploration stops and says so. */
export class ModelError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ModelError';
  }
}

/** One step as shown to a user. */
export interface TraceStep {
  readonly index: number;
  readonly thread: string;
  readonly tid: number;
  readonly label: string;
  readonly stack: readonly string[];
  /** What happened inside the step: choices made, reports, log lines. */
  readonly notes: readonly string[];
  /** The call stack at each fault injected inside the step (the failing call's callers). */
  readonly faultStacks?: readonly (readonly string[])[];
  /** The state after the step, when the execution captured it (ExecutionOptions.captureState). */
  readonly state?: ModelState;
}

export interface RawFinding {
  readonly kind: string;
  readonly title: string;
  /** Where it happened: kind, title and the function it happened in. */
  readonly site: string;
  readonly thread: string;
  /** The thread's id, when a thread hit it (the PID of the kernel's report). */
  readonly tid?: number;
  readonly stack: readonly string[];
  /** How many steps of the trace lead to it. */
  readonly traceLength: number;
  /** How many faults were injected before it. */
  readonly faults: number;
  /** Set for findings that end the execution. */
  readonly fatal: boolean;
  /** More of the report (Failure.details). */
  readonly details?: readonly string[];
}

/** A call stack as an immutable list, so that remembering it costs nothing. */
interface Frame {
  readonly fn: string;
  readonly parent: Frame | null;
}

function frames(f: Frame | null): string[] {
  const out: string[] = [];
  for (let x = f; x; x = x.parent) out.push(x.fn);
  return out.reverse();
}

/** A Site whose stack is made into a list only when it is read: most are never read. */
class LazySite {
  private list: readonly string[] | undefined;
  constructor(
    readonly thread: string,
    private readonly frame: Frame | null,
    readonly step: number,
  ) {}

  get stack(): readonly string[] {
    return (this.list ??= frames(this.frame));
  }
}

interface ThreadState {
  readonly tid: number;
  readonly name: string;
  /** The thread's body at the bottom, then one generator per framed call in progress. */
  readonly gens: Gen<unknown>[];
  stack: Frame | null;
  /** What the thread does when next scheduled; undefined once finished. */
  pending: Announcement | undefined;
  /** The stack as it was when `pending` was announced. */
  pendingStack: Frame | null;
  finished: boolean;
  /** Spawned threads announce their exit as a step of its own, so that a join can wait for it. */
  readonly joinable: boolean;
  readonly exitObj: object;
  /** Index of the event during which this thread was spawned, or -1. */
  readonly spawnedAt: number;
  steps: number;
  /**
   * A name for the thread that does not depend on the schedule: an initial thread's name (with
   * its index when names repeat), a spawned thread's parent key and the number of the spawn
   * in the parent. Fault plans name fault points by it.
   */
  readonly key: string;
  /** How many threads this thread has spawned. */
  spawns: number;
  /** Its class of interchangeable threads (ThreadSpec.symmetric); spawned threads have none. */
  readonly symmetric: string | undefined;
  /** The choices it made before its first announcement (in no step of its own). */
  startChoices: readonly number[];
}

/** A step taken, as the partial-order reduction needs it. */
export interface Event {
  readonly tid: number;
  readonly access: readonly Access[];
  /** For a thread's first event: the event that spawned it, or -1. */
  readonly spawnedAt: number;
  readonly firstOfThread: boolean;
  /** Where this step's choices start in the execution's `choiceLog`. */
  readonly choiceAt: number;
  /** For each access that adds to a counter, the counter's value before the step (see CounterAdd). */
  readonly counts?: readonly (bigint | undefined)[];
  /** For each write with a value view, the object's value before the step and what it stores (see ValueView). */
  readonly stored?: readonly (StoredValue | undefined)[];
}

export type Status = 'running' | 'finished' | 'failed' | 'hang' | 'livelock' | 'abandoned';

/**
 * Answers the choices a thread makes. `allowed` is the number of options that may be taken;
 * `thread` is the schedule-independent key of the thread making the choice.
 */
export type Chooser = (op: ChooseOp, allowed: number, thread: string) => number;

export interface ExecutionOptions {
  readonly maxSteps: number;
  readonly maxFaults: number;
  /** Called on every step; lets a supervisor see that the model is making progress. */
  readonly heartbeat?: () => void;
  /** Keep the trace of steps (default true). Exploration does without, and replays for it. */
  readonly recordTrace?: boolean;
  /** Read the world's state after setup and after every step, into the trace (default false). */
  readonly captureState?: boolean;
}

export class Execution {
  readonly threads: ThreadState[] = [];
  readonly events: Event[] = [];
  readonly trace: TraceStep[] = [];
  readonly findings: RawFinding[] = [];
  /** Every decision made, in order: thread picks and choice values. Enough to replay. */
  readonly decisions: number[] = [];
  /** The value of every choice made, in order, those with one option left included (symmetry.ts compares them). */
  readonly choiceLog: number[] = [];
  status: Status = 'running';
  faultsUsed = 0;
  /** A thread has died of a fatal finding (an oops, a BUG, a KASAN report). */
  crashed = false;
  outcome: string | undefined;
  /** The state after setup, when captured. */
  initialState: ModelState | undefined;
  private readonly world: World;
  private notes: string[] = [];
  private faultStacks: (readonly string[])[] = [];
  /** The enabled threads of the current state, once asked for; cleared by every step. */
  private enabledNow: readonly number[] | undefined;
  private readonly recordTrace: boolean;

  constructor(
    program: Program,
    private readonly chooser: Chooser,
    private readonly options: ExecutionOptions,
  ) {
    this.recordTrace = options.recordTrace ?? true;
    this.world = guard('setup', () => program.setup());
    const names = this.world.threads.map((spec) => spec.name);
    this.world.threads.forEach((spec, i) => {
      const key = names.indexOf(spec.name) === names.lastIndexOf(spec.name) ? spec.name : `${spec.name}#${i}`;
      this.createThread(spec.name, spec.body, false, -1, key, spec.symmetric);
    });
    this.flushSetupNotes();
    if (options.captureState) this.initialState = this.capture();
    if (this.status === 'running' && this.enabled().length === 0) this.finish();
  }

  /** The world's state now, with the blocked threads. */
  private capture(): ModelState {
    const sections = guard('state', () => this.world.state?.().sections ?? []);
    const blocked = this.blocked().map((b) => ({ key: b.name, value: `waits for ${b.waitsFor}${b.stack.length ? ` in ${b.stack.at(-1)}` : ''}` }));
    return { sections: [...sections, { name: BLOCKED_SECTION, rows: blocked }] };
  }

  /** Threads that could take a step now, in id order (computed once per state). */
  enabled(): readonly number[] {
    if (this.enabledNow) return this.enabledNow;
    const out: number[] = [];
    for (const t of this.threads) if (t.pending && this.isReady(t.pending)) out.push(t.tid);
    this.enabledNow = out;
    return out;
  }

  /** The announcement of thread `tid`, if it has not finished. */
  pending(tid: number): Announcement | undefined {
    return this.threads[tid]?.pending;
  }

  /** The footprint of thread `tid`'s next step. */
  pendingAccess(tid: number): readonly Access[] {
    const t = this.threads[tid];
    return t?.pending ? this.accessOf(t, t.pending) : [];
  }

  threadName(tid: number): string {
    return this.threads[tid]?.name ?? `#${tid}`;
  }

  /** Runs one step of thread `tid`. */
  step(tid: number): void {
    const t = this.threads[tid];
    if (this.status !== 'running') throw new Error('execution is over');
    if (!t?.pending || !this.isReady(t.pending)) throw new Error(`thread ${tid} is not enabled`);
    this.decisions.push(tid);
    this.enabledNow = undefined;
    const ann = t.pending;
    const eventIndex = this.events.length;
    const access = this.accessOf(t, ann);
    const stored = storedValues(access);
    const findingsBefore = this.findings.length;
    this.events.push({
      tid,
      access,
      spawnedAt: t.spawnedAt,
      firstOfThread: t.steps++ === 0,
      choiceAt: this.choiceLog.length,
      counts: counterValues(access),
      stored,
    });
    const label = ann.op === 'step' || ann.op === 'block' ? ann.label : ann.op === 'join' ? `join ${this.threadName(ann.tid)}` : 'exit';
    const stackAtStep = t.pendingStack;
    if (this.recordTrace) {
      this.notes = [];
      this.faultStacks = [];
    }
    if (ann.op === 'exit') {
      t.pending = undefined;
      t.finished = true;
    } else {
      this.advance(t, eventIndex);
    }
    if (this.recordTrace) {
      this.trace.push({
        index: eventIndex + 1,
        thread: t.name,
        tid,
        label,
        stack: frames(stackAtStep),
        notes: this.notes,
        ...(this.faultStacks.length ? { faultStacks: this.faultStacks } : {}),
        ...(this.options.captureState ? { state: this.capture() } : {}),
      });
    }
    if (stored) checkStored(t.name, label, access, stored, this.findings.length > findingsBefore && this.findings.at(-1)!.fatal);
    this.options.heartbeat?.();
    if (this.status !== 'running') return;
    if (this.events.length >= this.options.maxSteps) {
      this.addFinding('livelock', `execution truncated: no end after ${this.options.maxSteps} steps (a livelock, or a step bound too small)`, t, true);
      this.status = 'livelock';
      return;
    }
    if (this.enabled().length === 0) this.finish();
  }

  /** Stops an execution that the strategy finds redundant. */
  abandon(): void {
    this.status = 'abandoned';
  }

  /** The threads that are blocked, with what each waits for. */
  blocked(): { tid: number; name: string; waitsFor: string; stack: readonly string[] }[] {
    const out: { tid: number; name: string; waitsFor: string; stack: readonly string[] }[] = [];
    for (const t of this.threads) {
      if (!t.pending || this.isReady(t.pending)) continue;
      const waitsFor = t.pending.op === 'block' ? t.pending.waitsFor : t.pending.op === 'join' ? `thread ${this.threadName(t.pending.tid)} to finish` : '?';
      out.push({ tid: t.tid, name: t.name, waitsFor, stack: frames(t.pendingStack) });
    }
    return out;
  }

  /** The program's thread (not a spawned one) that thread `tid` descends from. */
  private rootOf(tid: number): number {
    let t = this.threads[tid]!;
    while (t.spawnedAt >= 0) t = this.threads[this.events[t.spawnedAt]!.tid]!;
    return t.tid;
  }

  private finish(): void {
    if (this.crashed) {
      // What a killed task leaves behind (a lock held, a reference never dropped, threads
      // waiting for it) follows from its report and is not a finding of its own, and the final
      // state is not an outcome of the program.
      this.status = 'failed';
      return;
    }
    // In an order that does not depend on the schedule (the tids of spawned threads depend on
    // the order they were spawned in, and one hang must have one site): by the program's
    // thread each descends from, then by key.
    const blocked = this.blocked().sort((a, b) => this.rootOf(a.tid) - this.rootOf(b.tid) || compareKeys(this.threads[a.tid]!.key, this.threads[b.tid]!.key));
    if (blocked.length > 0) {
      const who = blocked.map((b) => `${b.name}${b.stack.length ? ` in ${b.stack.at(-1)}` : ''} waits for ${b.waitsFor}`).join('; ');
      this.findings.push({
        kind: 'hang',
        title: `task hung: ${who}`,
        site: `hang|${blocked.map((b) => `${b.stack.join('>')}:${b.waitsFor}`).join('|')}`,
        thread: blocked[0]!.name,
        tid: blocked[0]!.tid,
        stack: blocked[0]!.stack,
        traceLength: this.events.length,
        faults: this.faultsUsed,
        fatal: true,
        // The other blocked threads (the first one's stack is the finding's), with what each
        // waits for and where, innermost first.
        details: [
          ...blocked.slice(1).flatMap((b) => [`${b.name} waits for ${b.waitsFor}:`, ...[...b.stack].reverse().map((fn) => ` ${fn}`)]),
          ...guard('hang details', () => this.world.hangDetails?.() ?? []),
        ],
      });
      this.status = 'hang';
      return;
    }
    let reports: readonly FinalReport[];
    try {
      reports = guard('final checks', () => this.world.finalChecks?.() ?? []);
    } catch (e) {
      if (!(e instanceof FailureInCheck)) throw e;
      reports = [{ kind: e.failure.kind, title: e.failure.title }];
    }
    for (const r of reports) {
      this.findings.push({ kind: r.kind, title: r.title, site: `${r.kind}|${r.title}|end`, thread: '(end)', stack: [], traceLength: this.events.length, faults: this.faultsUsed, fatal: false, ...(r.details?.length ? { details: r.details } : {}) });
    }
    this.outcome = guard('outcome', () => this.world.outcome?.());
    this.status = 'finished';
  }

  private isReady(ann: Announcement): boolean {
    switch (ann.op) {
      case 'step':
      case 'exit':
        return true;
      case 'block':
        try {
          return guard('blocking condition', () => ann.ready());
        } catch (e) {
          // The condition touched memory that is gone (a Failure of the model's memory checks):
          // let the thread take its step, whose own access reports it in that thread.
          if (e instanceof ModelError && e.cause instanceof Failure) return true;
          throw e;
        }
      case 'join':
        return this.threads[ann.tid]?.finished ?? false;
    }
  }

  private accessOf(t: ThreadState, ann: Announcement): readonly Access[] {
    switch (ann.op) {
      case 'step':
      case 'block':
        return ann.access;
      case 'join': {
        const target = this.threads[ann.tid];
        return target ? [{ obj: target.exitObj, kind: 'read' }] : [];
      }
      case 'exit':
        return [{ obj: t.exitObj, kind: 'write' }];
    }
  }

  private createThread(name: string, body: () => Thread, joinable: boolean, spawnedAt: number, key: string, symmetric?: string): number {
    const tid = this.threads.length;
    const gen = guard(`creating thread ${name}`, body);
    const t: ThreadState = { tid, name, gens: [gen], stack: null, pending: undefined, pendingStack: null, finished: false, joinable, exitObj: { thread: tid }, spawnedAt, steps: 0, key, spawns: 0, symmetric, startChoices: [] };
    this.threads.push(t);
    const logged = this.choiceLog.length;
    this.advance(t, spawnedAt);
    if (this.choiceLog.length > logged) t.startChoices = this.choiceLog.slice(logged);
    return tid;
  }

  /**
   * Runs thread `t` up to its next announcement, answering immediate operations on the way. A
   * framed call's generator is pushed on the thread's stack of generators and driven directly;
   * its result, or its exception, goes back to the caller.
   */
  private advance(t: ThreadState, eventIndex: number): void {
    const gens = t.gens;
    let input: unknown = undefined;
    let thrown = false;
    let exception: unknown = undefined;
    /** The call stack where an exception was first thrown, while it unwinds. */
    let thrownAt: Frame | null = null;
    for (;;) {
      const top = gens[gens.length - 1]!;
      let r: IteratorResult<Op, unknown>;
      try {
        r = thrown ? top.throw(exception) : top.next(input);
      } catch (e) {
        if (!thrown) thrownAt = t.stack;
        if (gens.length > 1) {
          gens.pop();
          t.stack = t.stack?.parent ?? null;
          thrown = true;
          exception = e;
          continue;
        }
        t.stack = thrownAt;
        this.threadThrew(t, e);
        return;
      }
      thrown = false;
      input = undefined;
      if (r.done) {
        if (gens.length > 1) {
          gens.pop();
          t.stack = t.stack?.parent ?? null;
          input = r.value;
          continue;
        }
        t.pending = t.joinable ? { op: 'exit' } : undefined;
        t.pendingStack = null;
        t.finished = !t.joinable;
        return;
      }
      const op = r.value;
      switch (op.op) {
        case 'step':
        case 'block':
        case 'join':
          if (op.op === 'join' && !this.threads[op.tid]?.joinable) throw new ModelError(`thread ${t.name} joins thread ${op.tid}, which was not spawned`);
          t.pending = op;
          t.pendingStack = t.stack;
          return;
        case 'call':
          gens.push(op.gen);
          t.stack = { fn: op.fn, parent: t.stack };
          break;
        case 'choose': {
          if (!Number.isInteger(op.options) || op.options < 1) throw new ModelError(`thread ${t.name}: choice '${op.label}' has ${op.options} options`);
          const allowed = op.fault && this.faultsUsed >= this.options.maxFaults ? 1 : op.options;
          const value = allowed === 1 ? 0 : this.chooser(op, allowed, t.key);
          if (allowed > 1) this.decisions.push(value);
          this.choiceLog.push(value);
          if (op.fault && value !== 0) {
            this.faultsUsed++;
            if (this.recordTrace) {
              this.notes.push(`fault injected: ${op.label} fails`);
              this.faultStacks.push(frames(t.stack));
            }
          } else if (!op.fault && op.options > 1) {
            if (this.recordTrace) this.notes.push(`${op.label} = ${value}`);
          }
          input = value;
          break;
        }
        case 'spawn':
          input = this.createThread(op.name, op.body, true, eventIndex, `${t.key}/${++t.spawns}`);
          if (this.recordTrace) this.notes.push(`starts ${op.name}`);
          break;
        case 'report':
          if (this.recordTrace) this.notes.push(`${op.kind}: ${op.title}`);
          this.addFinding(op.kind, op.title, t, false, op.details);
          break;
        case 'log':
          if (this.recordTrace) this.notes.push(op.text);
          break;
        case 'self':
          input = { tid: t.tid, name: t.name };
          break;
        case 'where':
          input = new LazySite(t.name, t.stack, eventIndex + 1);
          break;
        default:
          throw new ModelError(`thread ${t.name} yielded something that is not an operation`);
      }
    }
  }

  private threadThrew(t: ThreadState, e: unknown): void {
    if (e instanceof Failure) {
      this.notes.push(`${e.kind}: ${e.title}`);
      this.addFinding(e.kind, e.title, t, true, e.details);
      // The oops kills the task, as in the kernel; the other threads run on.
      t.pending = undefined;
      t.pendingStack = null;
      t.finished = !t.joinable;
      this.crashed = true;
      return;
    }
    if (e instanceof ModelError) throw e;
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new ModelError(`thread ${t.name} threw ${msg}${t.stack ? ` in ${frames(t.stack).join(' > ')}` : ''}`);
  }

  private addFinding(kind: string, title: string, t: ThreadState, fatal: boolean, details?: readonly string[]): void {
    // A finding belongs to the step in progress, which is already an event.
    this.findings.push({ kind, title, site: `${kind}|${title}|${t.stack?.fn ?? t.name}`, thread: t.name, tid: t.tid, stack: frames(t.stack), traceLength: this.events.length, faults: this.faultsUsed, fatal, ...(details?.length ? { details } : {}) });
  }

  private flushSetupNotes(): void {
    if (this.recordTrace && this.notes.length > 0) {
      this.trace.push({ index: 0, thread: '(setup)', tid: -1, label: 'setup', stack: [], notes: this.notes, ...(this.faultStacks.length ? { faultStacks: this.faultStacks } : {}) });
      this.notes = [];
      this.faultStacks = [];
    }
  }
}

/** A Failure thrown by an end-of-execution check: a finding, like one thrown by a thread. */
class FailureInCheck extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Runs model code that is not a thread, turning ordinary exceptions into model errors. */
function guard<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelError) throw e;
    if (e instanceof Failure && what === 'final checks') throw new FailureInCheck(e);
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new ModelError(`${what} threw ${msg}`, e);
  }
}

/**
 * A write with a value view must leave the object holding what it announced it stores; a step
 * cut off by an oops (`died`) leaves what it left, which is then what the write stored.
 */
function checkStored(thread: string, label: string, access: readonly Access[], stored: (StoredValue | undefined)[], died: boolean): void {
  for (let i = 0; i < access.length; i++) {
    const s = stored[i];
    if (!s) continue;
    const now = valueNow(access[i]!);
    if (sameView(now, s.after)) continue;
    if (!died) throw new ModelError(`thread ${thread}: step '${label}' announced the value it stores, but left another`);
    // What the write left, if it can be read; otherwise a write of unknown value.
    stored[i] = isReadable(now) ? { before: s.before, after: now } : undefined;
  }
}

/** The values before a step of the counters it adds to, or nothing when it adds to none. */
export function counterValues(access: readonly Access[]): (bigint | undefined)[] | undefined {
  let counts: (bigint | undefined)[] | undefined;
  for (let i = 0; i < access.length; i++) {
    const add = access[i]!.add;
    if (add) (counts ??= new Array<bigint | undefined>(access.length))[i] = counterValue(add);
  }
  return counts;
}

/** A counter's value now; unknown when the model cannot read it (its memory is gone). */
export function counterValue(add: CounterAdd): bigint | undefined {
  try {
    return add.value();
  } catch {
    return undefined;
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
