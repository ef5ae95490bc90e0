// Vector clocks, the value type of happens-before (as loom's `VersionVec`): for each thread, how
// many of its events are in the past of a point of the execution.

export class VectorClock {
  private readonly counts: number[];

  constructor(counts: readonly number[] = []) {
    this.counts = counts.slice();
  }

  /** How many events of thread `tid` are in this clock's past. */
  get(tid: number): number {
    return this.counts[tid] ?? 0;
  }

  /** Records that the past holds `n` events of thread `tid`. */
  set(tid: number, n: number): void {
    while (this.counts.length < tid) this.counts.push(0);
    this.counts[tid] = n;
  }

  /** The `n`-th event of thread `tid` (from 1) is in this clock's past. */
  includes(tid: number, n: number): boolean {
    return (this.counts[tid] ?? 0) >= n;
  }

  /** Joins `other` into this clock: the past of both. */
  join(other: VectorClock): void {
    const from = other.counts;
    const into = this.counts;
    while (into.length < from.length) into.push(0);
    for (let t = 0; t < from.length; t++) if (from[t]! > into[t]!) into[t] = from[t]!;
  }

  /** Whether everything in this clock's past is in `other`'s. */
  leq(other: VectorClock): boolean {
    for (let t = 0; t < this.counts.length; t++) if (this.counts[t]! > other.get(t)) return false;
    return true;
  }

  clone(): VectorClock {
    return new VectorClock(this.counts);
  }
}
