// HTTP to the Fieldhand backend (docs/api.md): JSON in and out, the session cookie, the CSRF
// header on every state-changing request, explicit timeouts, and two typed failures: the
// request never got an answer (NetworkError) or the backend answered with an error (ApiError).

import type {
  DeviceResponse,
  Group,
  IngestResult,
  Label,
  Operation,
  OperationIn,
  User,
} from './types';

export class NetworkError extends Error {
  override name = 'NetworkError';
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiOptions {
  fetch?: FetchLike;
  /** Prefix for every path; '' means the app's own origin. */
  base?: string;
  /** The CSRF token to send, or null when there is none yet. */
  csrf?: () => string | null;
  timeoutMs?: number;
  /** Queue telemetry sent with every request (X-Fieldhand-Queue), or null for none. */
  queueReport?: () => string | null;
}

interface RequestOptions {
  json?: unknown;
  form?: FormData;
  timeoutMs?: number;
  query?: Record<string, string>;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface SessionResponse {
  user: User;
  csrf_token: string;
}

export interface GroupsResponse {
  items: Group[];
  source: 'platform' | 'cache';
  synced_at: string | null;
  message?: string | null;
  convention?: string | null;
  /** Whether the signed-in user may create groups (older backends: absent). */
  can_create?: boolean;
  /** The roles that may create groups. */
  creators?: string[];
}

export interface DecodeResponse {
  codes: { text: string; label: Label | null; error: string | null }[];
  elapsed_ms: number;
}

/** A thin client for the backend's JSON API. */
export class Api {
  private readonly fetchImpl: FetchLike;
  private readonly base: string;
  private readonly csrf: () => string | null;
  private readonly timeoutMs: number;
  private readonly queueReport: () => string | null;

  constructor(options: ApiOptions = {}) {
    this.queueReport = options.queueReport ?? (() => null);
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.base = options.base ?? '';
    this.csrf = options.csrf ?? (() => null);
    this.timeoutMs = options.timeoutMs ?? 20_000;
  }

  /** Send one request; resolve with the parsed body or throw ApiError/NetworkError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    }
    const report = this.queueReport();
    if (report) headers['X-Fieldhand-Queue'] = report;
    if (UNSAFE.has(method)) {
      const token = this.csrf();
      if (token) headers['X-CSRFToken'] = token;
    }
    let url = this.base + path;
    if (options.query) url += '?' + new URLSearchParams(options.query).toString();

    // The deadline covers the body too: a connection that stalls after the headers (a phone
    // walking out of coverage) must fail the request, or the sync run waits on it for ever.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? this.timeoutMs);
    let response: Response;
    let data: unknown = null;
    try {
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          body,
          credentials: 'same-origin',
          cache: 'no-store',
          signal: controller.signal,
        });
      } catch (error) {
        throw new NetworkError(error instanceof Error ? error.message : String(error));
      }
      if (response.status === 204) return undefined as T;
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        if (controller.signal.aborted) throw new NetworkError('The connection stalled while reading the answer.');
        throw new NetworkError(error instanceof Error ? error.message : String(error));
      }
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = null;
      }
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const err = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
      throw new ApiError(
        response.status,
        err?.code ?? `http_${response.status}`,
        err?.message ?? (response.statusText || `HTTP ${response.status}`),
        err?.details ?? {},
      );
    }
    return data as T;
  }

  /** Ask the backend whether it is there: true only for a real 2xx answer. */
  async health(timeoutMs = 5_000): Promise<boolean> {
    try {
      await this.request('GET', '/api/health', { timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  login(username: string, password: string): Promise<SessionResponse> {
    return this.request('POST', '/api/auth/login', { json: { username, password } });
  }

  logout(): Promise<void> {
    return this.request('POST', '/api/auth/logout', { timeoutMs: 5_000 });
  }

  me(): Promise<SessionResponse> {
    return this.request('GET', '/api/auth/me', { timeoutMs: 10_000 });
  }

  /** Who the browser's cookie signs in, if anyone (no 401 for no one). */
  cookieSession(timeoutMs: number): Promise<SessionResponse | { user: null; csrf_token: null }> {
    return this.request('GET', '/api/auth/me', { timeoutMs, query: { optional: 'true' } });
  }

  postOperations(operations: OperationIn[]): Promise<{ results: IngestResult[] }> {
    return this.request('POST', '/api/operations', { json: { operations }, timeoutMs: 30_000 });
  }

  getOperations(ids: string[]): Promise<{ items: Operation[] }> {
    return this.request('GET', '/api/operations', { query: { ids: ids.join(',') } });
  }

  myOperationsSince(since: string): Promise<{ items: Operation[] }> {
    return this.request('GET', '/api/operations', { query: { mine: 'true', since } });
  }

  device(tuid: string): Promise<DeviceResponse> {
    return this.request('GET', `/api/devices/${encodeURIComponent(tuid)}`, { timeoutMs: 8_000 });
  }

  groups(): Promise<GroupsResponse> {
    return this.request('GET', '/api/groups', { timeoutMs: 10_000 });
  }

  createGroup(group_id: string, description: string | null): Promise<Group> {
    return this.request('POST', '/api/groups', { json: { group_id, description } });
  }

  decodeLabelPhoto(image: Blob, filename = 'label.jpg'): Promise<DecodeResponse> {
    const form = new FormData();
    form.append('image', image, filename);
    return this.request('POST', '/api/labels/decode', { form, timeoutMs: 30_000 });
  }
}
