// Bulk jobs: the dry run, its per-device verdicts, confirm and cancel, the results.

import type { OpState } from './history';
import { queryString, type Page } from './pages';
import type { Caller } from './session';
import type { PersonRef } from './users';

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

// Starting a dry run reads a group's member list or an uploaded file, not every device.
const PREVIEW_TIMEOUT_MS = 2 * 60_000;
/** Confirming creates every operation in the request: allow for large jobs. */
const CONFIRM_TIMEOUT_MS = 5 * 60_000;

export class BulkClient {
  constructor(private readonly session: Caller) {}

  /** Start a dry run: the job comes back `checking`; follow it with job(id). */
  preview(action: BulkAction, targetGroup: string | null, targets: BulkTargets): Promise<{ job: BulkJob }> {
    const json = { action, ...(targetGroup ? { target_group: targetGroup } : {}), ...targets };
    return this.session.call('POST', '/api/bulk/preview', { json, timeoutMs: PREVIEW_TIMEOUT_MS });
  }

  previewUpload(action: BulkAction, targetGroup: string | null, file: File): Promise<{ job: BulkJob }> {
    const form = new FormData();
    form.append('action', action);
    if (targetGroup) form.append('target_group', targetGroup);
    form.append('file', file, file.name);
    return this.session.call('POST', '/api/bulk/preview/upload', { form, timeoutMs: PREVIEW_TIMEOUT_MS });
  }

  jobs(page: number, size: number): Promise<Page<BulkJob>> {
    return this.session.call('GET', `/api/bulk${queryString({ page, size })}`);
  }

  job(id: number): Promise<BulkJob> {
    return this.session.call('GET', `/api/bulk/${id}`, { timeoutMs: 15_000 });
  }

  items(id: number, verdict: Verdict | null, page: number, size: number): Promise<Page<BulkItem>> {
    return this.session.call('GET', `/api/bulk/${id}/items${queryString({ verdict, page, size })}`);
  }

  confirm(id: number, expectedCount: number): Promise<BulkJob> {
    return this.session.call('POST', `/api/bulk/${id}/confirm`, {
      json: { expected_count: expectedCount },
      timeoutMs: CONFIRM_TIMEOUT_MS,
    });
  }

  cancel(id: number): Promise<BulkJob> {
    return this.session.call('POST', `/api/bulk/${id}/cancel`, { json: {}, timeoutMs: 60_000 });
  }

  resultsCsvUrl(id: number): string {
    return `/api/bulk/${id}/results.csv`;
  }
}
