// The tree of schedules and choices that the exhaustive strategies (DFS, source-set DPOR) walk
// depth-first, one execution per branch, as Shuttle's `DfsScheduler` walks its schedule prefix.
//
// Exploration is stateless: every execution replays the decisions of the current branch from a
// fresh world, then extends it. A node is a scheduling point (which thread steps) or a choice
// point (which value a choice takes). The model must be deterministic: replaying a prefix must
// meet the same enabled threads and choices, which is checked at every node.
//
// A scheduling node explores its threads in rounds. Round 0 is what the strategy picks when the
// node is new; a request to explore one of some threads there (a DPOR race reversal) is tagged
// with the round of the subtree it came from, and the requests of round k make round k + 1: a
// request of one thread puts it there at once (unless an earlier round has it), a request of
// several is resolved when round k ends, fewest threads first, then by key, against everything
// the rounds up to k + 1 hold by then. A thread is explored with a done set of the threads of
// the rounds before its own and those before it in its round (in `allowed` order); one of the
// round still open starts only once no thread can join that round before it. So what a node
// explores, and with which sleep set, depends on the set of requests its subtrees made, never
// on their order or timing: the threads of the current round, and those of the next whose
// place is certain, can be explored anywhere, in any order, as subtree tasks (subtrees.ts),
// and the tree is the same.

import { type Execution, ModelError } from '../execution.js';
import type { ChooseOp } from '../ops.js';
import type { Scheduler } from '../scheduler.js';
import type { FrozenNode, Request, Splittable, SubtreeTask, TaskEnd } from '../subtrees.js';

export interface SchedNode {
  readonly kind: 'sched';
  /** The threads enabled here. */
  readonly enabled: readonly number[];
  /** The threads the strategy may pick here (the enabled ones, narrowed by a bound). */
  readonly allowed: readonly number[];
  /** Every thread of every round so far: explored, to be explored, handed out or asleep. */
  readonly backtrack: Set<number>;
  /** The done set of `chosen`: the threads of the rounds before its own, and of its own before it. */
  done: ReadonlySet<number>;
  /** The threads not to explore here: their step starts only executions explored already. */
  readonly sleep: ReadonlySet<number>;
  chosen: number;
  /** The sleep set of the node after this one (DPOR). */
  childSleep: ReadonlySet<number>;
  /** rounds[k]: the threads of round k, in `allowed` order. rounds[fixed + 1], when there, is still open. */
  rounds: number[][];
  /** The last round whose threads are all known; its requests make the next. */
  fixed: number;
  /** The round of `chosen`. */
  chosenRound: number;
  /** Threads explored here, or handed out to a subtree task. */
  explored?: Set<number>;
  /** Requests of several threads, by key (round and threads), resolved when their round ends. */
  requests?: Map<string, { readonly tag: number; readonly initials: readonly number[] }>;
  /** Requests of one thread from the open round, placed when it is fixed. */
  later?: Set<number>;
  /** The tasks handed out here whose requests have not come back, and the round of each. */
  awaiting?: Map<string, number>;
  /** Classes of threads interchangeable here (symmetry.ts), each in id order. */
  readonly symmetric?: readonly (readonly number[])[];
}

export interface ChoiceNode {
  readonly kind: 'choice';
  readonly allowed: number;
  readonly label: string;
  chosen: number;
}

export type TreeNode = SchedNode | ChoiceNode;

const NO_THREADS: ReadonlySet<number> = new Set();

export abstract class TreeScheduler implements Scheduler, Splittable {
  readonly exhaustive = true;
  bounded = false;
  protected stack: TreeNode[] = [];
  /** Position in `stack` of the next decision of the current execution. */
  protected pos = 0;
  /**
   * Nodes above this position are replayed exactly as in the previous execution (same pick,
   * same done set): what was computed for them then still holds.
   */
  protected divergence = 0;
  /** For each event of the current execution, the position in `stack` of the node that chose it. */
  protected nodeOfEvent: number[] = [];
  private lastSched: SchedNode | undefined;
  private started = false;
  /** Nodes above this position belong to another exploration: this one explores a subtree of theirs. */
  private floor = 0;
  /** Requests for nodes above the floor, which the exploration that owns them takes in. */
  private upward = new Map<string, Request>();
  /** Set when the exploration stopped to wait for tasks it handed out. */
  private waiting = false;
  private handedOutCount = 0;

  /** The threads to explore first at a new node. */
  protected abstract initialBacktrack(node: { allowed: readonly number[]; sleep: ReadonlySet<number> }, first: number): Iterable<number>;

  /** The sleep set of a new node, from its parent's pick (DPOR); DFS sleeps nothing. */
  protected sleepOf(parent: SchedNode | undefined): ReadonlySet<number> {
    return parent?.childSleep ?? NO_THREADS;
  }

