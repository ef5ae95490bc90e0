// HappensBefore.resume(): going on from the previous execution's relation after a shared prefix
// gives exactly the relation built from nothing: the same clock for every event and the same
// races, on random footprints (reads, writes, plain and tested counter adds, value views) over a
// few objects, where the new execution's prefix names new objects in place of the old ones.

import { test } from 'node:test';
import fc from 'fast-check';
import { expect } from 'expect';
import { HappensBefore, type HbEvent } from '../src/engine/happens-before.js';
import { type Access, addAndTest, addTo, read, readObserving, write, writeStoring } from '../src/engine/ops.js';

interface Touch {
  readonly obj: number;
  readonly kind: 'read' | 'write' | 'add' | 'test' | 'observe' | 'store';
  readonly value: number;
}

interface Step {
  readonly tid: number;
  readonly touches: readonly Touch[];
}

const touch = fc.record({
  obj: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom('read', 'write', 'add', 'test', 'observe', 'store') as fc.Arbitrary<Touch['kind']>,
  value: fc.integer({ min: -2, max: 2 }),
});
const steps = fc.array(fc.record({ tid: fc.integer({ min: 0, max: 2 }), touches: fc.array(touch, { minLength: 1, maxLength: 3 }) }), { maxLength: 24 });

/** The events of `steps` in a world of fresh objects (strings for object 3, which every world shares). */
function eventsOf(steps: readonly Step[]): HbEvent[] {
  const objects = [{}, {}, {}, 'shared'];
  const seen: number[] = [];
  return steps.map((s) => {
    const access: Access[] = s.touches.map((t): Access => {
      const obj = objects[t.obj]!;
      const value = (): number => t.value;
      switch (t.kind) {
        case 'read':
          return read(obj);
        case 'write':
          return write(obj);
        case 'add':
          return addTo(obj, BigInt(t.value), () => BigInt(t.value + 2));
        case 'test':
          return addAndTest(obj, BigInt(t.value || -1), () => BigInt(t.value + 1));
        case 'observe':
          return readObserving(obj, value, (v) => v & 1);
        case 'store':
          return writeStoring(obj, value, () => t.value + 1);
      }
    });
    const first = !seen.includes(s.tid);
    seen.push(s.tid);
    return {
      tid: s.tid,
      access,
      spawnedAt: -1,
      firstOfThread: first,
      counts: access.map((a) => (a.add ? a.add.value() : undefined)),
      stored: access.map((a) => (a.kind === 'write' && a.view?.stores ? { before: a.view.value(), after: a.view.stores() } : undefined)),
    };
  });
}

function relation(hb: HappensBefore, n: number): { clocks: string[]; races: string[] } {
  const clocks: string[] = [];
  const races: string[] = [];
  for (let i = 0; i < n; i++) {
    clocks.push(Array.from({ length: 3 }, (_, t) => hb.clock[i]!.get(t)).join(','));
    for (const r of hb.racesOf(i)) races.push(`${r.first}<${r.second}`);
  }
  return { clocks, races };
}

test('resume() after a shared prefix gives the relation built from nothing', () => {
  fc.assert(
    fc.property(steps, steps, steps, fc.nat(), (before, afterA, afterB, cut) => {
      const shared = before.slice(0, cut % (before.length + 1));
      const hb = new HappensBefore([]);
      hb.resume(eventsOf([...before, ...afterA]), 0);
      const next = eventsOf([...shared, ...afterB]);
      hb.resume(next, shared.length);
      const fresh = new HappensBefore(eventsOf([...shared, ...afterB]));
      expect(relation(hb, next.length)).toEqual(relation(fresh, next.length));
      // And again, going back further than the last resume's prefix.
      const again = eventsOf([...shared.slice(0, 1), ...afterA]);
      hb.resume(again, Math.min(1, shared.length));
      expect(relation(hb, again.length)).toEqual(relation(new HappensBefore(eventsOf([...shared.slice(0, 1), ...afterA])), again.length));
    }),
    { numRuns: 2000 },
  );
});
