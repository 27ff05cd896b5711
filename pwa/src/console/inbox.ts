// The sync-failure inbox: operations the platform refused (failed) or that clash with newer ones
// (conflict), with the platform's message; retry, correct and retry, or discard with a reason.
// Every decision is confirmed in a dialog, its result shown, and the list read again. Operations
// the worker keeps retrying are counted apart and listed on request, with a "try now"; so are
// operations whose drift the worker repaired (a late write of ours), with the read-back's evidence.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ApiError, type Group, type HistoryItem, type InboxPage, type Person } from './api';
import { filterForm, filterFromParams, filterToParams, filterToQuery, isFiltered, NO_FILTER, type OpFilter } from './filters';
import { dateTime, describeAction, deviceTypeName, deviceTypeTitle, duration, errorText, num, statusName } from './format';
import { t } from './i18n';
import type { Host, Route, Section } from './section';
import { busy, empty, notice, pager, platformAnswer, stateChip } from './widgets';

const INBOX_STATES = ['failed', 'conflict', 'retrying', 'drift_repaired'] as const;
const STATUSES = ['new', 'installed', 'uninstalled', 'quarantine', 'retired'] as const;
const GROUP_PATTERN = /^[a-z0-9]{1,64}$/;
const TUID_PATTERN = /^[A-Z0-9]{17}$/;
const PAGE_SIZE = 25;

/** Which arguments of an operation kind a supervisor may correct. */
function editable(kind: string): boolean {
  return kind === 'install' || kind === 'set_group' || kind === 'set_status' || kind === 'replace';
}

/** Listed for its evidence only: the worker already put the device back to the last action. */
function repaired(item: HistoryItem): boolean {
  return item.error?.code === 'drift_repaired' && item.state !== 'failed' && item.state !== 'conflict';
}