  /** Called when `node` is about to take its pick in `exec` (DPOR computes the child's sleep set). */
  protected beforeStep(_exec: Execution, _node: SchedNode, _position: number): void {}

  /** The classes of threads interchangeable at the state `exec` is in (DPOR with symmetry); none by default. */
  protected classesAt(_exec: Execution): readonly (readonly number[])[] | undefined {
    return undefined;
  }

  newExecution(): boolean {
    if (this.started && !this.nextBranch()) return false;
    this.started = true;
    this.pos = 0;
    this.nodeOfEvent = [];
    this.lastSched = undefined;
    return true;
  }

  nextChoice(op: ChooseOp, allowed: number): number {
    if (this.pos < this.stack.length) {
      const node = this.stack[this.pos++]!;
      if (node.kind !== 'choice' || node.allowed !== allowed) throw nondeterministic(`choice ${op.label}`);
      return node.chosen;
    }
    this.stack.push({ kind: 'choice', allowed, label: op.label, chosen: 0 });
    this.pos++;
    return 0;
  }

  nextThread(exec: Execution, runnable: readonly number[]): number | undefined {
    const enabled = exec.enabled();
    let node: SchedNode;
    if (this.pos < this.stack.length) {
      const n = this.stack[this.pos]!;
      if (n.kind !== 'sched' || !sameList(n.enabled, enabled)) throw nondeterministic('enabled threads');
      node = n;
    } else {
      const symmetric = this.classesAt(exec);
      // A thread interchangeable here with one asleep is asleep: what it starts is the mirror of what that one does.
      const sleep = symmetric ? closedUnder(this.sleepOf(this.lastSched), symmetric) : this.sleepOf(this.lastSched);
      const first = runnable.find((t) => !sleep.has(t));
      if (first === undefined) return undefined; // every runnable thread is asleep: redundant
      const backtrack = new Set(this.initialBacktrack({ allowed: runnable, sleep }, first));
      node = {
        kind: 'sched',
        enabled,
        allowed: runnable,
        backtrack,
        done: NO_THREADS,
        sleep,
        chosen: first,
        childSleep: NO_THREADS,
        rounds: [backtrack.size === 1 ? [first] : runnable.filter((t) => backtrack.has(t))],
        fixed: 0,
        chosenRound: 0,
        ...(symmetric ? { symmetric } : {}),
      };
      this.stack.push(node);
    }
    this.beforeStep(exec, node, this.pos);
    this.nodeOfEvent.push(this.pos);
    this.pos++;
    this.lastSched = node;
    return node.chosen;
  }

  endExecution(exec: Execution): void {
    if (this.pos < this.stack.length && exec.status !== 'abandoned') throw nondeterministic('execution ended early');
  }

  /**
   * Asks that one of `initials` (threads enabled there) be explored at the node at `position`:
   * a race's reversal, from the subtree of the node's current pick. One for a node above the
   * floor goes to the exploration that owns it.
   */
  protected request(position: number, initials: readonly number[]): void {
    const node = this.stack[position] as SchedNode;
    if (position < this.floor) {
      const r: Request = { position, tag: node.chosenRound, initials };
      const key = requestKey(r);
      if (!this.upward.has(key)) this.upward.set(key, r);
      return;
    }
    this.addRequest(node, node.chosenRound, initials);
  }

  private addRequest(node: SchedNode, tag: number, initials: readonly number[]): void {
    // Explored or to be explored there already: the backtrack set only grows.
    if (initials.some((t) => node.backtrack.has(t))) return;
    if (tag < node.fixed) throw new Error(`internal error: a request for round ${tag} after round ${node.fixed} was fixed`);
    if (initials.length > 1) {
      (node.requests ??= new Map()).set(roundKey(tag, initials), { tag, initials });
    } else if (tag === node.fixed) {
      this.place(node, initials[0]!);
    } else {
      (node.later ??= new Set()).add(initials[0]!);
    }
  }

  /** Puts `t` in the open round (the one after the fixed one). */
  private place(node: SchedNode, t: number): void {
    if (node.backtrack.has(t)) return;
    if (!node.allowed.includes(t)) {
      this.bounded = true;
      return;
    }
    node.backtrack.add(t);
    const open = node.fixed + 1;
    const round = (node.rounds[open] ??= []);
    round.push(t);
    if (round.length > 1) round.sort((a, b) => node.allowed.indexOf(a) - node.allowed.indexOf(b));
  }

