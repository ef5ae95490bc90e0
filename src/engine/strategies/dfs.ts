// Exhaustive depth-first search over every schedule and every choice: the reference the
// reductions are checked against.

import { type SchedNode, TreeScheduler } from './tree.js';

export class Dfs extends TreeScheduler {
  protected initialBacktrack(node: Pick<SchedNode, 'allowed'>): Iterable<number> {
    return node.allowed;
  }
}
