// What a model shows of its state between steps, for the reader of an interleaving (the trace
// viewer's state panel, the counter tracks of a Perfetto trace). The engine knows nothing of what
// the sections are; a world that can say its state gives `state()` (execution.ts World), and an
// execution asked to capture it (ExecutionOptions.captureState) reads it after setup and after
// every step. Exploration never does: only the replay of a finding pays for it.

/** One thing in the state: `key` names it (stable from step to step), `value` says it as text. */
export interface StateRow {
  readonly key: string;
  readonly value: string;
  /** Numbers of it to draw as counter tracks (a refcount, a percpu_ref's count), by name. */
  readonly counters?: Readonly<Record<string, number>>;
}

/** A kind of thing in the state ("struct page", "dev_pagemap"), and its rows. */
export interface StateSection {
  readonly name: string;
  readonly rows: readonly StateRow[];
}

export interface ModelState {
  readonly sections: readonly StateSection[];
}

/** The section of the engine's own: the threads that are blocked, and what each waits for. */
export const BLOCKED_SECTION = 'blocked threads';
