// A fake Fieldhand backend behind a fake fetch: the routes the sync policy uses, with switches
// for the failures it must survive (no network, 5xx, 401, CSRF expiry, lost responses, refused
// items). It stores operations by op_id like the real one, so duplicates are visible.

import type { IngestResult, Operation, OperationIn } from '../src/core/types';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

type Mode = 'ok' | 'offline' | 'error500' | 'unauthorized';

export class FakeBackend {
  mode: Mode = 'ok';
  /** The CSRF token the backend currently accepts. */
  csrf = 'csrf-1';
  /** The next POST /api/operations is answered with csrf_failed even with the right token. */
  csrfExpiresOnce = false;
  /** Every POST /api/operations is answered with csrf_failed. */
  csrfBroken = false;
  /** Store the next batch but lose the response (the network dropped it). */
  loseNextResponse = false;
  /** op_ids the backend refuses item by item, with this message. */
  refuse = new Map<string, string>();
  /** Answer a POST with more than this many operations with 413 for the whole request. */
  maxBatch = 500;
  /** What GET /api/operations reports for stored operations (default: the stored state). */
  stateOf = new Map<string, Operation['state']>();
  readonly stored = new Map<string, Operation>();
  /** How many times each op_id was stored as new (exactly once is the goal). */
  readonly acceptedCount = new Map<string, number>();
  readonly calls: Call[] = [];
  sessionValid = true;

  readonly fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input, 'https://fieldhand.test');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    this.calls.push({ method, path: url.pathname, query: url.searchParams, headers, body });
    if (this.mode === 'offline') throw new TypeError('Failed to fetch');
    if (url.pathname === '/api/health') return json(200, { status: 'ok', time: new Date().toISOString() });
    if (this.mode === 'error500') return error(500, 'internal', 'Boom');
    if (url.pathname === '/api/auth/me' && url.searchParams.get('optional') === 'true' && (this.mode === 'unauthorized' || !this.sessionValid)) {
      return json(200, { user: null, csrf_token: null });
    }
    if (this.mode === 'unauthorized' || !this.sessionValid) return error(401, 'unauthenticated', 'Sign in again.');
    if (url.pathname === '/api/auth/me') {
      this.csrf = `csrf-${this.calls.length}`;
      return json(200, { user: { id: 1, username: 'tech', display_name: 'Tech', role: 'technician' }, csrf_token: this.csrf });
    }
    if (url.pathname === '/api/operations' && method === 'POST') return this.ingest(headers, body as { operations: OperationIn[] });
    if (url.pathname === '/api/operations' && method === 'GET') {
      const ids = (url.searchParams.get('ids') ?? '').split(',');
      const items = ids.flatMap((id) => {
        const op = this.stored.get(id);
        return op ? [{ ...op, state: this.stateOf.get(id) ?? op.state }] : [];
      });
      return json(200, { items });
    }
    return error(404, 'not_found', 'No such route');
  };

  private ingest(headers: Record<string, string>, body: { operations: OperationIn[] }): Response {
    if (this.csrfBroken || this.csrfExpiresOnce || headers['X-CSRFToken'] !== this.csrf) {
      this.csrfExpiresOnce = false;
      return error(400, 'csrf_failed', 'The CSRF token is missing or expired.');
    }
    if (body.operations.length > this.maxBatch) return error(413, 'payload_too_large', 'Too many operations.');
    const results: IngestResult[] = body.operations.map((op) => {
      const refused = this.refuse.get(op.op_id);
      if (refused) return { op_id: op.op_id, result: 'rejected', operation: null, error: { code: 'validation_failed', message: refused } };
      const existing = this.stored.get(op.op_id);
      if (existing) return { op_id: op.op_id, result: 'duplicate', operation: existing, error: null };
      const stored: Operation = {
        op_id: op.op_id,
        kind: op.kind,
        tuid: op.tuid,
        args: op.args,
        state: 'accepted',
        device_time: op.device_time,
        received_at: new Date().toISOString(),
        synced_at: null,
        error: null,
      };
      this.stored.set(op.op_id, stored);
      this.acceptedCount.set(op.op_id, (this.acceptedCount.get(op.op_id) ?? 0) + 1);
      return { op_id: op.op_id, result: 'accepted', operation: stored, error: null };
    });
    if (this.loseNextResponse) {
      this.loseNextResponse = false;
      throw new TypeError('network connection was lost');
    }
    return json(200, { results });
  }

  /** Calls to one route. */
  callsTo(method: string, path: string): Call[] {
    return this.calls.filter((c) => c.method === method && c.path === path);
  }
}

function json(status: number, data: unknown): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'Content-Type': 'application/json' } });
}

function error(status: number, code: string, message: string): Response {
  return json(status, { error: { code, message, details: {} } });
}
