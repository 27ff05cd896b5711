// The sync policy: send the outbox to POST /api/operations in batches, then follow what the
// backend does with each operation. It decides when to try again (capped exponential backoff
// with jitter), pauses on 401 until the user signs in again, refreshes the CSRF token once on
// csrf_failed, and isolates a bad item by splitting a refused batch. Connectivity is a real
// request to /api/health, never navigator.onLine. No DOM here: the page and the service worker
// both run it; the caller wires the triggers (start, `online`, Background Sync, the user).

import { ApiError, type Api } from './api';
import * as outbox from './outbox';
import { loadSession, markSessionExpired, refreshSession } from './session';
import type { OutboxOp } from './types';

export interface SyncClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1) for jitter. */
  random(): number;
}

export const systemClock: SyncClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

export interface SyncOptions {
  api: Api;
  clock?: SyncClock;
  /** Operations per request; at most 100. */
  batchSize?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** How soon to look again while the backend is still working on our operations. */
  followEveryMs?: number;
  /** How often to look when there is nothing to send or follow. */
  idleEveryMs?: number;
  /** Schedule the next run by itself (the page); false for a one-shot run (Background Sync). */
  schedule?: boolean;
}

/**
 * How a run ended. `done`: everything sendable was sent; `offline`: /api/health did not answer;
 * `retry`: a send or follow-up failed in a way worth retrying; `paused`: the session expired;
 * `signed-out`: nobody is signed in, so nothing may be sent.
 */
export type RunOutcome = 'done' | 'offline' | 'retry' | 'paused' | 'signed-out';

export interface SyncStatus {
  running: boolean;
  /** Result of the last /api/health probe; null before the first. */
  online: boolean | null;
  lastOutcome: RunOutcome | null;
  lastRunAt: number | null;
  lastError: string | null;
  /** Consecutive failed runs (drives the backoff). */
  failures: number;
  nextRunAt: number | null;
}

export const MAX_BATCH = 100;