export class InboxSection implements Section {
  private filter: OpFilter = { ...NO_FILTER };
  private draft: OpFilter = { ...NO_FILTER };
  private page = 0;
  private data: InboxPage | null = null;
  private loading = false;
  private error: string | null = null;
  private result: string | null = null;
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
      () => undefined,
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
    this.filter = filterFromParams(route.params);
    this.draft = { ...this.filter };
    this.page = Math.max(0, Number(route.params.get('page')) || 0);
    void this.load();
  }

  leave(): void {
    this.seq++;
  }

  private hash(): string {
    const params = filterToParams(this.filter);
    if (this.page) params.set('page', String(this.page));
    const text = params.toString();
    return `#/inbox${text ? `?${text}` : ''}`;
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    this.host.replaceHash(this.hash());
    this.loading = true;
    this.host.redraw();
    try {
      const data = await this.host.api.inbox.list({ ...filterToQuery(this.filter), page: this.page, size: PAGE_SIZE });
      if (seq !== this.seq) return;
      if (data.items.length === 0 && this.page > 0 && data.totalElements > 0) {
        // The last item of the last page was decided on: show the page before.
        this.page = Math.max(0, data.totalPages - 1);
        this.loading = false;
        void this.load();
        return;
      }
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
    this.page = 0;
    void this.load();
  }

  /** After a decision (or a failed one): say what happened, read the list and badge again. */
  private decided(message: string): void {
    this.result = message;
    this.host.refreshCounts();
    void this.load();
  }

  /** A 404, or a 409 naming the state it is in now, means someone else decided: just refresh. */
  private async run(action: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || (error.status === 409 && 'state' in error.details))) {
        this.decided(t('noLongerInInbox'));
        return;
      }
      throw error;
    }
    this.decided(done);
  }

  private retry(item: HistoryItem): void {
    const action = describeAction(item.kind, item.args);
    void this.host.dialogs.ask({
      title: t('retryTitle'),
      body: t('retryBody', { action, tuid: item.tuid }),
      confirmLabel: t('retryConfirm'),
      reason: 'optional',
      run: (reason) => this.run(() => this.host.api.inbox.retry(item.op_id, reason), t('retried', { action, tuid: item.tuid })),
    });
  }

  private tryNow(item: HistoryItem): void {
    const action = describeAction(item.kind, item.args);
    void this.run(() => this.host.api.inbox.retry(item.op_id, null), t('triedNow', { action, tuid: item.tuid })).catch((error: unknown) => {
      this.error = errorText(error);
      this.host.redraw();
    });
  }

  private discard(item: HistoryItem): void {
    const action = describeAction(item.kind, item.args);
    void this.host.dialogs.ask({
      title: t('discardTitle'),
      body: t('discardBody', { action, tuid: item.tuid }),
      confirmLabel: t('discardConfirm'),
      danger: true,
      reason: 'required',
      run: (reason) => this.run(() => this.host.api.inbox.discard(item.op_id, reason ?? ''), t('discarded', { action, tuid: item.tuid })),
    });
  }

  private edit(item: HistoryItem): void {
    const original = Object.fromEntries(Object.entries(item.args).map(([k, v]) => [k, String(v ?? '')]));
    const values: Record<string, string> = { ...original };
    if (item.kind === 'replace' && !values.old_status) values.old_status = 'uninstalled';
    const action = describeAction(item.kind, item.args);
    const fieldError = (): string | null => {
      if (item.kind === 'install' || item.kind === 'set_group') {
        const group = (values.group_id ?? '').trim().toLowerCase();
        if (!(GROUP_PATTERN.test(group) || (group === 'unassigned' && item.kind === 'set_group'))) return t('argGroupInvalid');
      }
      if (item.kind === 'replace' && !TUID_PATTERN.test((values.new_tuid ?? '').trim().toUpperCase())) return t('argNewTuidInvalid');
      return null;
    };
    const cleaned = (): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) {
        out[k] = k === 'group_id' ? v.trim().toLowerCase() : k === 'new_tuid' ? v.trim().toUpperCase() : v;
      }
      return out;
    };
    const set = (name: string) => (e: Event) => {
      values[name] = (e.target as HTMLInputElement | HTMLSelectElement).value;
    };
    const fields = () => html`<div class="c-edit">
      <p class="sub">${t('currentArgs')}: <code>${Object.entries(original).map(([k, v]) => `${k} = ${v}`).join(', ') || '–'}</code></p>
      ${item.kind === 'install' || item.kind === 'set_group'
        ? html`<label for="edit-group">${t('argGroup')}</label>
            <input id="edit-group" class="mono" list="edit-groups" autocomplete="off" autocapitalize="none" spellcheck="false"
              data-testid="edit-group" aria-describedby="edit-group-help" .value=${values.group_id ?? ''} @input=${set('group_id')} />
            <datalist id="edit-groups">${this.groups.map((g) => html`<option value=${g.group_id}>${g.description ?? ''}</option>`)}</datalist>
            <p class="sub" id="edit-group-help">${t('argGroupHelp')}</p>`
        : nothing}
      ${item.kind === 'set_status'
        ? html`<label for="edit-status">${t('argStatus')}</label>
            <select id="edit-status" @change=${set('status')}>
              ${STATUSES.map((s) => html`<option value=${s} ?selected=${values.status === s}>${statusName(s)}</option>`)}
            </select>`
        : nothing}
      ${item.kind === 'replace'
        ? html`<label for="edit-newtuid">${t('argNewTuid')}</label>
            <input id="edit-newtuid" class="mono" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="17"
              .value=${values.new_tuid ?? ''} @input=${set('new_tuid')} />
            <label for="edit-oldstatus">${t('argOldStatus')}</label>
            <select id="edit-oldstatus" @change=${set('old_status')}>
              ${(['uninstalled', 'retired'] as const).map(
                (s) => html`<option value=${s} ?selected=${values.old_status === s}>${statusName(s)}</option>`,
              )}
            </select>`
        : nothing}
    </div>`;
    void this.host.dialogs.ask({
      title: t('editTitle'),
      body: t('editBody', { action, tuid: item.tuid }),
      confirmLabel: t('editConfirm'),
      reason: 'optional',
      fields,
      validate: () => {
        const problem = fieldError();
        if (problem) return problem;
        const next = cleaned();
        const same = Object.keys({ ...original, ...next }).every((k) => (original[k] ?? '') === (next[k] ?? ''));
        return same ? t('editNoChange') : null;
      },
      run: (reason) => {
        const next = cleaned();
        return this.run(
          () => this.host.api.inbox.edit(item.op_id, next, reason),
          t('edited', { action: describeAction(item.kind, next), tuid: item.tuid }),
        );
      },
    });
  }

  view(): TemplateResult {
    const data = this.data;
    const filtered = isFiltered(this.filter);
    return html`<div class="c-head">
        <h1 tabindex="-1">${t('inboxTitle')}</h1>
        <p class="lead">${t('inboxLead')}</p>
      </div>
      ${filterForm({
        id: 'inbox',
        draft: this.draft,
        states: INBOX_STATES,
        anyState: t('all'),
        groups: this.groups,
        people: this.people,
        apply: (f) => this.apply(f),
        expanded: this.filtersOpen,
        toggle: () => {
          this.filtersOpen = !this.filtersOpen;
          this.host.redraw();
        },
      })}
      <div class="c-toolbar">
        <p class="c-total" data-testid="inbox-total">
          ${data ? t('inboxCounts', { failed: num(data.counts.failed), conflict: num(data.counts.conflict) }) : nothing}
          ${data && data.counts.retrying > 0 && this.filter.state !== 'retrying'
            ? html`· <button type="button" class="c-link" data-testid="show-retrying" title=${t('retryingHelp')}
                  @click=${() => this.apply({ ...NO_FILTER, state: 'retrying' })}>${t('retryingCount', { count: num(data.counts.retrying) })}</button>`
            : nothing}
          ${data && data.counts.drift_repaired > 0 && this.filter.state !== 'drift_repaired'
            ? html`· <button type="button" class="c-link" data-testid="show-drift-repaired" title=${t('driftRepairedHelp')}
                  @click=${() => this.apply({ ...NO_FILTER, state: 'drift_repaired' })}>${t('driftRepairedCount', { count: num(data.counts.drift_repaired) })}</button>`
            : nothing}
        </p>
        ${this.loading ? html`<span class="c-spinner" role="status" aria-label=${t('loading')}></span>` : nothing}
        <span class="spacer"></span>
        <button type="button" class="btn btn-small" @click=${() => void this.load()}>${t('refresh')}</button>
      </div>
      ${notice('success', this.result, () => {
        this.result = null;
        this.host.redraw();
      })}
      ${notice('error', this.error)}
      ${!data
        ? this.error
          ? nothing
          : busy(t('loading'))
        : data.items.length === 0
          ? empty(
              filtered ? t('inboxNoMatch') : t('inboxEmpty'),
              filtered
                ? html`<button type="button" class="btn btn-small" @click=${() => this.apply({ ...NO_FILTER })}>${t('clearFilters')}</button>`
                : undefined,
            )
          : html`<ul class="c-failures" data-testid="inbox-list">${data.items.map((item) => this.card(item))}</ul>`}
      ${pager(data, (page) => {
        this.page = page;
        void this.load();
      }, null)}`;
  }

  private card(item: HistoryItem): TemplateResult {
    const who = item.technician.display_name || item.technician.username;
    return html`<li class="c-failure c-failure-${item.state}" data-testid="inbox-item" data-op-id=${item.op_id}>
      <div class="c-failure-head">
        <button type="button" class="c-link mono c-failure-tuid" @click=${() => this.host.openTimeline(item.tuid)}
          aria-label=${t('openTimeline', { tuid: item.tuid })}>${item.tuid}</button>
        <span class="sub" title=${deviceTypeTitle(item.device_type) ?? nothing}>${deviceTypeName(item.device_type)}</span>
        <span class="spacer"></span>
        ${stateChip(item.retrying ? 'retrying' : repaired(item) ? 'drift_repaired' : item.state)}
      </div>
      <p class="c-failure-what">
        <strong>${describeAction(item.kind, item.args)}</strong>
        <span class="sub">
          · ${who} · ${dateTime(item.device_time)}
          ${item.offline_delay_s >= 60 ? html`· ${t('colDelay')} ${duration(item.offline_delay_s)}` : nothing}
          ${item.bulk_job_id ? html`· <a href="#/bulk/${item.bulk_job_id}">${t('bulkJobRef', { id: item.bulk_job_id })}</a>` : nothing}
        </span>
      </p>
      <div class="c-platform-msg">
        <span class="c-platform-label">${t('platformSaid')}</span>
        <span data-testid="platform-message">${item.error || item.platform ? platformAnswer(item) : t('noMessage')}</span>
      </div>
      ${item.retrying
        ? this.retryingActions(item, item.retrying)
        : repaired(item)
          ? html`<p class="sub" data-testid="drift-repaired-status">${t('driftRepairedStatus')}</p>`
          : this.decisionActions(item)}
    </li>`;
  }

  /** Nothing to decide while the worker retries; the supervisor may only cut the wait short. */
  private retryingActions(item: HistoryItem, retrying: NonNullable<HistoryItem['retrying']>): TemplateResult {
    return html`<p class="sub" data-testid="retrying-status">
        ${t('retryingStatus', { attempts: num(retrying.attempts), next: dateTime(retrying.next_try_at) })}
      </p>
      <div class="c-failure-actions">
        <button type="button" class="btn btn-small" data-testid="retry-now" @click=${() => this.tryNow(item)}>${t('tryNow')}</button>
      </div>`;
  }

  private decisionActions(item: HistoryItem): TemplateResult {
    return html`<div class="c-failure-actions">
        <button type="button" class="btn btn-small btn-primary" data-testid="retry" @click=${() => this.retry(item)}>${t('retry')}</button>
        ${editable(item.kind)
          ? html`<button type="button" class="btn btn-small" data-testid="edit" @click=${() => this.edit(item)}>${t('editRetry')}</button>`
          : nothing}
        <button type="button" class="btn btn-small btn-danger-outline" data-testid="discard" @click=${() => this.discard(item)}>${t('discard')}</button>
      </div>`;
  }
}

/** Create the inbox section for the console shell. */
export function createInbox(host: Host): Section {
  return new InboxSection(host);
}
