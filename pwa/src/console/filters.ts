// The operation filters the history and the inbox share: their form, how they go into the
// address (so a filtered view can be bookmarked) and how they become API query parameters.

import { html, nothing, type TemplateResult } from 'lit-html';
import { OP_KINDS, type Group, type OpState, type Person, type Query } from './api';
import { localDayBound } from './format';
import { t, tMaybe } from './i18n';

export interface OpFilter {
  tuid: string;
  technician: string;
  group: string;
  action: string;
  state: string;
  from: string; // yyyy-mm-dd, a local calendar day
  to: string;
  dateField: 'device_time' | 'received_at';
  bulkJob: string;
  /** Install verification state (history only). */
  verification: string;
}

export const NO_FILTER: OpFilter = {
  tuid: '',
  technician: '',
  group: '',
  action: '',
  state: '',
  from: '',
  to: '',
  dateField: 'device_time',
  bulkJob: '',
  verification: '',
};

const PARAM_NAMES: Record<keyof OpFilter, string> = {
  tuid: 'tuid',
  technician: 'technician',
  group: 'group',
  action: 'action',
  state: 'state',
  from: 'from',
  to: 'to',
  dateField: 'date_field',
  bulkJob: 'bulk_job_id',
  verification: 'verification',
};

/** Read filters from the address's parameters. */
export function filterFromParams(params: URLSearchParams): OpFilter {
  const filter = { ...NO_FILTER };
  for (const [key, name] of Object.entries(PARAM_NAMES) as [keyof OpFilter, string][]) {
    const value = params.get(name);
    if (value !== null) (filter as Record<keyof OpFilter, string>)[key] = value;
  }
  if (filter.dateField !== 'received_at') filter.dateField = 'device_time';
  return filter;
}

/** Write the filters that are set into parameters for the address. */
export function filterToParams(filter: OpFilter, params = new URLSearchParams()): URLSearchParams {
  for (const [key, name] of Object.entries(PARAM_NAMES) as [keyof OpFilter, string][]) {
    const value = filter[key].trim();
    if (value && !(key === 'dateField' && value === 'device_time')) params.set(name, value);
  }
  return params;
}

/** Turn the filters into the API's query parameters (local days become instants). */
export function filterToQuery(filter: OpFilter): Query {
  return {
    tuid: filter.tuid.trim(),
    technician: filter.technician.trim(),
    group: filter.group.trim().toLowerCase(),
    action: filter.action,
    state: filter.state,
    from: filter.from ? localDayBound(filter.from, false) : null,
    to: filter.to ? localDayBound(filter.to, true) : null,
    date_field: filter.from || filter.to ? filter.dateField : null,
    bulk_job_id: /^\d+$/.test(filter.bulkJob) ? filter.bulkJob : null,
    verification: filter.verification || null,
  };
}

/** Whether any filter is set. */
export function isFiltered(filter: OpFilter): boolean {
  return (Object.keys(NO_FILTER) as (keyof OpFilter)[]).some((k) => k !== 'dateField' && filter[k].trim() !== '');
}

export interface FilterFormOptions {
  id: string;
  draft: OpFilter;
  /** Operation states, and words a list adds (the inbox's `retrying`). */
  states: readonly (OpState | string)[];
  /** The "any state" option's label. */
  anyState: string;
  groups: Group[];
  /** Suggestions for the technician filter (technicians first). */
  people: Person[];
  /** Apply these filters now. */
  apply: (filter: OpFilter) => void;
  /** On a phone only the TUID search shows until the supervisor opens the other filters. */
  expanded: boolean;
  toggle: () => void;
  /** Offer the install verification filter (the history). */
  verification?: boolean;
}

export const VERIFICATION_STATES = ['verified', 'waiting', 'silent', 'unavailable', 'withdrawn'] as const;

/** Technicians first (they are whom the filter is for), then the others, each by name. */
export function pickOrder(people: readonly Person[]): Person[] {
  const rank = (p: Person) => (p.role === 'technician' ? 0 : 1);
  return [...people].sort((a, b) => rank(a) - rank(b) || (a.display_name || a.username).localeCompare(b.display_name || b.username));
}

/** How many filters besides the TUID search are set. */
function otherFilters(filter: OpFilter): number {
  return (['technician', 'group', 'action', 'state', 'from', 'to', 'verification'] as const).filter((k) => filter[k].trim() !== '').length;
}

/**
 * The filter bar. Text fields apply on Enter or with the Apply button; lists and dates apply as
 * soon as they change.
 */
