// Runs jobs on a pool of worker threads (piscina), one per core, under a watchdog: a job whose
// model stops making progress (a loop that never yields to the engine) is cancelled, which
// ends its worker thread, and reported as a model error.

import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { CheckJob, Job, JobOutcome, ReplayJob } from './jobs.js';

export type JobSpec = Omit<CheckJob, 'heartbeat'> | Omit<ReplayJob, 'heartbeat'>;

export interface PoolOptions {
  /** A job whose model takes no step for this long is stuck (default 20 s). */
  readonly stallMs?: number;
  readonly threads?: number;
}

export async function runJobs(specs: readonly JobSpec[], options: PoolOptions = {}, onDone?: (i: number, r: JobOutcome) => void): Promise<JobOutcome[]> {
  const stallMs = options.stallMs ?? 20_000;
  const pool = new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    maxThreads: Math.max(1, Math.min(options.threads ?? availableParallelism(), specs.length)),
    minThreads: 0,
    idleTimeout: 1000,
  });
  try {
    return await Promise.all(
      specs.map(async (spec, i) => {
        // [0]: steps taken by the model; [1]: set when a worker picks the job up.
        const heartbeat = new Int32Array(new SharedArrayBuffer(8));
        const job = { ...spec, heartbeat } as Job;
        const ctl = new AbortController();
        let last = 0;
        let lastChange = -1;
        const watch = setInterval(() => {
          if (Atomics.load(heartbeat, 1) === 0) return; // still queued
          const now = Date.now();
          const v = Atomics.load(heartbeat, 0);
          if (lastChange < 0 || v !== last) {
            last = v;
            lastChange = now;
          } else if (now - lastChange > stallMs) {
            ctl.abort();
          }
        }, 250);
        let r: JobOutcome;
        try {
          r = (await pool.run(job, { signal: ctl.signal })) as JobOutcome;
        } catch (e) {
          r = ctl.signal.aborted
            ? { error: `model error: ${describe(spec)} made no progress for ${Math.round(stallMs / 1000)} s (a loop that never yields to the engine?)` }
            : { error: `model error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
        } finally {
          clearInterval(watch);
        }
        onDone?.(i, r);
        return r;
      }),
    );
  } finally {
    await pool.destroy();
  }
}

function describe(spec: JobSpec): string {
  if (spec.kind === 'replay') return 'the replayed execution';
  const name = spec.scenario.kind === 'library' ? spec.scenario.name : spec.scenario.path;
  return `scenario ${name}${spec.tree === '-' ? '' : ` on ${spec.tree}`}`;
}
