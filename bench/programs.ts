// Parametric programs for the benchmark, each at growing sizes.

import type { Program } from '../src/engine/execution.js';
import { type Gen, step, write } from '../src/engine/ops.js';
import { Cell, load, store } from '../src/examples/toy.js';

/** N readers and one writer of one cell: 2^N traces. */
export function readersWriter(n: number): Program {
  return {
    setup() {
      const x = new Cell('x');
      return {
        threads: [
          { name: 'writer', *body(): Gen<void> { yield* store(x, 1); } },
          ...Array.from({ length: n }, (_, i) => ({ name: `reader${i}`, *body(): Gen<void> { yield* load(x); } })),
        ],
      };
    },
  };
}

/** N threads inserting distinct keys into a table of `size` slots with linear probing; keys of equal parity collide. */
export function hashTable(n: number, size = n + 1): Program {
  return {
    setup() {
      const slots = Array.from({ length: size }, (_, i) => new Cell(`slot${i}`));
      return {
        threads: Array.from({ length: n }, (_, t) => ({
          name: `insert${t}`,
          *body(): Gen<void> {
            const key = t + 1;
            for (let probe = 0; probe < size; probe++) {
              const s = slots[(key % 2 + probe) % size]!;
              // cmpxchg(&slot, 0, key): one atomic step.
              yield* step(`cmpxchg ${s.name}`, write(s));
              if (s.value === 0) {
                s.value = key;
                return;
              }
            }
          },
        })),
      };
    },
  };
}

/**
 * lastzero(N) (Abdulla et al., source-DPOR): thread 0 searches the array from the end for the
 * last zero; threads 1..N each set a[i] = a[i-1] + 1.
 */
export function lastZero(n: number): Program {
  return {
    setup() {
      const a = Array.from({ length: n + 1 }, (_, i) => new Cell(`a${i}`));
      return {
        threads: [
          {
            name: 'search',
            *body(): Gen<void> {
              for (let i = n; i >= 0; i--) if ((yield* load(a[i]!)) === 0) break;
            },
          },
          ...Array.from({ length: n }, (_, k) => ({
            name: `inc${k + 1}`,
            *body(): Gen<void> {
              const v = yield* load(a[k]!);
              yield* store(a[k + 1]!, v + 1);
            },
          })),
        ],
      };
    },
  };
}
