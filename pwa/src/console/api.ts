// The supervisor endpoints (history, inbox, bulk jobs) on top of the shared API client. Adds
// what the console needs and the technician app does not: repeatable query parameters, a fresh
// CSRF token and one retry when the token expired, and one place that notices a lost session.

import { Api, ApiError, type SessionResponse } from '../core/api';
import type { Group, User } from '../core/types';

import type { PlatformInfo } from '../core/platform';
export { ApiError, NetworkError } from '../core/api';
export type { Group, User };

/** An account as admins see it: `sign_ins` is how many devices are signed in. */
/** Someone who can be picked in the technician filter. */
export interface Person {
  username: string;
  display_name: string;
  role: 'technician' | 'supervisor' | 'admin';
}

export interface Account {
  id: number;
  username: string;
  display_name: string;
  role: 'technician' | 'supervisor' | 'admin';
  active: boolean;
  sign_ins: number;
}

export interface Page<T> {
  items: T[];
  /** Exact up to 10,000; past that the database's estimate (`totalExact` is then false). */
  totalElements: number;
  totalExact?: boolean;
  totalPages: number;
  number: number;
  size: number;
  /** Exact even when the total is an estimate. */
  last: boolean;
  /** History and inbox: the pages beside this one, read from where this one ends however deep
   * (null at either end, and for a sort on a column that may be empty). */
  nextCursor?: string | null;
  prevCursor?: string | null;
}

export type OpState = 'accepted' | 'syncing' | 'synced' | 'failed' | 'conflict' | 'discarded';
export const OP_STATES: readonly OpState[] = ['accepted', 'syncing', 'synced', 'failed', 'conflict', 'discarded'];
export type OpKind = 'set_status' | 'set_group' | 'install' | 'remove' | 'replace' | 'undo';
export const OP_KINDS: readonly OpKind[] = ['install', 'remove', 'replace', 'set_status', 'set_group', 'undo'];

export interface PersonRef {
  username: string;
  display_name: string;
}

/** One operation as the history and the inbox list it. */
export interface HistoryItem {
  op_id: string;
  kind: OpKind;
  tuid: string;
  device_type: string;
  new_tuid: string | null;
  args: Record<string, unknown>;
  group: string | null;
  state: OpState;
  device_time: string;
  received_at: string | null;
  synced_at: string | null;
  updated_at: string | null;
  offline_delay_s: number;
  technician: PersonRef;
  seen: { status: string | null; group: string | null };
  error: { code: string; message: string } | null;
  platform: { outcome: string; http_status: number | null; message: string | null; at: string | null } | null;
  bulk_job_id: number | null;
  /** Install verification of an install or replacement: verified, waiting, silent... */
  verification?: VerificationState | null;
  /** In the inbox, for an operation the worker keeps retrying: tries so far and the next one. */
  retrying?: { attempts: number; next_try_at: string | null } | null;
}

export type VerificationState = 'waiting' | 'verified' | 'silent' | 'unavailable' | 'superseded' | 'withdrawn';

/** Whether an installed device has reported to the platform since it was installed. */
export interface Verification {
  state: VerificationState;
  tuid: string;
  group: string | null;
  device_type: string;
  installed_at: string;
  deadline_at: string;
  next_look_at: string | null;
  last_seen_at: string | null;
  verified_at: string | null;
  silent_at: string | null;
  battery_level: number | null;
  looks: number;
  platform_error: string | null;
}

export interface SilentDevice extends Verification {
  technician: PersonRef;
}

export interface PhoneQueue {
  technician: PersonRef;
  phone_id: string;
  pending: number;
  failed: number;
  oldest_unsynced_at: string | null;
  oldest_unsynced_s: number | null;
  app_version: string | null;
  last_contact_at: string;
  needs_attention: ('old' | 'failed')[];
}

export interface Overview {
  window: { from: string; days: number };
  devices: { groups: { group: string; statuses: Record<string, number> }[] };
  installs: {
    days: string[];
    technicians: { username: string; display_name: string; counts: number[]; total: number }[];
    others: number[] | null;
  };
  verification: { verified: number; waiting: number; silent: number; unavailable: number };
  phones_needing_attention: number;
  sync_failures: { failed: number; conflict: number };
}

export interface InboxCounts {
  failed: number;
  conflict: number;
  /** Not waiting for a decision: operations the worker keeps retrying. */
  retrying: number;
  /** Not waiting for a decision: operations whose drift the worker repaired. */
  drift_repaired: number;
}

export interface InboxPage extends Page<HistoryItem> {
  counts: InboxCounts;
}

export interface TimelineStep {
  step_no: number;
  tuid: string;
  action: string;
  value: string;
  state: string;
  attempts: number;
  result: string | null;
  last_error: string | null;
  completed_at: string | null;
  sync_attempts: {
    attempt_no: number;
    started_at: string | null;
    finished_at: string | null;
    outcome: string;
    http_status: number | null;
    message: string | null;
  }[];
}

