// Bulk jobs: choose an action and the devices (pasted list, CSV upload or a whole group), see the
// dry run (what would change for each device), confirm by typing the count, then follow the job
// (progress, per-device results, results CSV, cancel). Past jobs are listed under the form.
// This module holds what the page is showing and the reads behind it; the form (form.ts), the
// rendering (views.ts), the polling loop (poller.ts) and the decisions (rules.ts) live apart.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { BulkJob, Page } from '../api';
import { errorText, num } from '../format';
import { t } from '../i18n';
import type { Host, Route, Section } from '../section';
import { busy, empty, notice, pager } from '../widgets';
import { BulkForm } from './form';
import { browserClock, Poller, type PollClock } from './poller';
import { ACTIVE, NOT_STARTED, afterPoll } from './rules';
import { BulkViews, freshView, type JobView } from './views';

export const POLL_MS = 1_000;
const ITEMS_SIZE = 100;
const RESULTS_SIZE = 50;
const JOBS_SIZE = 10;

export class BulkSection implements Section {
  private readonly form: BulkForm;
  private readonly views: BulkViews;
  private readonly poller: Poller;
  // past jobs
  private jobs: Page<BulkJob> | null = null;
  private jobsPage = 0;
  private jobsError: string | null = null;
  // one job
  private jobId: number | null = null;
  private view_: JobView | null = null;
  private loadError: string | null = null;
  private polls = 0;
  private active = false;

  constructor(
    private readonly host: Host,
    private readonly clock: PollClock = browserClock,
  ) {
    this.poller = new Poller(clock, POLL_MS);
    this.form = new BulkForm(host, clock, (job) => this.previewed(job));
    this.views = new BulkViews(host, {
      now: () => this.clock.now(),
      cancel: () => this.cancel(),
      confirm: (event) => void this.confirm(event),
      loadItemsPage: (page) => void this.loadItemsPage(page),
      loadResults: () => void this.loadResults(),
    });
  }

  enter(route: Route): void {
    this.active = true;
    this.jobId = route.id;
    if (route.id === null) {
      this.poller.stop();
      void this.loadJobs();
    } else if (this.view_?.job.id !== route.id) {
      this.poller.stop();
      this.view_ = null;
      void this.loadJob(route.id);
    } else {
      this.follow();
    }
  }

  leave(): void {
    this.active = false;
    this.poller.stop();
  }

  /** The job currently shown, if any (for tests and the views). */
  get shown(): JobView | null {
    return this.view_;
  }

  // --- past jobs -------------------------------------------------------------------------------

  private async loadJobs(): Promise<void> {
    try {
      this.jobs = await this.host.api.bulk.jobs(this.jobsPage, JOBS_SIZE);
      this.jobsError = null;
    } catch (error) {
      this.jobsError = errorText(error);
    }
    this.host.redraw();
  }

  /** The form's dry run created a job: show it. */
  private previewed(job: BulkJob): void {
    this.view_ = freshView(job, null);
    if (this.active && this.jobId === null) this.host.navigate(`#/bulk/${job.id}`);
    else void this.loadJobs();
  }

  // --- one job ---------------------------------------------------------------------------------

  private async loadJob(id: number): Promise<void> {
    this.loadError = null;
    this.host.redraw();
    try {
      const job = await this.host.api.bulk.job(id);
      if (this.jobId !== id) return;
      this.view_ = freshView(job, null);
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
    const v = this.view_;
    if (v) this.poller.start(() => this.pollOnce(v));
  }

  /** Read the job once; return whether to keep polling it. */
  private async pollOnce(v: JobView): Promise<boolean> {
    if (this.view_ !== v || !this.active) return false;
    try {
      const job = await this.host.api.bulk.job(v.job.id);
      if (this.view_ !== v) return false;
      const was = v.job.state;
      v.job = job;
      v.error = null;
      this.polls++;
      const next = afterPoll(was, job, this.polls);
      if (next.loadItems) void this.loadItems();
      if (next.loadResults) void this.loadResults();
      if (next.refreshCounts) this.host.refreshCounts();
    } catch (error) {
      v.error = errorText(error);
    }
    this.host.redraw();
    return this.view_ === v && this.active && (ACTIVE.includes(v.job.state) || v.confirming);
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
      v.items = await this.host.api.bulk.items(v.job.id, v.verdict, page, ITEMS_SIZE);
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
      const results = await this.host.api.history.list({
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
      v.job = await this.host.api.bulk.confirm(v.job.id, expected);
      void this.loadResults();
      this.follow();
    } catch (error) {
      v.confirmError = errorText(error);
      // The job may have started anyway (a second tab): read it again.
      try {
        v.job = await this.host.api.bulk.job(v.job.id);
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
        v.job = await this.host.api.bulk.cancel(v.job.id);
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
      return html`${this.views.backLink()}<h1 tabindex="-1">${t('jobTitle', { id: this.jobId })}</h1>${notice('error', this.loadError)}`;
    }
    const v = this.view_;
    if (!v || v.job.id !== this.jobId) return html`${this.views.backLink()}<h1 tabindex="-1">${t('jobTitle', { id: this.jobId })}</h1>${busy(t('loading'))}`;
    return this.views.jobView(v);
  }

  private listView(): TemplateResult {
    return html`<div class="c-head">
        <h1 tabindex="-1">${t('bulkTitle')}</h1>
        <p class="lead">${t('bulkLead')}</p>
      </div>
      ${this.form.view()}
      <section class="c-section" aria-labelledby="past-jobs">
        <h2 id="past-jobs">${t('pastJobs')}</h2>
        ${notice('error', this.jobsError)}
        ${this.jobs === null
          ? this.jobsError
            ? nothing
            : busy(t('loading'))
          : this.jobs.items.length === 0
            ? empty(t('pastJobsEmpty'))
            : this.views.jobsTable(this.jobs)}
        ${pager(this.jobs, (page) => {
          this.jobsPage = page;
          void this.loadJobs();
        }, null)}
      </section>`;
  }
}

/** Create the bulk jobs section for the console shell. */
export function createBulk(host: Host): Section {
  return new BulkSection(host);
}
