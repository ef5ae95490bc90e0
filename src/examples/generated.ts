// Small concurrent programs described as data, for the differential test of DPOR against
// exhaustive DFS: threads of reads, writes, read-modify-writes, commuting adds (with or without
// their delta), adds whose result is tested against zero, flag tests and stores that tell their
// value (value views), locked sections, blocking waits,
// choices, fault points, assertions that end the execution and spawned children (joined at the
// end of their parent) over a few shared cells.

import type { Program } from '../engine/execution.js';
import { choose, Failure, fault, type Gen, join, spawn } from '../engine/ops.js';
import { acquire, add, addAndTestZero, addKnown, Cell, fetchAdd, load, loadBits, Lock, release, store, storeKnown, waitBits, waitFor } from './toy.js';

export type Instr =
  | { readonly k: 'read'; readonly cell: number }
  | { readonly k: 'write'; readonly cell: number; readonly value: number }
  | { readonly k: 'rmw'; readonly cell: number }
  | { readonly k: 'add'; readonly cell: number }
  | { readonly k: 'addKnown'; readonly cell: number; readonly delta: number }
  | { readonly k: 'addTest'; readonly cell: number; readonly delta: number }
  | { readonly k: 'readBits'; readonly cell: number; readonly mask: number }
  | { readonly k: 'writeKnown'; readonly cell: number; readonly value: number }
  | { readonly k: 'orBits'; readonly cell: number; readonly bits: number }
  | { readonly k: 'waitBits'; readonly cell: number; readonly mask: number; readonly value: number }
  | { readonly k: 'assert'; readonly cell: number; readonly value: number }
  | { readonly k: 'fork'; readonly body: readonly Instr[] }
  | { readonly k: 'wait'; readonly cell: number; readonly value: number }
  | { readonly k: 'choose'; readonly cell: number }
  | { readonly k: 'fault' }
  | { readonly k: 'locked'; readonly lock: number; readonly body: readonly Instr[] };

export interface GeneratedProgram {
  readonly cells: number;
  readonly locks: number;
  readonly threads: readonly (readonly Instr[])[];
  /** The cells' first values (default 0). */
  readonly initial?: readonly number[];
  /** For each thread, its class of interchangeable threads, if any (ThreadSpec.symmetric). */
  readonly symmetric?: readonly (string | undefined)[];
}

/** The number of atomic steps a thread takes at most. */
export function stepsOf(instrs: readonly Instr[]): number {
  let n = 0;
  for (const i of instrs) {
    if (i.k === 'locked') n += 2 + stepsOf(i.body);
    else if (i.k === 'fork') n += 2 + stepsOf(i.body); // the child's steps, its exit, the join
    else if (i.k === 'orBits') n += 2;
    else if (i.k !== 'fault') n += 1;
  }
  return n;
}

export function generatedProgram(g: GeneratedProgram): Program {
  return {
    setup() {
      const cells = Array.from({ length: g.cells }, (_, i) => new Cell(`c${i}`, g.initial?.[i] ?? 0));
      const locks = Array.from({ length: g.locks }, (_, i) => new Lock(`L${i}`));
      // What each thread saw, by a name that does not depend on the schedule: a child is named
      // after its parent and its place there, not after the order in which threads spawned.
      const seen = new Map<number, string[]>();
      const saw = (me: number, what: string): void => {
        const s = seen.get(me);
        if (s) s.push(what);
        else seen.set(me, [what]);
      };
      function* thread(instrs: readonly Instr[], me: number): Gen<void> {
        const children: number[] = [];
        yield* run(instrs, me, children);
        for (const c of children) yield* join(c);
      }
      function* run(instrs: readonly Instr[], me: number, children: number[]): Gen<boolean> {
        for (const i of instrs) {
          switch (i.k) {
            case 'read':
              saw(me, `r${i.cell}=${yield* load(cells[i.cell]!)}`);
              break;
            case 'write':
              yield* store(cells[i.cell]!, i.value);
              break;
            case 'rmw':
              saw(me, `a${i.cell}=${yield* fetchAdd(cells[i.cell]!, 1)}`);
              break;
            case 'add':
              yield* add(cells[i.cell]!, 1);
              break;
            case 'addKnown':
              yield* addKnown(cells[i.cell]!, i.delta);
              break;
            case 'addTest':
              saw(me, `z${i.cell}=${yield* addAndTestZero(cells[i.cell]!, i.delta)}`);
              break;
            case 'readBits':
              saw(me, `b${i.cell}&${i.mask}=${yield* loadBits(cells[i.cell]!, i.mask)}`);
              break;
            case 'writeKnown':
              yield* storeKnown(cells[i.cell]!, i.value);
              break;
            case 'orBits': {
              // c |= bits, not atomic: a load, then a store that tells what it stores.
              const old = yield* load(cells[i.cell]!);
              yield* storeKnown(cells[i.cell]!, old | i.bits);
              break;
            }
            case 'waitBits':
              yield* waitBits(cells[i.cell]!, i.mask, i.value);
              break;
            case 'assert':
              // A BUG_ON(c == value): a fatal finding that ends the execution.
              if ((yield* load(cells[i.cell]!)) === i.value) throw new Failure('bug', `T${me}: c${i.cell} == ${i.value}`);
              break;
            case 'fork': {
              const child = me * 10 + children.length + 1;
              children.push(yield* spawn(`T${child}`, () => thread(i.body, child)));
              break;
            }
            case 'wait':
              yield* waitFor(cells[i.cell]!, i.value);
              break;
            case 'choose': {
              const v = yield* choose('value', 2);
              yield* store(cells[i.cell]!, 10 + v);
              break;
            }
            case 'fault':
              if (yield* fault('step')) {
                saw(me, 'failed');
                return false;
              }
              break;
            case 'locked': {
              yield* acquire(locks[i.lock]!, me);
              const ok = yield* run(i.body, me, children);
              yield* release(locks[i.lock]!);
              if (!ok) return false;
              break;
            }
          }
        }
        return true;
      }
      return {
        threads: g.threads.map((instrs, me) => ({
          name: `T${me + 1}`,
          body: () => thread(instrs, me + 1),
          ...(g.symmetric?.[me] !== undefined ? { symmetric: g.symmetric[me] } : {}),
        })),
        outcome: () => `${cells.map((c) => c.value).join(',')}|${[...seen].sort((a, b) => a[0] - b[0]).map(([t, s]) => `${t}:${s.join(' ')}`).join('|')}`,
      };
    },
  };
}
