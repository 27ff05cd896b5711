// Small pieces every console section uses: state chips, sortable column headers, the pager,
// notices and the busy line.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { HistoryItem, OpState, Page } from './api';
import { num } from './format';
import { t, tMaybe, type MessageKey } from './i18n';

/** A coloured chip for an operation's sync state. */
export function stateChip(state: OpState | string): TemplateResult {
  return html`<span class="state state-${state}">${tMaybe(`state.${state}`, {}, state)}</span>`;
}

export interface Sort {
  field: string;
  desc: boolean;
}

/** Serialise a sort for the API (`field,desc`). */
export function sortParam(sort: Sort): string {
  return `${sort.field},${sort.desc ? 'desc' : 'asc'}`;
}

/** Read `field,asc|desc` back; anything else gives the fallback. */
export function parseSort(value: string | null, allowed: readonly string[], fallback: Sort): Sort {
  const [field, direction] = (value ?? '').split(',');
  if (!field || !allowed.includes(field)) return fallback;
  return { field, desc: direction !== 'asc' };
}

/**
 * A column header: a sort button when the column sorts (aria-sort says how it is sorted now),
 * plain text otherwise.
 */
export function th(label: MessageKey, field: string | null, sort: Sort, onSort: (next: Sort) => void, cls = ''): TemplateResult {
  if (!field) return html`<th scope="col" class=${cls}>${t(label)}</th>`;
  const active = sort.field === field;
  const ariaSort = active ? (sort.desc ? 'descending' : 'ascending') : 'none';
  const next: Sort = { field, desc: active ? !sort.desc : field.endsWith('_time') || field.endsWith('_at') };
  return html`<th scope="col" class=${cls} aria-sort=${ariaSort}>
    <button type="button" class="c-sort ${active ? 'c-sort-active' : ''}" @click=${() => onSort(next)}
      title=${t('sortBy', { column: t(label) })}>
      ${t(label)}<span class="c-sort-arrow" aria-hidden="true">${active ? (sort.desc ? '▼' : '▲') : '↕'}</span>
    </button>
  </th>`;
}

export const PAGE_SIZES = [25, 50, 100, 200] as const;

/** "51–100 of 1,234", previous/next and rows per page. */
export function pager<T>(
  page: Page<T> | null,
  onPage: (page: number) => void,
  onSize: ((size: number) => void) | null,
  sizes: readonly number[] = PAGE_SIZES,
): TemplateResult | typeof nothing {
  if (!page || page.totalElements === 0) return nothing;
  const from = page.number * page.size + 1;
  const to = Math.min(page.totalElements, from + page.items.length - 1);
  const pages = Math.max(1, page.totalPages);
  return html`<nav class="c-pager" aria-label=${t('pagination')}>
    <span class="c-pager-range">${t('showing', { from: num(from), to: num(to), total: num(page.totalElements) })}</span>
    <span class="c-pager-buttons">
      <button type="button" class="btn btn-small" ?disabled=${page.number === 0} @click=${() => onPage(page.number - 1)}>
        <span aria-hidden="true">‹</span> ${t('previousPage')}
      </button>
      <span class="c-pager-page">${t('pageOf', { page: num(page.number + 1), pages: num(pages) })}</span>
      <button type="button" class="btn btn-small" ?disabled=${page.last} @click=${() => onPage(page.number + 1)}>
        ${t('nextPage')} <span aria-hidden="true">›</span>
      </button>
    </span>
    ${onSize
      ? html`<label class="c-pager-size">${t('rowsPerPage')}
          <select @change=${(e: Event) => onSize(Number((e.target as HTMLSelectElement).value))}>
            ${sizes.map((s) => html`<option value=${s} ?selected=${s === page.size}>${s}</option>`)}
          </select>
        </label>`
      : nothing}
  </nav>`;
}

/** A notice: an error in plain words, a success, or information. */
export function notice(kind: 'error' | 'success' | 'info', text: string | null, onDismiss?: () => void): TemplateResult | typeof nothing {
  if (!text) return nothing;
  return html`<div class="msg msg-${kind} c-notice" role=${kind === 'error' ? 'alert' : 'status'}>
    <span>${text}</span>
    ${onDismiss
      ? html`<button type="button" class="c-notice-close" @click=${onDismiss} aria-label=${t('close')}>×</button>`
      : nothing}
  </div>`;
}

/** A line that says something is on its way, with a spinner. */
export function busy(text: string): TemplateResult {
  return html`<p class="c-busy" role="status"><span class="c-spinner" aria-hidden="true"></span>${text}</p>`;
}

/** An empty state: what the list would show, and why it is empty. */
export function empty(text: string, action?: TemplateResult): TemplateResult {
  return html`<div class="c-empty"><p>${text}</p>${action ?? nothing}</div>`;
}

/** The platform's answer in a few words: the refusal, or what the last attempt did. */
export function platformAnswer(item: Pick<HistoryItem, 'error' | 'platform' | 'state'>): TemplateResult | string {
  if (item.error) return explainedError(item.error.code, item.error.message);
  const p = item.platform;
  if (!p) return t('none');
  const outcome = tMaybe(`outcome.${p.outcome}`, {}, p.outcome);
  const status = p.http_status ? ` (${p.http_status})` : '';
  return p.message ? html`${outcome}${status}${rawDetails(p.message)}` : `${outcome}${status}`;
}

/** The platform's or server's own words, folded under "Details" (they are in its language). */
export function rawDetails(raw: string | null | undefined): TemplateResult | typeof nothing {
  const text = raw?.trim();
  if (!text) return nothing;
  return html`<details class="c-raw"><summary>${t('errorDetails')}</summary><span class="mono c-small" data-testid="raw-message">${text}</span></details>`;
}

/**
 * An operation's error in the supervisor's language: a sentence chosen by its code (what
 * happened, what to do), with the raw platform or server text under "Details".
 */
export function explainedError(code: string | null | undefined, raw: string | null | undefined): TemplateResult {
  const sentence = tMaybe(`opError.${code ?? 'unknown'}`, {}, t('opError.unknown'));
  return html`<span class="c-refused c-explained" data-testid="error-explained">${sentence}</span>${rawDetails(raw)}`;
}
