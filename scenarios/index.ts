// The scenario library.

import type { Scenario } from './scenario.js';

export const SCENARIOS: readonly Scenario[] = [];