  /** Moves to the next unexplored branch; false when the tree is exhausted or must wait. */
  private nextBranch(): boolean {
    const stack = this.stack;
    while (stack.length > this.floor) {
      const top = stack[stack.length - 1]!;
      if (top.kind === 'choice') {
        if (top.chosen + 1 < top.allowed) {
          top.chosen++;
          this.divergence = stack.length - 1;
          return true;
        }
      } else {
        (top.explored ??= new Set()).add(top.chosen);
        for (;;) {
          if (this.pickNext(top)) {
            this.divergence = stack.length - 1;
            return true;
          }
          if (this.blockingTasks(top).length > 0) {
            // The fixed round cannot end before the requests of its handed-out threads are in.
            this.waiting = true;
            return false;
          }
          if (!this.endRound(top)) break;
        }
      }
      stack.pop();
    }
    return false;
  }

  /** Chooses the next thread of the fixed or the open round to explore here, if any is left. */
  private pickNext(node: SchedNode): boolean {
    for (let k = node.fixed; k <= node.fixed + 1 && k < node.rounds.length; k++) {
      for (const t of node.rounds[k]!) {
        if (!startable(node, k, t)) continue;
        node.chosen = t;
        node.chosenRound = k;
        node.done = doneBefore(node, k, t);
        return true;
      }
    }
    return false;
  }

  /**
   * Ends the fixed round: resolves its requests of several threads into the open round, fewest
   * threads first, then by key, which is fixed then, and places the single-thread requests
   * from it in the one after. False when the new round is empty: the node is done.
   */
  private endRound(node: SchedNode): boolean {
    const round = node.fixed;
    if (node.requests) {
      const mine = [...node.requests].filter(([, r]) => r.tag === round);
      mine.sort(([ka, a], [kb, b]) => a.initials.length - b.initials.length || (ka < kb ? -1 : ka > kb ? 1 : 0));
      for (const [key, r] of mine) {
        node.requests.delete(key);
        if (r.initials.some((t) => node.backtrack.has(t))) continue;
        this.place(node, r.initials.find((t) => !node.sleep.has(t)) ?? r.initials[0]!);
      }
    }
    node.fixed = round + 1;
    if ((node.rounds[round + 1]?.length ?? 0) === 0) return false;
    const later = node.later;
    node.later = undefined;
    if (later) for (const t of later) this.place(node, t);
    return true;
  }

  /** The tasks handed out at `node` from its fixed round, which its end waits for. */
  private blockingTasks(node: SchedNode): string[] {
    const out: string[] = [];
    if (node.awaiting) for (const [id, round] of node.awaiting) if (round === node.fixed) out.push(id);
    return out;
  }

  // ---- subtree tasks (subtrees.ts) ----

  get splittable(): Splittable {
    return this;
  }

  /** Starts as the exploration of `task`: its prefix replayed first, nothing above its floor explored. */
  restore(task: SubtreeTask): void {
    this.stack = task.nodes.map(thaw);
    this.floor = task.floor;
    this.divergence = task.divergence;
    this.started = task.resumed;
    this.upward = new Map(task.upward.map((r): [string, Request] => [requestKey(r), r]));
    this.waiting = false;
    this.handedOutCount = task.handedOut;
  }

  /**
   * Hands one thread that is still to be explored to a new task `id`: at the node nearest the
   * root that has one, the last of its open round, else of its fixed one. Between executions
   * only. Undefined when there is none.
   */
  handOut(id: string): SubtreeTask | undefined {
    for (let p = this.floor; p < this.stack.length; p++) {
      const node = this.stack[p]!;
      if (node.kind !== 'sched') continue;
      for (let k = Math.min(node.fixed + 1, node.rounds.length - 1); k >= node.fixed; k--) {
        const round = node.rounds[k]!;
        for (let i = round.length - 1; i >= 0; i--) {
          const t = round[i]!;
          if (t === node.chosen || !startable(node, k, t)) continue;
          (node.awaiting ??= new Map()).set(id, k);
          (node.explored ??= new Set()).add(t);
          this.handedOutCount++;
          const nodes = this.stack.slice(0, p + 1).map((n) => freeze(n, true));
          nodes[p] = { ...(nodes[p] as FrozenNode & { kind: 'sched' }), chosen: t, chosenRound: k, done: [...doneBefore(node, k, t)] };
          return { id, floor: p + 1, divergence: p, resumed: false, nodes, upward: [], handedOut: 0 };
        }
      }
    }
    return undefined;
  }

  /** Takes in the requests of a finished task this exploration handed out. */
  merge(id: string, requests: readonly Request[]): void {
    for (const r of requests) {
      if (r.position < this.floor) {
        const key = requestKey(r);
        if (!this.upward.has(key)) this.upward.set(key, r);
      } else this.addRequest(this.stack[r.position] as SchedNode, r.tag, r.initials);
    }
    for (const node of this.stack) if (node.kind === 'sched' && node.awaiting?.delete(id)) break;
  }

