// zonedev/engine: the checking engine as a library. A program is a set of threads written as
// generators that announce each atomic step and what it touches (ops.ts); explore() runs every
// interleaving of them (and every choice and injected failure) that the strategy covers, and
// reports what failed; replay() runs one again from its decisions. The engine knows nothing of
// the kernel: see examples/library-bank-transfer.ts for a program of its own.

export { explore, type ExploreOptions, type ExploreResult, type Finding, replay, ReplayMismatch, STRATEGIES, type StopReason, type StrategyName } from './explore.js';
export { type Execution, type FinalReport, ModelError, type Program, type ThreadSpec, type TraceStep, type World } from './execution.js';
export {
  type Access,
  type AccessKind,
  addAndTest,
  addTo,
  block,
  choose,
  Failure,
  fault,
  frame,
  type Gen,
  join,
  log,
  read,
  readObserving,
  awaitObserving,
  report,
  self,
  spawn,
  step,
  type Thread,
  update,
  where,
  write,
  writeStoring,
} from './ops.js';
export type { ModelState, StateRow, StateSection } from './state.js';
export { decodeToken, encodeToken, type ReplayRecord } from './token.js';
