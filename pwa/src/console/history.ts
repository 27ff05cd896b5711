// Install history: every operation, filtered, sorted and paged, with the CSV export of exactly
// the filtered rows and a device's timeline one click away.

import { html, nothing, type TemplateResult } from 'lit-html';
import { OP_STATES, type Group, type HistoryItem, type Page, type Person } from './api';
import { filterForm, filterFromParams, filterToParams, filterToQuery, isFiltered, NO_FILTER, type OpFilter } from './filters';
import { dateTimeLong, dateTimeShort, describeAction, deviceTypeName, deviceTypeTitle, duration, errorText, num, timeAfter } from './format';
import { t } from './i18n';
import type { Host, Route, Section } from './section';
import { busy, empty, notice, pager, parseSort, platformAnswer, sortParam, stateChip, th, type Sort } from './widgets';
import { verificationChip } from './verification';

const SORTABLE = ['device_time', 'received_at', 'synced_at', 'updated_at', 'tuid', 'kind', 'state', 'technician'] as const;
const DEFAULT_SORT: Sort = { field: 'device_time', desc: true };
const DEFAULT_SIZE = 50;

export class HistorySection implements Section {
  private filter: OpFilter = { ...NO_FILTER };
  private draft: OpFilter = { ...NO_FILTER };
  private sort: Sort = DEFAULT_SORT;
  private page = 0;
  /** Where the page to load starts: the previous page's cursor when stepping by one. */
  private cursor: string | null = null;
  private size = DEFAULT_SIZE;
  private data: Page<HistoryItem> | null = null;
  private loading = false;
  private error: string | null = null;
  private seq = 0;
  private groups: Group[] = [];
  private people: Person[] = [];
  private filtersOpen = false;

  constructor(private readonly host: Host) {
    host.groups().then(
      (groups) => {
        this.groups = groups;
        host.redraw();
      },
      () => undefined, // the group field still takes typed ids
    );
    host.people().then(
      (people) => {
        this.people = people;
        host.redraw();
      },
      () => undefined, // the technician field still takes typed usernames
    );
  }

  enter(route: Route): void {
    const p = route.params;
    this.filter = filterFromParams(p);
    this.draft = { ...this.filter };
    this.sort = parseSort(p.get('sort'), SORTABLE, DEFAULT_SORT);
    this.page = Math.max(0, Number(p.get('page')) || 0);
    this.cursor = null;
    const size = Number(p.get('size'));
    this.size = size > 0 && size <= 500 ? size : DEFAULT_SIZE;
    void this.load();
  }

  leave(): void {
    this.seq++; // drop answers still on their way
  }

  private hash(): string {
    const params = filterToParams(this.filter);
    if (this.sort.field !== DEFAULT_SORT.field || this.sort.desc !== DEFAULT_SORT.desc) params.set('sort', sortParam(this.sort));
    if (this.page) params.set('page', String(this.page));
    if (this.size !== DEFAULT_SIZE) params.set('size', String(this.size));
    const text = params.toString();
    return `#/history${text ? `?${text}` : ''}`;
  }

  private query() {
    return { ...filterToQuery(this.filter), sort: [sortParam(this.sort)] };
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    this.host.replaceHash(this.hash());
    this.loading = true;
    this.host.redraw();
    try {
      const cursor = this.cursor ?? undefined;
      const data = await this.host.api.history.list({ ...this.query(), page: this.page, size: this.size, cursor });
      if (seq !== this.seq) return;
      this.data = data;
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = errorText(error);
    }
    this.loading = false;
    this.host.redraw();
  }

  private apply(filter: OpFilter): void {
    this.filter = filter;
    this.draft = { ...filter };
    this.goTo(0);
  }

  /**
   * Load a page. Next and previous start from the cursor the shown page ends at, so page
   * 2,001 costs what page 2 does; any other page (and a reload) is read by its number.
   */
  private goTo(page: number): void {
    const data = this.data;
    this.cursor = null;
    if (data && page === data.number + 1) this.cursor = data.nextCursor ?? null;
    if (data && page === data.number - 1 && page > 0) this.cursor = data.prevCursor ?? null;
    this.page = page;
    void this.load();
  }

