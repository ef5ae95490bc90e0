// The live status of a check on a terminal: a line per running job (executions, cut short,
// rate, findings so far, elapsed), rewritten in place every second below the lines already
// printed; a line printed meanwhile (a cell finished) goes above the block. Only for a
// terminal: a file or a CI log gets the finished cells' lines alone.

import type { RunningJob } from './pool.js';

/** The block's lines: one per running job, each cut to `width`. */
export function liveLines(jobs: readonly RunningJob[], now: number, width: number): string[] {
  return jobs.map((j) => {
    const s = Math.max(0.001, (now - j.since) / 1000);
    const line = `  ${j.label.replace(/^scenario /, '')}: ${j.explored} executions${j.cutShort ? ` (+${j.cutShort} cut short)` : ''}, ${Math.round(j.explored / s)}/s, ${j.findings} found, ${Math.round(s)}s`;
    return line.length > width ? `${line.slice(0, Math.max(1, width - 1))}…` : line;
  });
}

export class LiveStatus {
  private shown = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly jobs: () => RunningJob[],
  ) {
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  /** Prints a line above the block. */
  log(line: string): void {
    this.erase();
    this.out.write(`${line}\n`);
    this.draw();
  }

  /** Removes the block for good. */
  stop(): void {
    clearInterval(this.timer);
    this.erase();
  }

  private draw(): void {
    this.erase();
    const lines = liveLines(this.jobs(), Date.now(), this.out.columns || 80);
    if (lines.length) this.out.write(`${lines.join('\n')}\n`);
    this.shown = lines.length;
  }

  private erase(): void {
    // Up one line and clear it, for each line of the block.
    for (let i = 0; i < this.shown; i++) this.out.write('\x1b[1A\x1b[2K');
    this.shown = 0;
  }
}
