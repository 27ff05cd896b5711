// A loop that runs one asynchronous step every `everyMs` until the step says stop or someone
// calls stop(). The next step is scheduled only after the previous one finished, and a stopped
// loop's late step never schedules another (each start is a new generation). The clock is
// injected so tests advance time instead of sleeping.

export interface PollClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserClock: PollClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
};

export class Poller {
  private timer: unknown = null;
  private generation = 0;

  constructor(
    private readonly clock: PollClock,
    private readonly everyMs: number,
  ) {}

  /** Tell whether a loop is running. */
  get running(): boolean {
    return this.timer !== null;
  }

  /** Run `step` every `everyMs` (the first one after a wait) while it returns true; a running loop is kept. */
  start(step: () => Promise<boolean> | boolean): void {
    if (this.timer !== null) return;
    const generation = ++this.generation;
    const tick = async () => {
      if (generation !== this.generation) return;
      let again = false;
      try {
        again = await step();
      } catch {
        again = true; // a step reports its own errors; the loop goes on
      }
      if (generation !== this.generation) return; // stopped, or a newer loop took over
      this.timer = again ? this.clock.setTimeout(() => void tick(), this.everyMs) : null;
    };
    this.timer = this.clock.setTimeout(() => void tick(), this.everyMs);
  }

  /** Stop the loop; a step already under way finishes but schedules nothing. */
  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.generation++;
  }
}
