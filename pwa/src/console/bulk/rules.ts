// The bulk page's decisions, apart from its views and its timers: how pasted text is counted,
// what a new-job form asks the server for (or what is missing), and what a poll of a job's
// state calls for next. Plain functions, unit-tested.

import type { BulkAction, BulkJob, BulkTargets } from '../api';
import type { MessageKey } from '../i18n';

export type Source = 'paste' | 'csv' | 'group';

/** States in which the job still changes by itself: keep polling. */
export const ACTIVE: readonly string[] = ['checking', 'confirming', 'running'];
/** States in which nothing has been sent: no per-device results to read. */
export const NOT_STARTED: readonly string[] = ['checking', 'check_failed', 'preview'];
/** Polls between refreshes of the per-device results while running. */
export const RESULTS_EVERY = 3;

/** Split pasted text the way the server does (lines, commas, semicolons, spaces). */
export function entries(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

/** Count the non-empty lines of an uploaded file. */
export function fileLineCount(text: string): number {
  return text.split(/\r\n|\n|\r/).filter((line) => line.trim()).length;
}

/** What the new-job form holds when the user asks for a dry run. */
export interface FormInput {
  action: BulkAction;
  targetGroup: string;
  source: Source;
  text: string;
  hasFile: boolean;
  fileLines: number | null;
  sourceGroup: string;
}

/** A dry run to start: the request's parts and how many entries it will read, when known. */
export interface PreviewRequest {
  targetGroup: string | null;
  /** Null for a CSV upload (the file is sent as it is). */
  targets: BulkTargets | null;
  count: number | null;
}

/** Return the dry run the form asks for, or the first thing missing (a message key). */
export function previewRequest(form: FormInput): PreviewRequest | { error: MessageKey } {
  const targetGroup = form.action === 'move' ? form.targetGroup : null;
  let error: MessageKey | null = null;
  if (form.action === 'move' && !targetGroup) error = 'previewNoTarget';
  let targets: BulkTargets | null = null;
  let count: number | null = null;
  if (form.source === 'paste') {
    const list = entries(form.text);
    if (!list.length) error ??= 'previewNothing';
    targets = { text: form.text };
    count = list.length;
  } else if (form.source === 'group') {
    if (!form.sourceGroup) error ??= 'previewNoGroup';
    targets = { group_id: form.sourceGroup };
  } else {
    if (!form.hasFile) error ??= 'previewNoFile';
    count = form.fileLines;
  }
  return error ? { error } : { targetGroup, targets, count };
}

/** What one poll of a job calls for. */
export interface PollReaction {
  /** The dry run's verdicts are ready: read the per-device lines. */
  loadItems: boolean;
  /** Read the per-device results (operations) again. */
  loadResults: boolean;
  /** The job finished: failed devices land in the inbox, so re-read its badge. */
  refreshCounts: boolean;
}

/** Decide what to read after a poll saw the job go from state `was` to `job` (poll number `polls`). */
export function afterPoll(was: string, job: Pick<BulkJob, 'state'>, polls: number): PollReaction {
  if (was === 'checking') return { loadItems: job.state === 'preview', loadResults: false, refreshCounts: false };
  const finished = ACTIVE.includes(was) && !ACTIVE.includes(job.state);
  const started = was === 'preview' && job.state !== 'preview';
  return {
    loadItems: false,
    loadResults: finished || started || polls % RESULTS_EVERY === 0,
    refreshCounts: finished,
  };
}

/**
 * Tell whether the results CSV is final: the job has ended and its progress counts every
 * operation as done, so the file and the progress shown beside it say the same thing.
 */
export function resultsReady(job: Pick<BulkJob, 'state' | 'progress'>): boolean {
  if (job.state !== 'done' && job.state !== 'cancelled') return false;
  return !!job.progress && job.progress.done === job.progress.total;
}