export interface TimelineOperation {
  op_id: string;
  kind: OpKind;
  tuid: string;
  args: Record<string, unknown>;
  state: OpState;
  device_time: string;
  received_at: string | null;
  synced_at: string | null;
  offline_delay_s: number;
  user: PersonRef;
  seen: { status: string | null; group: string | null };
  error: { code: string; message: string } | null;
  bulk_job_id: number | null;
  steps: TimelineStep[];
}

export interface AuditEntry {
  id: number;
  at: string;
  action: string;
  user: PersonRef | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

export type TimelineEvent =
  | { type: 'operation'; at: string; operation: TimelineOperation }
  | { type: 'audit'; at: string; audit: AuditEntry };

export interface DeviceTimeline {
  tuid: string;
  device_type: string;
  local: { status: string | null; group: string | null; source: string | null; updated_at: string | null } | null;
  truncated: boolean;
  events: TimelineEvent[];
  /** The device's latest install's verification, if it was installed through Fieldhand. */
  verification?: Verification | null;
}

export interface Decision {
  operation: TimelineOperation;
  audit: { id: number; at: string; action: string; reason: string | null };
}

export type BulkAction = 'retire' | 'quarantine' | 'uninstall' | 'move';
export const BULK_ACTIONS: readonly BulkAction[] = ['retire', 'quarantine', 'uninstall', 'move'];
export type JobState = 'checking' | 'check_failed' | 'preview' | 'confirming' | 'running' | 'done' | 'cancelled';
export type Verdict = 'change' | 'already' | 'unknown' | 'duplicate' | 'invalid' | 'error';
export const VERDICTS: readonly Verdict[] = ['change', 'already', 'unknown', 'duplicate', 'invalid', 'error'];

export interface BulkSummary {
  lines: number;
  devices: number;
  /** While the dry run is `checking`: devices read from the platform so far. */
  read?: number;
  /** When it is `check_failed`: why. */
  failure?: string;
  change: number;
  already: number;
  unknown: number;
  duplicate: number;
  invalid: number;
  error: number;
  will_change: number;
}

export interface BulkProgress {
  total: number;
  by_state: Record<OpState, number>;
  done: number;
  percent: number;
  eta_s: number | null;
}

export interface BulkJob {
  id: number;
  action: BulkAction;
  kind: string;
  target: string;
  target_group: string | null;
  source: 'list' | 'csv' | 'group';
  source_detail: string | null;
  state: JobState;
  created_by: PersonRef | null;
  created_at: string;
  confirmed_at: string | null;
  finished_at: string | null;
  cancelled_at: string | null;
  summary: BulkSummary;
  progress: BulkProgress | null;
}

export interface BulkItem {
  line_no: number;
  raw: string;
  tuid: string | null;
  verdict: Verdict;
  current_status: string | null;
  current_group: string | null;
  message: string | null;
  will_change: boolean;
}

export type BulkTargets = { tuids: string[] } | { text: string } | { group_id: string };

/** Query parameters; arrays become repeated parameters, empty values are left out. */
export type Query = Record<string, string | number | boolean | readonly string[] | null | undefined>;

/** Build `?a=1&sort=x,asc&sort=y,desc` from a query, leaving out empty values. */
export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === '') continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(name, v);
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Preview requests read every device from the platform: 10,000 take about 35 s. */
// Starting a dry run reads a group's member list or an uploaded file, not every device.
const PREVIEW_TIMEOUT_MS = 2 * 60_000;
/** Confirming creates every operation in the request: allow for large jobs. */
const CONFIRM_TIMEOUT_MS = 5 * 60_000;

export class ConsoleApi {
  private token: string | null = null;
  private readonly api: Api;

  /** `onSignedOut` runs whenever the backend answers 401 (the session expired or was ended). */
  constructor(private readonly onSignedOut: () => void) {
    this.api = new Api({ csrf: () => this.token });
  }

  private remember(session: SessionResponse): User {
    this.token = session.csrf_token;
    return session.user;
  }