  /** How the exploration ended: done (with the requests for nodes above its floor) or waiting. */
  end(id: string): TaskEnd {
    if (!this.waiting) return { kind: 'done', upward: [...this.upward.values()] };
    const awaiting: string[] = [];
    for (const node of this.stack) if (node.kind === 'sched' && node.awaiting) awaiting.push(...node.awaiting.keys());
    const task: SubtreeTask = { id, floor: this.floor, divergence: this.stack.length - 1, resumed: true, nodes: this.stack.map((n) => freeze(n)), upward: [...this.upward.values()], handedOut: this.handedOutCount };
    return { kind: 'waiting', task, awaiting };
  }

  blocking(): readonly string[] {
    const top = this.stack[this.stack.length - 1];
    return this.waiting && top?.kind === 'sched' ? this.blockingTasks(top) : [];
  }
}

/**
 * Whether thread `t` of round `k` can be explored now: not explored (or handed out) or asleep,
 * and, in the round still open, no thread that could still join it would come before it.
 */
function startable(node: SchedNode, k: number, t: number): boolean {
  if (node.explored?.has(t) || node.sleep.has(t)) return false;
  if (k <= node.fixed) return true;
  for (const a of node.allowed) {
    if (a === t) return true;
    if (!node.backtrack.has(a) && !node.sleep.has(a)) return false;
  }
  return true;
}

/** The done set of thread `t` of round `k`: the threads of the rounds before, and of round k before it. */
function doneBefore(node: SchedNode, k: number, t: number): ReadonlySet<number> {
  const done = new Set<number>();
  for (let j = 0; j < k; j++) for (const u of node.rounds[j]!) done.add(u);
  for (const u of node.rounds[k]!) {
    if (u === t) break;
    done.add(u);
  }
  return done.size === 0 ? NO_THREADS : done;
}

/** `threads` with every member of a class of which one is in it. */
export function closedUnder(threads: ReadonlySet<number>, classes: readonly (readonly number[])[]): ReadonlySet<number> {
  let out: Set<number> | undefined;
  for (const c of classes) {
    if (!c.some((t) => threads.has(t))) continue;
    for (const t of c) if (!threads.has(t)) (out ??= new Set(threads)).add(t);
  }
  return out ?? threads;
}

/** A node's key of a request of one of `initials` from round `tag`. */
function roundKey(tag: number, initials: readonly number[]): string {
  return `${tag}:${initials.join(',')}`;
}

function requestKey(r: Request): string {
  return `${r.position}:${roundKey(r.tag, r.initials)}`;
}

/**
 * A node as plain data, to cross to another thread. A prefix node of a handed-out task needs
 * no rounds: the task never ends one there.
 */
function freeze(n: TreeNode, prefixOnly = false): FrozenNode {
  if (n.kind === 'choice') return { kind: 'choice', allowed: n.allowed, label: n.label, chosen: n.chosen };
  const common = { kind: 'sched' as const, enabled: n.enabled, allowed: n.allowed, backtrack: [...n.backtrack], done: [...n.done], sleep: [...n.sleep], chosen: n.chosen, chosenRound: n.chosenRound, childSleep: [...n.childSleep], ...(n.symmetric ? { symmetric: n.symmetric } : {}) };
  if (prefixOnly) return { ...common, rounds: [], fixed: n.fixed, explored: [], requests: [], later: [], awaiting: [] };
  return {
    ...common,
    rounds: n.rounds.map((r) => r.slice()),
    fixed: n.fixed,
    explored: n.explored ? [...n.explored] : [],
    requests: n.requests ? [...n.requests.values()] : [],
    later: n.later ? [...n.later] : [],
    awaiting: n.awaiting ? [...n.awaiting] : [],
  };
}

function thaw(n: FrozenNode): TreeNode {
  if (n.kind === 'choice') return { ...n };
  return {
    kind: 'sched',
    enabled: n.enabled,
    allowed: n.allowed,
    backtrack: new Set(n.backtrack),
    done: new Set(n.done),
    sleep: new Set(n.sleep),
    chosen: n.chosen,
    childSleep: new Set(n.childSleep),
    rounds: n.rounds.map((r) => r.slice()),
    fixed: n.fixed,
    chosenRound: n.chosenRound,
    ...(n.explored.length > 0 ? { explored: new Set(n.explored) } : {}),
    ...(n.requests.length > 0 ? { requests: new Map(n.requests.map((r): [string, { tag: number; initials: readonly number[] }] => [roundKey(r.tag, r.initials), r])) } : {}),
    ...(n.later.length > 0 ? { later: new Set(n.later) } : {}),
    ...(n.awaiting.length > 0 ? { awaiting: new Map(n.awaiting) } : {}),
    ...(n.symmetric ? { symmetric: n.symmetric } : {}),
  };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function nondeterministic(what: string): ModelError {
  return new ModelError(`the model is not deterministic: ${what} differ when the same schedule is replayed`);
}
