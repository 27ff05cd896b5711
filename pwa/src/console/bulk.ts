// Bulk jobs: choose an action and the devices (pasted list, CSV upload or a whole group), see the
// dry run (what would change for each device), confirm by typing the count, then follow the job
// (progress, per-device results, results CSV, cancel). Past jobs are listed under the form.

import { html, nothing, type TemplateResult } from 'lit-html';
import {
  BULK_ACTIONS,
  VERDICTS,
  type BulkAction,
  type BulkItem,
  type BulkJob,
  type BulkTargets,
  type Group,
  type HistoryItem,
  type OpState,
  type Page,
  type Verdict,
} from './api';
import { dateTime, dateTimeShort, duration, errorText, num, statusName } from './format';
import { t, tMaybe } from './i18n';
import type { Host, Route, Section } from './section';
import { busy, empty, notice, pager, platformAnswer, stateChip } from './widgets';

type Source = 'paste' | 'csv' | 'group';
const ACTIVE: readonly string[] = ['checking', 'confirming', 'running'];
/** States in which nothing has been sent: no per-device results to read. */
const NOT_STARTED: readonly string[] = ['checking', 'check_failed', 'preview'];
const POLL_MS = 1_000;
const RESULTS_EVERY = 3; // polls between refreshes of the per-device results while running
const ITEMS_SIZE = 100;
const RESULTS_SIZE = 50;
const JOBS_SIZE = 10;
const RESULT_STATES: readonly OpState[] = ['synced', 'failed', 'conflict', 'discarded', 'accepted', 'syncing'];
const BY_STATE_ORDER: readonly OpState[] = ['synced', 'syncing', 'accepted', 'failed', 'conflict', 'discarded'];

