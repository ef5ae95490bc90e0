// What a scenario is: actors (threads) doing things to the modelled kernel, on a machine its
// setup builds, with end-of-scenario checks. A scenario never encodes a schedule; finding the
// bad interleaving is the checker's job. Expected verdicts per tree live in the tests.

import type { Program } from '../src/engine/execution.js';

export interface ScenarioParam {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

export interface Scenario {
  /** Fixed name, used on the command line, in tests and in reports. */
  readonly name: string;
  readonly description: string;
  /** The patch a tree must have for the scenario to apply (e.g. the code path it exercises). */
  readonly requires?: string;
  /** The patch after which the scenario no longer applies (the code path it exercises is gone). */
  readonly removedBy?: string;
  /** Runs without a kernel (the engine's examples): checked once, on no tree. */
  readonly treeless?: boolean;
  /** Size parameters, with small defaults so that exhaustive exploration stays fast. */
  readonly params: Readonly<Record<string, ScenarioParam>>;
  /** The program for `tree` with `params` (every param given, within its bounds). */
  build(tree: string, params: Readonly<Record<string, number>>): Program;
}
