// Install history: the operations list, its CSV export, and one device's timeline.

import { queryString, type Page, type Query } from './pages';
import type { Caller } from './session';
import type { PersonRef } from './users';
import type { Verification, VerificationState } from './fleet';

export type OpState = 'accepted' | 'syncing' | 'synced' | 'failed' | 'conflict' | 'discarded';
export const OP_STATES: readonly OpState[] = ['accepted', 'syncing', 'synced', 'failed', 'conflict', 'discarded'];
export type OpKind = 'set_status' | 'set_group' | 'install' | 'remove' | 'replace' | 'undo';
export const OP_KINDS: readonly OpKind[] = ['install', 'remove', 'replace', 'set_status', 'set_group', 'undo'];

/** What the history, the inbox and a device's timeline all say of an operation. */
export interface OperationRecord {
  op_id: string;
  kind: OpKind;
  tuid: string;
  args: Record<string, unknown>;
  state: OpState;
  device_time: string;
  received_at: string | null;
  synced_at: string | null;
  offline_delay_s: number;
  seen: { status: string | null; group: string | null };
  error: { code: string; message: string } | null;
  bulk_job_id: number | null;
}

/** One operation as the history and the inbox list it. */
export interface HistoryItem extends OperationRecord {
  device_type: string;
  new_tuid: string | null;
  group: string | null;
  updated_at: string | null;
  technician: PersonRef;
  platform: { outcome: string; http_status: number | null; message: string | null; at: string | null } | null;
  /** Install verification of an install or replacement: verified, waiting, silent... */
  verification?: VerificationState | null;
  /** In the inbox, for an operation the worker keeps retrying: tries so far and the next one. */
  retrying?: { attempts: number; next_try_at: string | null } | null;
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

/** One operation in a device's timeline, with its steps and every try at them. */
export interface TimelineOperation extends OperationRecord {
  user: PersonRef;
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

export class HistoryClient {
  constructor(private readonly session: Caller) {}

  list(query: Query): Promise<Page<HistoryItem>> {
    return this.session.call('GET', `/api/history${queryString(query)}`, { timeoutMs: 30_000 });
  }

  /** The CSV export's URL for the same filters (a plain link: the browser downloads it). */
  csvUrl(query: Query): string {
    return `/api/history.csv${queryString(query)}`;
  }

  timeline(tuid: string): Promise<DeviceTimeline> {
    return this.session.call('GET', `/api/history/devices/${encodeURIComponent(tuid)}?limit=500`);
  }
}
