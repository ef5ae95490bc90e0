// Small concurrent programs described as data, for the differential test of DPOR against
// exhaustive DFS: threads of reads, writes, read-modify-writes, locked sections, blocking
// waits, choices and fault points over a few shared cells.

import type { Program } from '../engine/execution.js';
import { choose, fault, type Gen } from '../engine/ops.js';
import { acquire, Cell, fetchAdd, load, Lock, release, store, waitFor } from './toy.js';

export type Instr =
  | { readonly k: 'read'; readonly cell: number }
  | { readonly k: 'write'; readonly cell: number; readonly value: number }
  | { readonly k: 'rmw'; readonly cell: number }
  | { readonly k: 'wait'; readonly cell: number; readonly value: number }
  | { readonly k: 'choose'; readonly cell: number }
  | { readonly k: 'fault' }
  | { readonly k: 'locked'; readonly lock: number; readonly body: readonly Instr[] };

export interface GeneratedProgram {
  readonly cells: number;
  readonly locks: number;
  readonly threads: readonly (readonly Instr[])[];
}

/** The number of atomic steps a thread takes at most. */
export function stepsOf(instrs: readonly Instr[]): number {
  let n = 0;
  for (const i of instrs) n += i.k === 'locked' ? 2 + stepsOf(i.body) : i.k === 'choose' || i.k === 'fault' ? (i.k === 'choose' ? 1 : 0) : 1;
  return n;
}

export function generatedProgram(g: GeneratedProgram): Program {
  return {
    setup() {
      const cells = Array.from({ length: g.cells }, (_, i) => new Cell(`c${i}`));
      const locks = Array.from({ length: g.locks }, (_, i) => new Lock(`L${i}`));
      const seen: string[][] = g.threads.map(() => []);
      function* run(instrs: readonly Instr[], me: number): Gen<boolean> {
        for (const i of instrs) {
          switch (i.k) {
            case 'read':
              seen[me]!.push(`r${i.cell}=${yield* load(cells[i.cell]!)}`);
              break;
            case 'write':
              yield* store(cells[i.cell]!, i.value);
              break;
            case 'rmw':
              seen[me]!.push(`a${i.cell}=${yield* fetchAdd(cells[i.cell]!, 1)}`);
              break;
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
                seen[me]!.push('failed');
                return false;
              }
              break;
            case 'locked': {
              yield* acquire(locks[i.lock]!, me);
              const ok = yield* run(i.body, me);
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
          name: `T${me}`,
          *body() {
            yield* run(instrs, me);
          },
        })),
        outcome: () => `${cells.map((c) => c.value).join(',')}|${seen.map((s) => s.join(' ')).join('|')}`,
      };
    },
  };
}