/** Return the wait before retry number `attempt` (1-based): capped exponential, equal jitter. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true; // NetworkError, timeouts, anything unexpected
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

export class OutboxSync {
  readonly status: SyncStatus = {
    running: false,
    online: null,
    lastOutcome: null,
    lastRunAt: null,
    lastError: null,
    failures: 0,
    nextRunAt: null,
  };

  private readonly api: Api;
  private readonly clock: SyncClock;
  private batchSize: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly followEveryMs: number;
  private readonly idleEveryMs: number;
  private readonly schedule: boolean;
  private running: Promise<RunOutcome> | null = null;
  private again = false;
  private timer: unknown = null;
  private stopped = false;
  private hasInFlight = false;
  private readonly listeners = new Set<(status: SyncStatus) => void>();

  constructor(options: SyncOptions) {
    this.api = options.api;
    this.clock = options.clock ?? systemClock;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH, options.batchSize ?? MAX_BATCH));
    this.baseMs = options.backoffBaseMs ?? 2_000;
    this.capMs = options.backoffCapMs ?? 120_000;
    this.followEveryMs = options.followEveryMs ?? 10_000;
    this.idleEveryMs = options.idleEveryMs ?? 60_000;
    this.schedule = options.schedule ?? true;
  }

  /** Listen to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: SyncStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener({ ...this.status });
  }

  /**
   * Run now (start, `online`, Background Sync, the timer, the user). A trigger during a run does
   * not start a second one: the running one goes round once more and both callers get its result.
   */
  trigger(_reason = 'user'): Promise<RunOutcome> {
    this.stopped = false;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.cancelTimer();
    this.status.running = true;
    this.emit();
    this.running = this.loop().finally(() => {
      this.running = null;
      this.status.running = false;
      this.emit();
    });
    return this.running;
  }

  /** Resolve when no run is in progress. */
  async settled(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** Stop the timer (the page is going away, or tests are done). */
  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.status.nextRunAt = null;
  }

  private async loop(): Promise<RunOutcome> {
    let outcome: RunOutcome;
    do {
      this.again = false;
      try {
        outcome = await this.runOnce();
      } catch (error) {
        // Storage or programming errors: keep the queue, try again later.
        this.status.lastError = error instanceof Error ? error.message : String(error);
        outcome = 'retry';
      }
    } while (this.again && outcome === 'done');
    this.status.lastOutcome = outcome;
    this.status.lastRunAt = this.clock.now();
    if (outcome === 'done') {
      this.status.failures = 0;
      this.status.lastError = null;
    } else if (outcome === 'retry' || outcome === 'offline') {
      this.status.failures += 1;
    }
    this.scheduleNext(outcome);
    return outcome;
  }

  private scheduleNext(outcome: RunOutcome): void {
    if (!this.schedule || this.stopped) return;
    let delay: number | null;
    switch (outcome) {
      case 'retry':
      case 'offline':
        delay = backoffDelay(this.status.failures, this.baseMs, this.capMs, () => this.clock.random());
        break;
      case 'done':
        delay = this.hasInFlight ? this.followEveryMs : this.idleEveryMs;
        break;
      default:
        delay = null; // paused or signed out: the next sign-in triggers a run
    }
    this.cancelTimer();
    if (delay === null) return;
    this.status.nextRunAt = this.clock.now() + delay;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.trigger('timer');
    }, delay);
  }

  /** One pass: probe, send every batch, follow what the backend has. */
  private async runOnce(): Promise<RunOutcome> {
    const session = await loadSession();
    if (!session.user) return 'signed-out';
    if (session.expired) return 'paused';
    const online = await this.api.health();
    this.status.online = online;
    this.emit();
    if (!online) return 'offline';
    const username = session.user.username;
    for (;;) {
      const batch = await outbox.nextBatch(username, this.batchSize, this.clock.now());
      if (batch.length === 0) break;
      const outcome = await this.send(batch, false);
      if (outcome !== 'done') return outcome;
    }
    return this.follow(username);
  }

  private async send(batch: OutboxOp[], csrfRefreshed: boolean): Promise<RunOutcome> {
    // Send only what is still ours to send: an action cancelled since the batch was read stays.
    const marked = await outbox.markSending(batch.map((op) => op.op_id), this.clock.now());
    if (marked.length === 0) return 'done';
    batch = marked;
    const ids = batch.map((op) => op.op_id);
    let results;
    try {
      results = (await this.api.postOperations(batch.map(outbox.toWire))).results;
    } catch (error) {
      await outbox.requeue(ids, this.clock.now());
      return this.sendFailed(batch, error, csrfRefreshed);
    }
    await outbox.recordIngest(results, this.clock.now());
    const answered = new Set(results.map((r) => r.op_id));
    const unanswered = ids.filter((id) => !answered.has(id));
    if (unanswered.length) {
      // The backend answers every item; if one is missing, keep it queued and look again later.
      await outbox.requeue(unanswered, this.clock.now());
      this.status.lastError = 'The server did not answer for every action.';
      return 'retry';
    }
    return 'done';
  }

  private async sendFailed(batch: OutboxOp[], error: unknown, csrfRefreshed: boolean): Promise<RunOutcome> {
    this.status.lastError = error instanceof Error ? error.message : String(error);
    if (isTransient(error) || !(error instanceof ApiError)) return 'retry';
    if (error.status === 401) {
      await markSessionExpired();
      return 'paused';
    }
    if (error.code === 'csrf_failed') {
      if (csrfRefreshed) return 'retry';
      const user = await refreshSession(this.api);
      if (!user) return (await loadSession()).expired ? 'paused' : 'retry';
      return this.send(batch, true);
    }
    const limit = Number(error.details.limit);
    if (Number.isFinite(limit) && limit >= 1 && limit < this.batchSize) this.batchSize = limit;
    // A 4xx for the whole request: split it until the item the backend refuses is alone, and
    // mark only that one failed (kept, with the message, for the user to retry or discard).
    if (batch.length > 1) {
      const middle = Math.ceil(batch.length / 2);
      const first = await this.send(batch.slice(0, middle), csrfRefreshed);
      if (first !== 'done') return first;
      return this.send(batch.slice(middle), csrfRefreshed);
    }
    const [only] = batch;
    if (only) await outbox.markRejected(only.op_id, { code: error.code, message: error.message }, this.clock.now());
    return 'done';
  }

  private async follow(username: string): Promise<RunOutcome> {
    const following = await outbox.toFollow(username, this.clock.now());
    this.hasInFlight = following.some((op) => outbox.IN_FLIGHT_STATES.has(op.state));
    for (let i = 0; i < following.length; i += MAX_BATCH) {
      const ids = following.slice(i, i + MAX_BATCH).map((op) => op.op_id);
      try {
        const { items } = await this.api.getOperations(ids);
        await outbox.applyServerStates(items, this.clock.now());
      } catch (error) {
        this.status.lastError = error instanceof Error ? error.message : String(error);
        if (error instanceof ApiError && error.status === 401) {
          await markSessionExpired();
          return 'paused';
        }
        return isTransient(error) ? 'retry' : 'done';
      }
    }
    const after = await outbox.toFollow(username, this.clock.now());
    this.hasInFlight = after.some((op) => outbox.IN_FLIGHT_STATES.has(op.state));
    return 'done';
  }
}
