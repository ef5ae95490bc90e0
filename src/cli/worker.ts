// The worker-thread entry point of the pool: one job at a time.

import type { Job, JobOutcome, PlanJobOutcome } from './jobs.js';
import { runJob } from './run-job.js';

export default async function (job: Job): Promise<JobOutcome | PlanJobOutcome> {
  Atomics.store(job.heartbeat, 1, 1);
  return runJob(job);
}
