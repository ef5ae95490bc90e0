// The engine's example programs, runnable from the command like scenarios. They do not boot a
// kernel: they show what the checker does with any generator-based concurrent model.

import type { Scenario } from '../../scenarios/scenario.js';
import type { Gen } from '../engine/ops.js';
import { acquire, Cell, load, Lock, release, store } from './toy.js';

const lostUpdate: Scenario = {
  name: 'example-lost-update',
  description: 'N threads increment a counter with a separate read and write: updates get lost',
  treeless: true,
  params: { threads: { default: 2, min: 2, max: 6, description: 'incrementing threads' } },
  build(_tree, params) {
    return {
      setup() {
        const x = new Cell('counter');
        const n = params.threads!;
        return {
          threads: Array.from({ length: n }, (_, i) => ({
            name: `inc${i}`,
            *body(): Gen<void> {
              const v = yield* load(x);
              yield* store(x, v + 1);
            },
          })),
          finalChecks: () => (x.value !== n ? [{ kind: 'bug', title: `lost update: counter is ${x.value}, not ${n}` }] : []),
          outcome: () => String(x.value),
        };
      },
    };
  },
};

const lockOrder: Scenario = {
  name: 'example-lock-order',
  description: 'two threads take two locks in opposite orders: a deadlock',
  treeless: true,
  params: {},
  build() {
    return {
      setup() {
        const a = new Lock('A');
        const b = new Lock('B');
        const body = (first: Lock, second: Lock, me: number) =>
          function* (): Gen<void> {
            yield* acquire(first, me);
            yield* acquire(second, me);
            yield* release(second);
            yield* release(first);
          };
        return { threads: [{ name: 'T0', body: body(a, b, 0) }, { name: 'T1', body: body(b, a, 1) }] };
      },
    };
  },
};

const lockedCounter: Scenario = {
  name: 'example-locked-counter',
  description: 'N threads increment a counter under a lock: nothing goes wrong',
  treeless: true,
  params: { threads: { default: 3, min: 1, max: 6, description: 'incrementing threads' } },
  build(_tree, params) {
    return {
      setup() {
        const x = new Cell('counter');
        const l = new Lock('L');
        const n = params.threads!;
        return {
          threads: Array.from({ length: n }, (_, i) => ({
            name: `inc${i}`,
            *body(): Gen<void> {
              yield* acquire(l, i);
              const v = yield* load(x);
              yield* store(x, v + 1);
              yield* release(l);
            },
          })),
          finalChecks: () => (x.value !== n ? [{ kind: 'bug', title: `lost update: counter is ${x.value}` }] : []),
        };
      },
    };
  },
};

export const EXAMPLES: readonly Scenario[] = [lostUpdate, lockOrder, lockedCounter];
