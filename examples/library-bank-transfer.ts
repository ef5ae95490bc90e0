// The engine as a library, on a program that has nothing to do with the kernel: two tellers
// move money between two accounts, each transfer a read and a write of each balance (no lock),
// and an auditor checks that the total is kept. Run it with
//   node --import tsx examples/library-bank-transfer.ts
// explore() finds the interleavings that lose money; replay() runs the first one again.

import { explore, type Gen, type Program, read, replay, step, write } from 'zonedev/engine';

class account {
  constructor(
    readonly name: string,
    public balance: number,
  ) {}
}

/** One transfer: read both balances (one step each), then write both. */
function* transfer(from: account, to: account, amount: number): Gen<void> {
  yield* step(`read ${from.name}`, read(from));
  const a = from.balance;
  yield* step(`read ${to.name}`, read(to));
  const b = to.balance;
  yield* step(`write ${from.name}`, write(from));
  from.balance = a - amount;
  yield* step(`write ${to.name}`, write(to));
  to.balance = b + amount;
}

export const bank: Program = {
  setup() {
    const x = new account('x', 100);
    const y = new account('y', 100);
    return {
      threads: [
        { name: 'teller1', body: () => transfer(x, y, 10) },
        { name: 'teller2', body: () => transfer(y, x, 20) },
      ],
      finalChecks: () => (x.balance + y.balance !== 200 ? [{ kind: 'bug', title: 'the total is not 200', details: [`x=${x.balance} y=${y.balance}`] }] : []),
      outcome: () => `${x.balance},${y.balance}`,
    };
  },
};

const r = explore(bank, { strategy: 'dpor' });
console.log(`${r.explored} executions, complete: ${r.complete}, findings: ${r.findings.length}`);
for (const f of r.findings) console.log(`${f.kind}: ${f.title} (${f.count} of ${r.explored} executions)`);
const first = r.findings[0];
if (first) {
  const again = replay(bank, first.decisions);
  console.log(`replayed: ${again.findings.map((f) => `${f.title}, ${f.details?.join(' ')}`).join('; ')}`);
  for (const s of again.trace) console.log(`  ${s.index} ${s.thread} ${s.label}`);
}
