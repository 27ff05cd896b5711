// The camera sees the same label many times a second: this remembers the last text read so a
// label is acted on once. In batch mode the same label is ignored for as long as it stays the
// last one read; otherwise it is ignored until it has been out of sight for REPEAT_AFTER_MS.
// The clock is injected so tests move time instead of sleeping.

/** How long a label must be unseen before reading it again counts (outside batch mode). */
export const REPEAT_AFTER_MS = 3_000;

export interface ScanClock {
  now(): number;
}

export const systemScanClock: ScanClock = { now: () => Date.now() };

export class ScanMemory {
  private lastText: string | null = null;
  private lastAt = 0;

  constructor(private readonly clock: ScanClock = systemScanClock) {}

  /**
   * Note that `text` was read; return true when it is a new read to act on, false when it is
   * the same label still in view (each sighting keeps it fresh).
   */
  isNew(text: string, batch: boolean): boolean {
    const now = this.clock.now();
    const repeat = text === this.lastText && (batch || now - this.lastAt < REPEAT_AFTER_MS);
    this.lastText = text;
    this.lastAt = now;
    return !repeat;
  }

  /** Forget the last read (a new batch, a new photo, or leaving the scan screen). */
  forget(): void {
    this.lastText = null;
  }
}