  private async call<T>(method: string, path: string, options: Parameters<Api['request']>[2] = {}): Promise<T> {
    try {
      return await this.api.request<T>(method, path, options);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'csrf_failed')) throw this.noticed(error);
    }
    try {
      // The token expired with the page open: fetch a fresh one and try once more.
      this.remember(await this.api.me());
      return await this.api.request<T>(method, path, options);
    } catch (error) {
      throw this.noticed(error);
    }
  }

  /** Tell the console when the session is gone; return the error to throw. */
  private noticed(error: unknown): unknown {
    if (error instanceof ApiError && error.status === 401) this.onSignedOut();
    return error;
  }

  // --- session ---------------------------------------------------------------------------------

  /** Return who is signed in, or null on 401; network failures throw. */
  async me(): Promise<User | null> {
    try {
      return this.remember(await this.api.me());
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  async login(username: string, password: string): Promise<User> {
    return this.remember(await this.api.login(username.trim(), password));
  }

  async logout(): Promise<void> {
    try {
      await this.api.logout();
    } finally {
      this.token = null;
    }
  }

  /** Change one's password: every other sign-in ends, this one goes on with a new token. */
  async changePassword(currentPassword: string, newPassword: string): Promise<User> {
    const session = await this.call<SessionResponse>('POST', '/api/auth/password', {
      json: { current_password: currentPassword, new_password: newPassword },
    });
    return this.remember(session);
  }

  /** End every sign-in of one's own, this one too (a lost phone). */
  async signOutEverywhere(): Promise<{ ended: number }> {
    try {
      return await this.call<{ ended: number }>('POST', '/api/auth/sign-out-everywhere');
    } finally {
      this.token = null;
    }
  }

  // --- accounts (admins) -----------------------------------------------------------------------

  people(): Promise<{ items: Person[] }> {
    return this.call('GET', '/api/users/people');
  }

  users(): Promise<{ items: Account[] }> {
    return this.call('GET', '/api/users');
  }

  /** End every sign-in of this user: all their cookies stop working at once. */
  signOutUser(id: number): Promise<{ ended: number }> {
    return this.call('POST', `/api/users/${id}/sign-out-everywhere`);
  }

  // --- overview, verification and queue health ------------------------------------------------

  overview(): Promise<Overview> {
    return this.call('GET', '/api/overview', { timeoutMs: 30_000 });
  }

  silentDevices(query: Query): Promise<Page<SilentDevice>> {
    return this.call('GET', `/api/verifications/silent${queryString(query)}`);
  }

  silentCsvUrl(query: Query): string {
    return `/api/verifications/silent.csv${queryString(query)}`;
  }

  queueHealth(): Promise<{ items: PhoneQueue[] }> {
    return this.call('GET', '/api/queue-health');
  }

  // --- history and inbox -----------------------------------------------------------------------

  history(query: Query): Promise<Page<HistoryItem>> {
    return this.call('GET', `/api/history${queryString(query)}`, { timeoutMs: 30_000 });
  }

  /** The CSV export's URL for the same filters (a plain link: the browser downloads it). */
  historyCsvUrl(query: Query): string {
    return `/api/history.csv${queryString(query)}`;
  }

  timeline(tuid: string): Promise<DeviceTimeline> {
    return this.call('GET', `/api/history/devices/${encodeURIComponent(tuid)}?limit=500`);
  }

  inbox(query: Query): Promise<InboxPage> {
    return this.call('GET', `/api/inbox${queryString(query)}`);
  }

  retry(opId: string, reason: string | null): Promise<Decision> {
    return this.call('POST', `/api/inbox/${encodeURIComponent(opId)}/retry`, { json: reason ? { reason } : {} });
  }

  edit(opId: string, args: Record<string, unknown>, reason: string | null): Promise<Decision> {
    return this.call('POST', `/api/inbox/${encodeURIComponent(opId)}/edit`, { json: reason ? { args, reason } : { args } });
  }

  discard(opId: string, reason: string): Promise<Decision> {
    return this.call('POST', `/api/inbox/${encodeURIComponent(opId)}/discard`, { json: { reason } });
  }

  groups(): Promise<{ items: Group[] }> {
    return this.call('GET', '/api/groups');
  }

  /** The platform the backend talks to and what it can do. */
  platform(): Promise<PlatformInfo> {
    return this.call('GET', '/api/platform');
  }

  // --- bulk jobs -------------------------------------------------------------------------------

  /** Start a dry run: the job comes back `checking`; follow it with job(id). */
  preview(action: BulkAction, targetGroup: string | null, targets: BulkTargets): Promise<{ job: BulkJob }> {
    const json = { action, ...(targetGroup ? { target_group: targetGroup } : {}), ...targets };
    return this.call('POST', '/api/bulk/preview', { json, timeoutMs: PREVIEW_TIMEOUT_MS });
  }

  previewUpload(action: BulkAction, targetGroup: string | null, file: File): Promise<{ job: BulkJob }> {
    const form = new FormData();
    form.append('action', action);
    if (targetGroup) form.append('target_group', targetGroup);
    form.append('file', file, file.name);
    return this.call('POST', '/api/bulk/preview/upload', { form, timeoutMs: PREVIEW_TIMEOUT_MS });
  }

  jobs(page: number, size: number): Promise<Page<BulkJob>> {
    return this.call('GET', `/api/bulk${queryString({ page, size })}`);
  }

  job(id: number): Promise<BulkJob> {
    return this.call('GET', `/api/bulk/${id}`, { timeoutMs: 15_000 });
  }

  jobItems(id: number, verdict: Verdict | null, page: number, size: number): Promise<Page<BulkItem>> {
    return this.call('GET', `/api/bulk/${id}/items${queryString({ verdict, page, size })}`);
  }

  confirm(id: number, expectedCount: number): Promise<BulkJob> {
    return this.call('POST', `/api/bulk/${id}/confirm`, { json: { expected_count: expectedCount }, timeoutMs: CONFIRM_TIMEOUT_MS });
  }

  cancel(id: number): Promise<BulkJob> {
    return this.call('POST', `/api/bulk/${id}/cancel`, { json: {}, timeoutMs: 60_000 });
  }

  resultsCsvUrl(id: number): string {
    return `/api/bulk/${id}/results.csv`;
  }
}