/** Split pasted text the way the server does (lines, commas, semicolons, spaces). */
function entries(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

/** "Retire", "Move to prfi00x": what a job does, in a few words. */
function actionLabel(job: Pick<BulkJob, 'action' | 'target_group'>): string {
  return job.action === 'move' ? t('do.set_group', { group: job.target_group ?? '' }) : t(`action.${job.action}`);
}

function sourceLabel(job: BulkJob): string {
  const detail = job.source_detail ?? '';
  const counted = /^(\d+) (entries|lines)$/.exec(detail);
  return tMaybe(`source.${job.source}`, { detail: counted ? t('pasteCount', { count: num(Number(counted[1])) }) : detail }, detail);
}

function jobStateChip(job: BulkJob): TemplateResult {
  return html`<span class="state c-job-${job.state}" data-testid="job-state">${tMaybe(`jobState.${job.state}`, {}, job.state)}</span>`;
}

function verdictChip(verdict: Verdict): TemplateResult {
  return html`<span class="c-verdict c-verdict-${verdict}">${tMaybe(`verdictOne.${verdict}`, {}, verdict)}</span>`;
}

interface JobView {
  job: BulkJob;
  verdict: Verdict | null;
  items: Page<BulkItem> | null;
  itemsError: string | null;
  confirmText: string;
  confirmError: string | null;
  confirming: boolean;
  results: Page<HistoryItem> | null;
  resultsState: OpState | '';
  resultsPage: number;
  resultsError: string | null;
  message: string | null;
  error: string | null;
}

export class BulkSection implements Section {
  // the new-job form
  private action: BulkAction = 'retire';
  private targetGroup = '';
  private source: Source = 'paste';
  private text = '';
  private file: File | null = null;
  private fileLines: number | null = null;
  private sourceGroup = '';
  private formError: string | null = null;
  private previewing: { count: number | null; started: number } | null = null;
  private groups: Group[] = [];
  private groupsError: string | null = null;
  /** The platform's name when it has no deployment groups (no moves, no whole-group jobs). */
  private withoutGroups: string | null = null;
  // past jobs
  private jobs: Page<BulkJob> | null = null;
  private jobsPage = 0;
  private jobsError: string | null = null;
  // one job
  private jobId: number | null = null;
  private view_: JobView | null = null;
  private loadError: string | null = null;
  private pollTimer: number | null = null;
  private tickTimer: number | null = null;
  private polls = 0;
  private pollGeneration = 0;
  private active = false;

  constructor(private readonly host: Host) {
    host.api.platform().then(
      (platform) => {
        this.withoutGroups = platform.capabilities.deployment_groups ? null : platform.title;
        if (this.withoutGroups && this.action === 'move') this.action = 'retire';
        if (this.withoutGroups && this.source === 'group') this.source = 'paste';
        host.redraw();
      },
      () => undefined, // an older backend: every action stays offered
    );
    host.groups().then(
      (groups) => {
        this.groups = groups;
        this.groupsError = null;
        host.redraw();
      },
      (error: unknown) => {
        this.groupsError = t('groupsUnavailable', { message: errorText(error) });
        host.redraw();
      },
    );
  }

  enter(route: Route): void {
    this.active = true;
    this.jobId = route.id;
    if (route.id === null) {
      this.stopPolling();
      void this.loadJobs();
    } else if (this.view_?.job.id !== route.id) {
      this.stopPolling();
      this.view_ = null;
      void this.loadJob(route.id);
    } else {
      this.follow();
    }
  }

  leave(): void {
    this.active = false;
    this.stopPolling();
  }

  // --- past jobs -------------------------------------------------------------------------------

  private async loadJobs(): Promise<void> {
    try {
      this.jobs = await this.host.api.jobs(this.jobsPage, JOBS_SIZE);
      this.jobsError = null;
    } catch (error) {
      this.jobsError = errorText(error);
    }
    this.host.redraw();
  }

  // --- preview ---------------------------------------------------------------------------------

  private async preview(event: Event): Promise<void> {
    event.preventDefault();
    if (this.previewing) return;
    const targetGroup = this.action === 'move' ? this.targetGroup : null;
    this.formError = null;
    if (this.action === 'move' && !targetGroup) this.formError = t('previewNoTarget');
    let targets: BulkTargets | null = null;
    let count: number | null = null;
    if (this.source === 'paste') {
      const list = entries(this.text);
      if (!list.length) this.formError ??= t('previewNothing');
      targets = { text: this.text };
      count = list.length;
    } else if (this.source === 'group') {
      if (!this.sourceGroup) this.formError ??= t('previewNoGroup');
      targets = { group_id: this.sourceGroup };
    } else {
      if (!this.file) this.formError ??= t('previewNoFile');
      count = this.fileLines;
    }
    if (this.formError) {
      this.host.redraw();
      return;
    }
    this.previewing = { count, started: Date.now() };
    this.tickTimer = window.setInterval(() => this.host.redraw(), 1_000);
    this.host.redraw();
    try {
      const answer =
        this.source === 'csv' && this.file
          ? await this.host.api.previewUpload(this.action, targetGroup, this.file)
          : await this.host.api.preview(this.action, targetGroup, targets as BulkTargets);
      this.view_ = this.freshView(answer.job, null);
      this.text = '';
      this.file = null;
      this.fileLines = null;
      if (this.active && this.jobId === null) this.host.navigate(`#/bulk/${answer.job.id}`);
      else void this.loadJobs();
    } catch (error) {
      this.formError = errorText(error);
    } finally {
      this.previewing = null;
      if (this.tickTimer !== null) window.clearInterval(this.tickTimer);
      this.tickTimer = null;
      this.host.redraw();
    }
  }

  private async chooseFile(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    this.file = input.files?.[0] ?? null;
    this.fileLines = null;
    this.formError = null;
    this.host.redraw();
    if (!this.file) return;
    try {
      const text = await this.file.text();
      this.fileLines = text.split(/\r\n|\n|\r/).filter((line) => line.trim()).length;
    } catch {
      this.fileLines = null;
    }
    this.host.redraw();
  }

  // --- one job ---------------------------------------------------------------------------------

  private freshView(job: BulkJob, items: Page<BulkItem> | null): JobView {
    return {
      job,
      verdict: null,
      items,
      itemsError: null,
      confirmText: '',
      confirmError: null,
      confirming: false,
      results: null,
      resultsState: '',
      resultsPage: 0,
      resultsError: null,
      message: null,
      error: null,
    };
  }

  private async loadJob(id: number): Promise<void> {
    this.loadError = null;
    this.host.redraw();
    try {
      const job = await this.host.api.job(id);
      if (this.jobId !== id) return;
      this.view_ = this.freshView(job, null);
      void this.loadItems();
      this.follow();
    } catch (error) {
      if (this.jobId !== id) return;
      this.loadError = errorText(error);
    }
    this.host.redraw();
  }

  /** Poll while the job runs; read the per-device results once it has started. */
  private follow(): void {
    const v = this.view_;
    if (!v || !this.active) return;
    if (!NOT_STARTED.includes(v.job.state) && !v.results) void this.loadResults();
    if (ACTIVE.includes(v.job.state)) this.startPolling();
  }

  private startPolling(): void {
    if (this.pollTimer !== null) return;
    const id = this.view_?.job.id;
    const generation = ++this.pollGeneration;
    const tick = async () => {
      const v = this.view_;
      if (generation !== this.pollGeneration) return; // stopped, or a newer loop took over
      if (!v || v.job.id !== id || !this.active) {
        this.pollTimer = null;
        return;
      }
      try {
        const job = await this.host.api.job(v.job.id);
        if (this.view_ !== v) return;
        const was = v.job.state;
        v.job = job;
        v.error = null;
        this.polls++;
        if (was === 'checking') {
          if (job.state === 'preview') void this.loadItems(); // the verdicts are ready
        } else {
          const finished = ACTIVE.includes(was) && !ACTIVE.includes(job.state);
          if (finished || this.polls % RESULTS_EVERY === 0 || (was === 'preview' && job.state !== 'preview')) void this.loadResults();
          if (finished) this.host.refreshCounts(); // failed devices land in the inbox
        }
      } catch (error) {
        v.error = errorText(error);
      }
      this.host.redraw();
      if (generation !== this.pollGeneration) return;
      const now = this.view_;
      if (now === v && this.active && (ACTIVE.includes(v.job.state) || v.confirming)) {
        this.pollTimer = window.setTimeout(() => void tick(), POLL_MS);
      } else {
        this.pollTimer = null;
      }
    };
    this.pollTimer = window.setTimeout(() => void tick(), POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) window.clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.pollGeneration++;
    if (this.tickTimer !== null && !this.previewing) {
      window.clearInterval(this.tickTimer);
      this.tickTimer = null;
    }
  }

  private async loadItems(): Promise<void> {
    const v = this.view_;
    if (!v) return;
    const page = v.items && v.items.number ? v.items.number : 0;
    await this.loadItemsPage(page);
  }

  private async loadItemsPage(page: number): Promise<void> {
    const v = this.view_;
    if (!v) return;
    try {
      v.items = await this.host.api.jobItems(v.job.id, v.verdict, page, ITEMS_SIZE);
      v.itemsError = null;
    } catch (error) {
      v.itemsError = errorText(error);
    }
    this.host.redraw();
  }

  private async loadResults(): Promise<void> {
    const v = this.view_;
    if (!v) return;
    try {
      const results = await this.host.api.history({
        bulk_job_id: v.job.id,
        state: v.resultsState,
        sort: ['tuid,asc'],
        page: v.resultsPage,
        size: RESULTS_SIZE,
      });
      if (this.view_ !== v) return;
      v.results = results;
      v.resultsError = null;
    } catch (error) {
      v.resultsError = errorText(error);
    }
    this.host.redraw();
  }

  private async confirm(event: Event): Promise<void> {
    event.preventDefault();
    const v = this.view_;
    if (!v || v.confirming) return;
    const expected = v.job.summary.will_change;
    if (v.confirmText.trim() !== String(expected)) {
      v.confirmError = t('confirmMismatch', { count: expected });
      this.host.redraw();
      return;
    }
    v.confirming = true;
    v.confirmError = null;
    this.host.redraw();
    this.startPolling(); // creating many operations takes a while: show it as it happens
    try {
      v.job = await this.host.api.confirm(v.job.id, expected);
      void this.loadResults();
      this.follow();
    } catch (error) {
      v.confirmError = errorText(error);
      // The job may have started anyway (a second tab): read it again.
      try {
        v.job = await this.host.api.job(v.job.id);
        this.follow();
      } catch {
        // keep what we have
      }
    } finally {
      v.confirming = false;
      this.host.redraw();
      this.host.refreshCounts();
    }
  }

  private cancel(): void {
    const v = this.view_;
    if (!v) return;
    const checking = v.job.state === 'checking';
    void this.host.dialogs.ask({
      title: checking ? t('cancelCheckTitle') : t('cancelTitle'),
      body: checking ? t('cancelCheckBody') : t('cancelBody'),
      confirmLabel: t('cancelConfirm'),
      cancelLabel: t('keepRunning'),
      danger: true,
      run: async () => {
        const checking = v.job.state === 'checking';
        v.job = await this.host.api.cancel(v.job.id);
        if (checking) {
          v.message = t('checkCancelledMsg');
          return;
        }
        v.message = t('cancelledMsg', { count: num(v.job.progress?.by_state.discarded ?? 0) });
        void this.loadResults();
      },
    });
  }

  // --- views -----------------------------------------------------------------------------------

  view(): TemplateResult {
    if (this.jobId === null) return this.listView();
    if (this.loadError) {
      return html`${this.backLink()}<h1 tabindex="-1">${t('jobTitle', { id: this.jobId })}</h1>${notice('error', this.loadError)}`;
    }
    const v = this.view_;
    if (!v || v.job.id !== this.jobId) return html`${this.backLink()}<h1 tabindex="-1">${t('jobTitle', { id: this.jobId })}</h1>${busy(t('loading'))}`;
    return this.jobView(v);
  }

  private backLink(): TemplateResult {
    return html`<p class="c-back"><a href="#/bulk"><span aria-hidden="true">‹</span> ${t('navBulk')}</a></p>`;
  }

  private listView(): TemplateResult {
    return html`<div class="c-head">
        <h1 tabindex="-1">${t('bulkTitle')}</h1>
        <p class="lead">${t('bulkLead')}</p>
      </div>
      ${this.form()}
      <section class="c-section" aria-labelledby="past-jobs">
        <h2 id="past-jobs">${t('pastJobs')}</h2>
        ${notice('error', this.jobsError)}
        ${this.jobs === null
          ? this.jobsError
            ? nothing
            : busy(t('loading'))
          : this.jobs.items.length === 0
            ? empty(t('pastJobsEmpty'))
            : this.jobsTable(this.jobs)}
        ${pager(this.jobs, (page) => {
          this.jobsPage = page;
          void this.loadJobs();
        }, null)}
      </section>`;
  }

  private form(): TemplateResult {
    const busyNow = this.previewing !== null;
    const set = (apply: (value: string) => void) => (e: Event) => {
      apply((e.target as HTMLInputElement).value);
      this.formError = null;
      this.host.redraw();
    };
    const groupOptions = (selected: string, skipUnassigned: boolean) =>
      this.groups
        .filter((g) => !(skipUnassigned && g.group_id === 'unassigned'))
        .map((g) => html`<option value=${g.group_id} ?selected=${selected === g.group_id}>
          ${g.group_id}${g.description ? ` – ${g.description}` : ''}</option>`);
    return html`<section class="c-card c-newjob" aria-labelledby="new-job">
      <h2 id="new-job">${t('newJob')}</h2>
      <form @submit=${(e: Event) => void this.preview(e)} novalidate aria-busy=${busyNow ? 'true' : 'false'}>
        <div class="c-newjob-grid">
          <div>
            <fieldset class="c-options" ?disabled=${busyNow}>
              <legend>${t('bulkAction')}</legend>
              ${BULK_ACTIONS.filter((a) => a !== 'move' || !this.withoutGroups).map(
                (a) => html`<label class="c-option ${this.action === a ? 'c-option-on' : ''}">
                  <input type="radio" name="bulk-action" value=${a} .checked=${this.action === a} data-testid="action-${a}"
                    @change=${set(() => (this.action = a))} />
                  <span><strong>${t(`action.${a}`)}</strong><span class="sub c-block">${t(`actionHelp.${a}`)}</span></span>
                </label>`,
              )}
            </fieldset>
            ${this.action === 'move'
              ? html`<div class="c-field">
                  <label for="bulk-target">${t('targetGroup')}</label>
                  <select id="bulk-target" data-testid="target-group" ?disabled=${busyNow} @change=${set((v) => (this.targetGroup = v))}>
                    <option value="" ?selected=${!this.targetGroup}>${t('pickGroup')}</option>
                    ${groupOptions(this.targetGroup, false)}
                  </select>
                </div>`
              : nothing}
            ${this.groupsError && !this.withoutGroups ? html`<p class="sub c-refused">${this.groupsError}</p>` : nothing}
            ${this.withoutGroups ? html`<p class="sub" data-testid="no-groups">${t('noGroupsOnPlatform', { platform: this.withoutGroups })}</p>` : nothing}
          </div>
          <div>
            <fieldset class="c-segmented" ?disabled=${busyNow}>
              <legend>${t('targets')}</legend>
              ${(['paste', 'csv', 'group'] as const).filter((s) => s !== 'group' || !this.withoutGroups).map(
                (s) => html`<label class=${this.source === s ? 'c-seg-on' : ''}>
                  <input type="radio" name="bulk-source" value=${s} .checked=${this.source === s} data-testid="source-${s}"
                    @change=${set(() => (this.source = s))} />
                  ${t(s === 'paste' ? 'sourcePaste' : s === 'csv' ? 'sourceCsv' : 'sourceGroup')}
                </label>`,
              )}
            </fieldset>
            ${this.source === 'paste'
              ? html`<div class="c-field">
                  <label for="bulk-text">${t('pasteLabel')}</label>
                  <textarea id="bulk-text" class="mono" rows="7" spellcheck="false" autocomplete="off" data-testid="paste"
                    aria-describedby="bulk-text-help" ?disabled=${busyNow}
                    .value=${this.text} @input=${set((v) => (this.text = v))}></textarea>
                  <p class="sub" id="bulk-text-help">${t('pasteHelp')} ${this.text.trim() ? t('pasteCount', { count: num(entries(this.text).length) }) : ''}</p>
                </div>`
              : nothing}
            ${this.source === 'csv'
              ? html`<div class="c-field">
                  <label for="bulk-file">${t('csvLabel')}</label>
                  <input id="bulk-file" type="file" accept=".csv,.txt,text/csv,text/plain" data-testid="csv-file"
                    aria-describedby="bulk-file-help" ?disabled=${busyNow} @change=${(e: Event) => void this.chooseFile(e)} />
                  <p class="sub" id="bulk-file-help">
                    ${this.file && this.fileLines !== null ? t('csvChosen', { name: this.file.name, count: num(this.fileLines) }) : t('csvHelp')}
                  </p>
                </div>`
              : nothing}
            ${this.source === 'group'
              ? html`<div class="c-field">
                  <label for="bulk-group">${t('groupLabel')}</label>
                  <select id="bulk-group" data-testid="source-group-select" ?disabled=${busyNow} @change=${set((v) => (this.sourceGroup = v))}>
                    <option value="" ?selected=${!this.sourceGroup}>${t('pickGroup')}</option>
                    ${groupOptions(this.sourceGroup, true)}
                  </select>
                </div>`
              : nothing}
          </div>
        </div>
        ${this.formError ? html`<p class="msg msg-error" role="alert">${this.formError}</p>` : nothing}
        <div class="c-form-end">
          <button type="submit" class="btn btn-primary" data-testid="preview" ?disabled=${busyNow}>${t('previewButton')}</button>
          ${this.previewing ? this.previewProgress(this.previewing) : nothing}
        </div>
      </form>
    </section>`;
  }

  private previewProgress(p: { count: number | null; started: number }): TemplateResult {
    const seconds = Math.floor((Date.now() - p.started) / 1000);
    return html`<div class="c-previewing" role="status" data-testid="previewing">
      <p class="c-busy"><span class="c-spinner" aria-hidden="true"></span>
        <strong>${p.count !== null
          ? t('previewing', { count: num(p.count) })
          : this.source === 'group'
            ? t('previewingGroup')
            : t('previewingSome')}</strong></p>
      <p class="sub">${t('previewTakesTime')} <span aria-hidden="true">${t('elapsed', { seconds })}</span></p>
    </div>`;
  }

  private jobsTable(page: Page<BulkJob>): TemplateResult {
    return html`<div class="c-table-wrap">
      <table class="c-table c-stack" data-testid="jobs-table">
        <thead>
          <tr>
            <th scope="col">${t('colJob')}</th>
            <th scope="col">${t('colCreated')}</th>
            <th scope="col">${t('colBy')}</th>
            <th scope="col">${t('colAction')}</th>
            <th scope="col">${t('colSource')}</th>
            <th scope="col" class="c-num">${t('colDevices')}</th>
            <th scope="col">${t('colState')}</th>
            <th scope="col">${t('colProgress')}</th>
          </tr>
        </thead>
        <tbody>
          ${page.items.map(
            (job) => html`<tr class="c-clickable" @click=${(e: MouseEvent) => {
                if (!(e.target as HTMLElement).closest('a')) this.host.navigate(`#/bulk/${job.id}`);
              }}>
              <td data-label=${t('colJob')}><a href="#/bulk/${job.id}" aria-label=${t('openJob', { id: job.id })}>#${job.id}</a></td>
              <td data-label=${t('colCreated')} class="c-nowrap">${dateTime(job.created_at)}</td>
              <td data-label=${t('colBy')}>${job.created_by ? job.created_by.display_name || job.created_by.username : t('none')}</td>
              <td data-label=${t('colAction')}>${actionLabel(job)}</td>
              <td data-label=${t('colSource')}>${sourceLabel(job)}</td>
              <td data-label=${t('colDevices')} class="c-num">${num(job.summary.will_change)}</td>
              <td data-label=${t('colState')}>${jobStateChip(job)}</td>
              <td data-label=${t('colProgress')}>
                ${job.state === 'checking'
                  ? html`<span class="c-mini"><progress max=${Math.max(job.summary.devices, 1)} .value=${job.summary.read ?? 0}></progress>
                      ${t('checkingShort', { read: num(job.summary.read ?? 0), devices: num(job.summary.devices) })}</span>`
                  : job.progress && !NOT_STARTED.includes(job.state)
                    ? html`<span class="c-mini"><progress max="100" .value=${job.progress.percent}></progress> ${Math.floor(job.progress.percent)} %</span>`
                    : t('none')}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }

  private jobView(v: JobView): TemplateResult {
    const job = v.job;
    const who = job.created_by ? job.created_by.display_name || job.created_by.username : t('someone');
    return html`${this.backLink()}
      <div class="c-head c-head-row">
        <div>
          <h1 tabindex="-1">${t('jobTitle', { id: job.id })} ${jobStateChip(job)}</h1>
          <p class="lead">${t('jobHeading', { action: actionLabel(job), source: sourceLabel(job) })}
            · ${t('createdBy', { time: dateTime(job.created_at), name: who })}</p>
        </div>
      </div>
      ${notice('error', v.error)}
      ${notice('success', v.message, () => {
        v.message = null;
        this.host.redraw();
      })}
      ${job.state === 'checking'
        ? this.checkingStage(job)
        : job.state === 'check_failed'
          ? this.checkFailedStage(job)
          : job.state === 'preview'
            ? this.previewStage(v)
            : this.runStage(v)}`;
  }

  /** The dry run reads the devices in the background: how far it got, and a way to stop it. */
  private checkingStage(job: BulkJob): TemplateResult {
    const read = job.summary.read ?? 0;
    const devices = job.summary.devices;
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(job.created_at)) / 1000));
    const percent = devices ? Math.floor((100 * read) / devices) : 0;
    return html`<section class="c-card c-checking" aria-labelledby="checking-title" data-testid="checking">
      <h2 id="checking-title">${t('checkingTitle')}</h2>
      <p>${t('checkingLead', { devices: num(devices) })}</p>
      <div class="c-progress-row">
        <progress class="c-progress" max=${Math.max(devices, 1)} .value=${read} aria-labelledby="checking-title" data-testid="checking-progress"></progress>
        <span class="c-num" role="status">${t('checkingCount', { read: num(read), devices: num(devices), percent })}</span>
      </div>
      <p class="sub">${t('previewTakesTime')} ${t('elapsed', { seconds })}</p>
      <button type="button" class="btn btn-small btn-danger-outline" data-testid="cancel-job" @click=${() => this.cancel()}>${t('cancelCheck')}</button>
    </section>`;
  }

  private checkFailedStage(job: BulkJob): TemplateResult {
    return html`<section class="c-card" aria-labelledby="check-failed-title" data-testid="check-failed">
      <h2 id="check-failed-title">${t('checkFailedTitle')}</h2>
      <p class="msg msg-error" role="alert">${job.summary.failure ?? t('noMessage')}</p>
      <p>${t('checkFailedLead')}</p>
      <a class="btn" href="#/bulk">${t('startAnother')}</a>
    </section>`;
  }

  private summary(job: BulkJob): TemplateResult {
    const s = job.summary;
    return html`<section class="c-section" aria-labelledby="summary-title">
      <h2 id="summary-title">${t('summaryTitle')} <span class="count">${t('summaryLines', { lines: num(s.lines), devices: num(s.devices) })}</span></h2>
      <dl class="c-summary" data-testid="summary">
        ${VERDICTS.map(
          (verdict) => html`<div class="c-stat c-stat-${verdict} ${s[verdict] ? '' : 'c-stat-zero'}">
            <dt>${t(`verdict.${verdict}`)}</dt>
            <dd data-testid="summary-${verdict}">${num(s[verdict])}</dd>
          </div>`,
        )}
      </dl>
    </section>`;
  }

  private previewStage(v: JobView): TemplateResult {
    const job = v.job;
    const count = job.summary.will_change;
    const lead =
      job.action === 'move'
        ? t('confirmLeadMove', { count: num(count), group: job.target_group ?? '' })
        : t('confirmLeadStatus', { count: num(count), status: statusName(job.target) });
    return html`${this.summary(job)}
      <section class="c-card c-confirm" aria-labelledby="confirm-title">
        <h2 id="confirm-title">${t('confirmTitle')}</h2>
        ${count === 0
          ? html`<p>${t('nothingToChange')}</p><a class="btn" href="#/bulk">${t('startAnother')}</a>`
          : html`<p>${lead}</p>
              <form class="c-confirm-form" @submit=${(e: Event) => void this.confirm(e)} novalidate>
                <label for="confirm-count">${t('confirmType', { count: num(count) })}</label>
                <div class="c-confirm-row">
                  <input id="confirm-count" inputmode="numeric" autocomplete="off" data-testid="confirm-count"
                    aria-invalid=${v.confirmError ? 'true' : 'false'} ?disabled=${v.confirming}
                    .value=${v.confirmText} @input=${(e: Event) => {
                      v.confirmText = (e.target as HTMLInputElement).value;
                      v.confirmError = null;
                      this.host.redraw();
                    }} />
                  <button type="submit" class="btn btn-danger" data-testid="confirm-job" ?disabled=${v.confirming}>
                    ${v.confirming ? t('confirmStarting') : this.confirmLabel(job)}
                  </button>
                </div>
              </form>
              ${v.confirmError ? html`<p class="msg msg-error" role="alert">${v.confirmError}</p>` : nothing}`}
      </section>
      ${this.itemsSection(v, true)}`;
  }

  private confirmLabel(job: BulkJob): string {
    const count = num(job.summary.will_change);
    return job.action === 'move'
      ? t('confirmDo.move', { count, group: job.target_group ?? '' })
      : t(`confirmDo.${job.action}`, { count });
  }

  private itemsSection(v: JobView, open: boolean): TemplateResult {
    const s = v.job.summary;
    const body = html`<fieldset class="c-segmented c-verdicts">
        <legend>${t('verdictFilter')}</legend>
        ${[null, ...VERDICTS.filter((x) => s[x] > 0)].map(
          (verdict) => html`<label class=${v.verdict === verdict ? 'c-seg-on' : ''}>
            <input type="radio" name="verdict-filter" .checked=${v.verdict === verdict} data-testid="verdict-${verdict ?? 'all'}"
              @change=${() => {
                v.verdict = verdict;
                void this.loadItemsPage(0);
              }} />
            ${verdict ? t(`verdict.${verdict}`) : t('all')} <span class="count">${num(verdict ? s[verdict] : s.lines)}</span>
          </label>`,
        )}
      </fieldset>
      ${notice('error', v.itemsError)}
      ${v.items === null
        ? v.itemsError
          ? nothing
          : busy(t('loading'))
        : v.items.items.length === 0
          ? empty(t('itemsEmpty'))
          : html`<div class="c-table-wrap">
              <table class="c-table c-stack" data-testid="items-table">
                <thead>
                  <tr>
                    <th scope="col" class="c-num">${t('colLine')}</th>
                    <th scope="col">${t('colInput')}</th>
                    <th scope="col">${t('colTuid')}</th>
                    <th scope="col">${t('colVerdict')}</th>
                    <th scope="col">${t('colStatusNow')}</th>
                    <th scope="col">${t('colGroupNow')}</th>
                    <th scope="col">${t('colMessage')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${v.items.items.map(
                    (item) => html`<tr>
                      <td data-label=${t('colLine')} class="c-num">${item.line_no}</td>
                      <td data-label=${t('colInput')} class="mono c-small c-input-cell">${item.raw}</td>
                      <td data-label=${t('colTuid')} class="mono c-small">${item.tuid ?? t('none')}</td>
                      <td data-label=${t('colVerdict')}>${verdictChip(item.verdict)}</td>
                      <td data-label=${t('colStatusNow')}>${item.current_status ? statusName(item.current_status) : t('none')}</td>
                      <td data-label=${t('colGroupNow')} class="mono c-small">${item.current_group ?? t('none')}</td>
                      <td data-label=${t('colMessage')} class="c-answer">${item.message ?? ''}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`}
      ${pager(v.items, (page) => void this.loadItemsPage(page), null)}`;
    return open
      ? html`<section class="c-section" aria-labelledby="items-title"><h2 id="items-title">${t('perDevice')}</h2>${body}</section>`
      : html`<details class="panel c-section"><summary>${t('previewVerdicts')}</summary>${body}</details>`;
  }

  private runStage(v: JobView): TemplateResult {
    const job = v.job;
    const p = job.progress;
    const running = ACTIVE.includes(job.state);
    const percent = p ? p.percent : 0;
    return html`<section class="c-card c-progress-card" aria-labelledby="progress-title">
        <div class="c-progress-head">
          <h2 id="progress-title">${t('progressTitle')}</h2>
          <span class="spacer"></span>
          <a class="btn btn-small" href=${this.host.api.resultsCsvUrl(job.id)} download data-testid="results-csv">
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M11 3h2v9.2l3.3-3.3 1.4 1.4L12 16 6.3 10.3l1.4-1.4 3.3 3.3zM5 18h14v2H5z"/></svg>
            ${t('downloadResults')}
          </a>
          ${running
            ? html`<button type="button" class="btn btn-small btn-danger-outline" data-testid="cancel-job" @click=${() => this.cancel()}>${t('cancelJob')}</button>`
            : nothing}
        </div>
        <progress class="c-progress" max="100" .value=${percent} aria-label=${t('progressLabel')}
          aria-valuetext=${p ? t('progressText', { done: num(p.done), total: num(p.total), percent: Math.floor(percent) }) : t('progressStarting')}></progress>
        <p class="c-progress-text" data-testid="progress-text">
          ${p && p.total
            ? html`<strong>${t('progressText', { done: num(p.done), total: num(p.total), percent: Math.floor(percent) })}</strong>`
            : html`<strong>${t('progressStarting')}</strong>`}
          ${running && p?.eta_s ? html` · ${t('etaSeconds', { time: duration(p.eta_s) })}` : nothing}
          ${job.state === 'done' ? html` · ${t('progressFinished', { time: dateTime(job.finished_at) })}` : nothing}
        </p>
        ${job.state === 'cancelled' ? html`<p class="msg msg-info">${t('progressCancelled', { time: dateTime(job.cancelled_at) })}</p>` : nothing}
        ${p
          ? html`<ul class="c-by-state" data-testid="by-state">
              ${BY_STATE_ORDER.filter((s) => p.by_state[s] || s === 'synced').map(
                (s) => html`<li class="c-by c-by-${s}"><span class="c-by-n">${num(p.by_state[s] ?? 0)}</span> ${t(`byState.${s}`)}</li>`,
              )}
            </ul>`
          : nothing}
        ${p && (p.by_state.failed || p.by_state.conflict)
          ? html`<p class="sub">${t('failedHint')} <a href="#/inbox?bulk_job_id=${job.id}">${t('navInbox')}</a></p>`
          : nothing}
      </section>
      ${this.summary(job)}
      ${this.resultsSection(v)}
      ${this.itemsSection(v, false)}`;
  }

  private resultsSection(v: JobView): TemplateResult {
    return html`<section class="c-section" aria-labelledby="results-title">
      <div class="c-toolbar">
        <h2 id="results-title">${t('resultsTitle')}</h2>
        <span class="spacer"></span>
        <label class="c-inline-field" for="results-state">${t('fState')}</label>
        <select id="results-state" class="c-inline-select" @change=${(e: Event) => {
          v.resultsState = (e.target as HTMLSelectElement).value as OpState | '';
          v.resultsPage = 0;
          void this.loadResults();
        }}>
          <option value="" ?selected=${!v.resultsState}>${t('all')}</option>
          ${RESULT_STATES.map((s) => html`<option value=${s} ?selected=${v.resultsState === s}>${t(`state.${s}`)}</option>`)}
        </select>
        <a class="btn btn-small" href="#/history?bulk_job_id=${v.job.id}">${t('showInHistory')}</a>
      </div>
      ${notice('error', v.resultsError)}
      ${v.results === null
        ? v.resultsError
          ? nothing
          : busy(t('loading'))
        : v.results.items.length === 0
          ? empty(t('resultsEmpty'))
          : html`<div class="c-table-wrap">
              <table class="c-table c-stack" data-testid="results-table">
                <thead>
                  <tr>
                    <th scope="col">${t('colTuid')}</th>
                    <th scope="col">${t('colDeviceType')}</th>
                    <th scope="col">${t('colState')}</th>
                    <th scope="col">${t('colPlatform')}</th>
                    <th scope="col">${t('colSynced')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${v.results.items.map(
                    (item) => html`<tr>
                      <td data-label=${t('colTuid')}>
                        <button type="button" class="c-link mono" @click=${() => this.host.openTimeline(item.tuid)}
                          aria-label=${t('openTimeline', { tuid: item.tuid })}>${item.tuid}</button>
                      </td>
                      <td data-label=${t('colDeviceType')}>${item.device_type}</td>
                      <td data-label=${t('colState')}>${stateChip(item.state)}</td>
                      <td data-label=${t('colPlatform')} class="c-answer">${platformAnswer(item)}</td>
                      <td data-label=${t('colSynced')} class="c-nowrap">${dateTimeShort(item.synced_at)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`}
      ${pager(v.results, (page) => {
        v.resultsPage = page;
        void this.loadResults();
      }, null)}
    </section>`;
  }
}

/** Create the bulk jobs section for the console shell. */
export function createBulk(host: Host): Section {
  return new BulkSection(host);
}
