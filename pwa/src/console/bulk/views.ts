// The bulk job pages: the list of past jobs and one job through its stages (checking, the dry
// run to confirm, progress and results). Rendering only: what the buttons do comes from the
// section through JobActions.

import { html, nothing, type TemplateResult } from 'lit-html';
import { VERDICTS, type BulkItem, type BulkJob, type HistoryItem, type OpState, type Page, type Verdict } from '../api';
import { dateTime, dateTimeShort, deviceTypeName, deviceTypeTitle, duration, num, statusName } from '../format';
import { t, tMaybe } from '../i18n';
import type { Host } from '../section';
import { busy, empty, notice, pager, platformAnswer, stateChip } from '../widgets';
import { ACTIVE, NOT_STARTED, resultsReady } from './rules';

const RESULT_STATES: readonly OpState[] = ['synced', 'failed', 'conflict', 'discarded', 'accepted', 'syncing'];
const BY_STATE_ORDER: readonly OpState[] = ['synced', 'syncing', 'accepted', 'failed', 'conflict', 'discarded'];

/** What the page shows of one job, and the reader's choices on it. */
export interface JobView {
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

/** Return the view of a job just read. */
export function freshView(job: BulkJob, items: Page<BulkItem> | null): JobView {
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

/** What the job page's buttons do (the section does it). */
export interface JobActions {
  now(): number;
  cancel(): void;
  confirm(event: Event): void;
  loadItemsPage(page: number): void;
  loadResults(): void;
}

/** "Retire", "Move to prfi00x": what a job does, in a few words. */
export function actionLabel(job: Pick<BulkJob, 'action' | 'target_group'>): string {
  return job.action === 'move' ? t('do.set_group', { group: job.target_group ?? '' }) : t(`action.${job.action}`);
}

/** "pasted list (10 devices)", "CSV retire.csv (200 devices)": where the devices came from, counted in devices. */
export function sourceLabel(job: BulkJob): string {
  const detail = job.source_detail ?? '';
  const devices = t('jobDevices', { count: num(job.summary.devices) });
  return tMaybe(`source.${job.source}`, { detail, devices }, detail);
}

function jobStateChip(job: BulkJob): TemplateResult {
  return html`<span class="state c-job-${job.state}" data-testid="job-state">${tMaybe(`jobState.${job.state}`, {}, job.state)}</span>`;
}

function verdictChip(verdict: Verdict): TemplateResult {
  return html`<span class="c-verdict c-verdict-${verdict}">${tMaybe(`verdictOne.${verdict}`, {}, verdict)}</span>`;
}

export class BulkViews {
  constructor(
    private readonly host: Host,
    private readonly actions: JobActions,
  ) {}

  backLink(): TemplateResult {
    return html`<p class="c-back"><a href="#/bulk"><span aria-hidden="true">‹</span> ${t('navBulk')}</a></p>`;
  }

  jobsTable(page: Page<BulkJob>): TemplateResult {
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

  jobView(v: JobView): TemplateResult {
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
    const seconds = Math.max(0, Math.floor((this.actions.now() - Date.parse(job.created_at)) / 1000));
    const percent = devices ? Math.floor((100 * read) / devices) : 0;
    return html`<section class="c-card c-checking" aria-labelledby="checking-title" data-testid="checking">
      <h2 id="checking-title">${t('checkingTitle')}</h2>
      <p>${t('checkingLead', { devices: num(devices) })}</p>
      <div class="c-progress-row">
        <progress class="c-progress" max=${Math.max(devices, 1)} .value=${read} aria-labelledby="checking-title" data-testid="checking-progress"></progress>
        <span class="c-num" role="status">${t('checkingCount', { read: num(read), devices: num(devices), percent })}</span>
      </div>
      <p class="sub">${t('previewTakesTime')} ${t('elapsed', { seconds })}</p>
      <button type="button" class="btn btn-small btn-danger-outline" data-testid="cancel-job" @click=${() => this.actions.cancel()}>${t('cancelCheck')}</button>
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
              <form class="c-confirm-form" @submit=${(e: Event) => this.actions.confirm(e)} novalidate>
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
                void this.actions.loadItemsPage(0);
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
      ${pager(v.items, (page) => void this.actions.loadItemsPage(page), null)}`;
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
          ${resultsReady(job)
            ? html`<a class="btn btn-small" href=${this.host.api.bulk.resultsCsvUrl(job.id)} download data-testid="results-csv">
                <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M11 3h2v9.2l3.3-3.3 1.4 1.4L12 16 6.3 10.3l1.4-1.4 3.3 3.3zM5 18h14v2H5z"/></svg>
                ${t('downloadResults')}
              </a>`
            : html`<span class="sub" data-testid="results-csv-later">${t('resultsWhenDone')}</span>`}
          ${running
            ? html`<button type="button" class="btn btn-small btn-danger-outline" data-testid="cancel-job" @click=${() => this.actions.cancel()}>${t('cancelJob')}</button>`
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
          this.actions.loadResults();
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
                      <td data-label=${t('colDeviceType')} title=${deviceTypeTitle(item.device_type) ?? nothing}>${deviceTypeName(item.device_type)}</td>
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
        this.actions.loadResults();
      }, null)}
    </section>`;
  }
}
