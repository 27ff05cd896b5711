// A clock the test moves by hand: timers fire only when `advance` passes their time.
import type { SyncClock } from '../src/core/sync';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualClock implements SyncClock {
  time = Date.UTC(2026, 10, 22, 8, 0, 0);
  randomValue = 0.5;
  private timers: Timer[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  random(): number {
    return this.randomValue;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.time + ms, fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Delay until the next timer, or null when none is set. */
  nextDelay(): number | null {
    if (this.timers.length === 0) return null;
    return Math.min(...this.timers.map((t) => t.at)) - this.time;
  }

  /** Move time forward and fire every timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = until;
  }
}