export function filterForm(o: FilterFormOptions): TemplateResult {
  const d = o.draft;
  const set = (key: keyof OpFilter, now: boolean) => (event: Event) => {
    (d as Record<keyof OpFilter, string>)[key] = (event.target as HTMLInputElement | HTMLSelectElement).value;
    if (now) o.apply({ ...d });
  };
  const id = (name: string) => `${o.id}-${name}`;
  const others = otherFilters(d);
  return html`<form class="c-filters ${o.expanded ? 'c-filters-open' : ''}" role="search" aria-label=${t('filters')} @submit=${(e: Event) => {
      e.preventDefault();
      o.apply({ ...d });
    }}>
    <div class="c-field c-field-wide">
      <label for=${id('tuid')}>${t('fTuid')}</label>
      <input id=${id('tuid')} type="search" class="mono" autocomplete="off" spellcheck="false" data-testid="filter-tuid"
        .value=${d.tuid} @input=${set('tuid', false)} />
    </div>
    <div class="c-field c-more">
      <label for=${id('technician')}>${t('fTechnician')}</label>
      <input id=${id('technician')} type="search" list=${id('people')} placeholder=${t('fTechnicianHint')} autocomplete="off" autocapitalize="none" spellcheck="false" data-testid="filter-technician"
        .value=${d.technician} @input=${set('technician', false)} @change=${set('technician', true)} />
      <datalist id=${id('people')} data-testid="technician-suggestions">
        ${pickOrder(o.people).map((p) => html`<option value=${p.username}>${p.display_name}${p.role === 'technician' ? '' : ` (${tMaybe(`role.${p.role}`, {}, p.role)})`}</option>`)}
      </datalist>
    </div>
    <div class="c-field c-more">
      <label for=${id('group')}>${t('fGroup')}</label>
      <input id=${id('group')} type="search" list=${id('groups')} autocomplete="off" autocapitalize="none" spellcheck="false" data-testid="filter-group"
        .value=${d.group} @input=${set('group', false)} @change=${set('group', true)} />
      <datalist id=${id('groups')}>
        ${o.groups.map((g) => html`<option value=${g.group_id}>${g.description ?? ''}</option>`)}
      </datalist>
    </div>
    <div class="c-field c-more">
      <label for=${id('action')}>${t('fAction')}</label>
      <select id=${id('action')} data-testid="filter-action" @change=${set('action', true)}>
        <option value="" ?selected=${!d.action}>${t('any')}</option>
        ${OP_KINDS.map((k) => html`<option value=${k} ?selected=${d.action === k}>${tMaybe(`kind.${k}`)}</option>`)}
      </select>
    </div>
    <div class="c-field c-more">
      <label for=${id('state')}>${t('fState')}</label>
      <select id=${id('state')} data-testid="filter-state" @change=${set('state', true)}>
        <option value="" ?selected=${!d.state}>${o.anyState}</option>
        ${o.states.map((s) => html`<option value=${s} ?selected=${d.state === s}>${tMaybe(`state.${s}`)}</option>`)}
      </select>
    </div>
    ${o.verification
      ? html`<div class="c-field c-more">
          <label for=${id('verification')}>${t('fVerification')}</label>
          <select id=${id('verification')} data-testid="filter-verification" @change=${set('verification', true)}>
            <option value="" ?selected=${!d.verification}>${t('any')}</option>
            ${VERIFICATION_STATES.map((v) => html`<option value=${v} ?selected=${d.verification === v}>${t(`verification.${v}`)}</option>`)}
          </select>
        </div>`
      : nothing}
    <div class="c-field c-field-date c-more">
      <label for=${id('from')}>${t('fFrom')}</label>
      <input id=${id('from')} type="date" .value=${d.from} max=${d.to || nothing} @change=${set('from', true)} />
    </div>
    <div class="c-field c-field-date c-more">
      <label for=${id('to')}>${t('fTo')}</label>
      <input id=${id('to')} type="date" .value=${d.to} min=${d.from || nothing} @change=${set('to', true)} />
    </div>
    <div class="c-field c-field-date c-more">
      <label for=${id('datefield')}>${t('fDateField')}</label>
      <select id=${id('datefield')} @change=${set('dateField', true)}>
        <option value="device_time" ?selected=${d.dateField === 'device_time'}>${t('fDeviceTime')}</option>
        <option value="received_at" ?selected=${d.dateField === 'received_at'}>${t('fServerTime')}</option>
      </select>
    </div>
    <button type="button" class="btn btn-small c-filter-toggle" aria-expanded=${o.expanded ? 'true' : 'false'}
      @click=${o.toggle}>${t('moreFilters')}${others ? html` <span class="c-count c-count-info">${others}</span>` : nothing}</button>
    <div class="c-filter-buttons">
      <button type="submit" class="btn btn-primary btn-small" data-testid="filter-apply">${t('apply')}</button>
      ${isFiltered(d)
        ? html`<button type="button" class="btn btn-small" @click=${() => o.apply({ ...NO_FILTER })}>${t('clearFilters')}</button>`
        : nothing}
    </div>
    ${d.bulkJob
      ? html`<p class="c-filter-chip">${t('fBulkJob', { id: d.bulkJob })}
          <button type="button" class="btn btn-small" @click=${() => o.apply({ ...d, bulkJob: '' })}>${t('fRemoveBulkJob')}</button></p>`
      : nothing}
  </form>`;
}
