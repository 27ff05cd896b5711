// Single mode opens a device's card for each label read. After the technician acts on a card,
// the camera comes back with the same label usually still in view: without this it would open
// the same card again (now "installed"), and a second tap would warn "already installed". The
// label just acted on is held until the camera has looked without seeing it for LEFT_VIEW_MS,
// or until the camera has run HOLD_MAX_MS since the action. Time only counts while frames are
// decoded: the minutes spent on the card, with the camera off, do not release it. The clock is
// injected so tests move time instead of sleeping.

import type { ScanClock } from './scan-memory';
import { systemScanClock } from './scan-memory';

/** How long the camera must look without seeing the held label before it counts as gone. */
export const LEFT_VIEW_MS = 1_000;
/** How long the camera may run after the action before the held label opens its card again. */
export const HOLD_MAX_MS = 6_000;
/** A gap between two decoded frames longer than this means the camera was off in between. */
const CAMERA_GAP_MS = 1_500;

export class ActedLabelHold {
  private held: string | null = null;
  /** Camera time since the action: sum of the gaps between frames while it ran. */
  private watchedMs = 0;
  private lastFrameAt: number | null = null;
  private absentSince: number | null = null;

  constructor(private readonly clock: ScanClock = systemScanClock) {}

  /** The technician acted on this device: do not reopen its card for the label still in view. */
  hold(id: string): void {
    this.held = id;
    this.watchedMs = 0;
    this.lastFrameAt = null;
    this.absentSince = null;
  }

  /** The device held, if any. */
  get holding(): string | null {
    return this.held;
  }

  /** Note a decoded frame and every device id read in it (a frame with none counts too). */
  frame(ids: readonly string[]): void {
    if (this.held === null) return;
    const now = this.clock.now();
    const gap = this.lastFrameAt === null ? 0 : now - this.lastFrameAt;
    if (gap > CAMERA_GAP_MS) {
      // The camera was off (the card was open): the label has not been seen leaving.
      this.absentSince = null;
    } else {
      this.watchedMs += gap;
    }
    this.lastFrameAt = now;
    if (ids.includes(this.held)) {
      this.absentSince = null;
    } else if (this.absentSince === null) {
      this.absentSince = now;
    }
    if ((this.absentSince !== null && now - this.absentSince >= LEFT_VIEW_MS) || this.watchedMs >= HOLD_MAX_MS) {
      this.held = null;
    }
  }

  /** Tell whether reading `id` now should be ignored. */
  ignores(id: string): boolean {
    return this.held === id;
  }

  /** Forget the hold (the technician typed the id, or chose another device). */
  release(): void {
    this.held = null;
  }
}