  view(): TemplateResult {
    const data = this.data;
    const filtered = isFiltered(this.filter);
    return html`<div class="c-head">
        <h1 tabindex="-1">${t('historyTitle')}</h1>
        <p class="lead">${t('historyLead')}</p>
      </div>
      ${filterForm({
        id: 'history',
        draft: this.draft,
        states: OP_STATES,
        anyState: t('any'),
        groups: this.groups,
        people: this.people,
        apply: (f) => this.apply(f),
        expanded: this.filtersOpen,
        verification: true,
        toggle: () => {
          this.filtersOpen = !this.filtersOpen;
          this.host.redraw();
        },
      })}
      <div class="c-toolbar">
        <p class="c-total" aria-live="polite" data-testid="history-total">
          ${data ? (data.totalElements === 1 && data.totalExact !== false ? t('operationsCountOne') : t('operationsCount', { count: total(data) })) : nothing}
        </p>
        ${this.loading ? html`<span class="c-spinner" role="status" aria-label=${t('loading')}></span>` : nothing}
        <span class="spacer"></span>
        <a class="btn btn-small" href=${this.host.api.history.csvUrl(this.query())} download data-testid="export-csv"
          title=${t('exportCsvHint')}>
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M11 3h2v9.2l3.3-3.3 1.4 1.4L12 16 6.3 10.3l1.4-1.4 3.3 3.3zM5 18h14v2H5z"/></svg>
          ${t('exportCsv')}
        </a>
      </div>
      ${notice('error', this.error)}
      ${!data
        ? this.error
          ? nothing
          : busy(t('loading'))
        : data.items.length === 0
          ? empty(
              filtered ? t('historyNoMatch') : t('historyEmpty'),
              filtered
                ? html`<button type="button" class="btn btn-small" @click=${() => this.apply({ ...NO_FILTER })}>${t('clearFilters')}</button>`
                : undefined,
            )
          : this.table(data)}
      ${pager(
        data,
        (page) => this.goTo(page),
        (size) => {
          this.size = size;
          this.goTo(0);
        },
      )}`;
  }

  private table(data: Page<HistoryItem>): TemplateResult {
    const onSort = (sort: Sort) => {
      this.sort = sort;
      this.goTo(0);
    };
    const s = this.sort;
    return html`<div class="c-table-wrap">
      <table class="c-table c-stack" data-testid="history-table" aria-busy=${this.loading ? 'true' : 'false'}>
        <thead>
          <tr>
            ${th('colDeviceTime', 'device_time', s, onSort)}
            ${th('colTechnician', 'technician', s, onSort)}
            ${th('colTuid', 'tuid', s, onSort)}
            ${th('colAction', 'kind', s, onSort)}
            ${th('colGroup', null, s, onSort)}
            ${th('colServerTime', 'received_at', s, onSort)}
            ${th('colDelay', null, s, onSort, 'c-num')}
            ${th('colState', 'state', s, onSort)}
            ${th('colPlatform', null, s, onSort)}
            ${th('colVerification', null, s, onSort)}
          </tr>
        </thead>
        <tbody>
          ${data.items.map((item) => this.row(item))}
        </tbody>
      </table>
    </div>`;
  }

  private row(item: HistoryItem): TemplateResult {
    const open = () => this.host.openTimeline(item.tuid);
    return html`<tr class="c-clickable" @click=${(e: MouseEvent) => {
        // Let links, buttons and text selection inside the row do their own thing.
        if ((e.target as HTMLElement).closest('a,button') || String(window.getSelection() ?? '')) return;
        open();
      }}>
      <td data-label=${t('colDeviceTime')} class="c-nowrap" title=${dateTimeLong(item.device_time)}>${dateTimeShort(item.device_time)}</td>
      <td data-label=${t('colTechnician')} class="c-who" title=${item.technician.username}>
        ${item.technician.display_name || item.technician.username}
      </td>
      <td data-label=${t('colTuid')} class="c-tuid-cell">
        <button type="button" class="c-link mono" data-testid="open-timeline" @click=${open}
          aria-label=${t('openTimeline', { tuid: item.tuid })}>${item.tuid}</button>
        <span class="sub c-block c-type" title=${deviceTypeTitle(item.device_type) ?? nothing}>${deviceTypeName(item.device_type)}</span>
      </td>
      <td data-label=${t('colAction')}>
        ${describeAction(item.kind, item.args)}
        ${item.bulk_job_id
          ? html`<a class="sub c-block" href="#/bulk/${item.bulk_job_id}">${t('bulkJobRef', { id: item.bulk_job_id })}</a>`
          : nothing}
      </td>
      <td data-label=${t('colGroup')} class="mono c-group-cell">${item.group ?? t('none')}</td>
      <td data-label=${t('colServerTime')} class="c-nowrap" title=${dateTimeLong(item.received_at)}>${timeAfter(item.received_at, item.device_time)}</td>
      <td data-label=${t('colDelay')} class="c-num ${item.offline_delay_s >= 3600 ? 'c-late' : ''}">${duration(item.offline_delay_s)}</td>
      <td data-label=${t('colState')}>${stateChip(item.state)}</td>
      <td data-label=${t('colPlatform')} class="c-answer">${platformAnswer(item)}</td>
      <td data-label=${t('colVerification')} data-testid="verification">${verificationChip(item.verification)}</td>
    </tr>`;
  }
}

/** The number of operations, marked "≈" when the backend estimated it (past 10,000). */
function total(data: Page<HistoryItem>): string {
  return data.totalExact === false ? `≈ ${num(data.totalElements)}` : num(data.totalElements);
}

/** Create the history section for the console shell. */
export function createHistory(host: Host): Section {
  return new HistorySection(host);
}
