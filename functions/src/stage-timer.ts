/**
 * Where the time of one request goes: `lap(stage)` adds the time since the previous lap (or the
 * start) to `stage`, so a stage entered twice (two uploads) sums, and the stages add up to the
 * whole. The `stage_timings` log event carries the result as scalar fields (`<stage>Ms`), which
 * `npm run bench -- e2e` reads back from the functions' logs; in production the same lines show
 * in Cloud Logging which stage a slow request spent its time in.
 */
import type { LogFields } from './logging';

export class StageTimer {
  /** Wall-clock start, epoch ms: lines of two processes on one clock can be lined up. */
  readonly startedAt = Date.now();
  private readonly start = performance.now();
  private last = this.start;
  private readonly stages = new Map<string, number>();
  private readonly marks: Record<string, number> = {};

  lap(stage: string): void {
    const now = performance.now();
    this.stages.set(stage, (this.stages.get(stage) ?? 0) + (now - this.last));
    this.last = now;
  }

  /** Records the wall-clock time (epoch ms) of a moment, e.g. `publishedAt`. */
  mark(name: string): void {
    this.marks[name] = Date.now();
  }

  /** `startedAt`, the marks, `totalMs` and one `<stage>Ms` per stage, to 0.1 ms. */
  fields(): LogFields {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const out: LogFields = { startedAt: this.startedAt, ...this.marks };
    for (const [stage, ms] of this.stages) out[`${stage}Ms`] = round(ms);
    out.totalMs = round(this.last - this.start);
    return out;
  }
}
