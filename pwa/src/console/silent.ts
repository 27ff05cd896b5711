// Silent devices: installed, synced, and not heard from since. Per group or technician, with the
// CSV for the crew that goes back to them.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { Page, Query, SilentDevice } from './api';
import { dateTime, dateTimeLong, deviceTypeName, deviceTypeTitle, errorText, num } from './format';
import { t } from './i18n';
import type { Host, Route, Section } from './section';
import { busy, empty, notice, pager } from './widgets';

export class SilentSection implements Section {
  private group = '';
  private technician = '';
  private page = 0;
  private size = 50;
  private data: Page<SilentDevice> | null = null;
  private error: string | null = null;
  private seq = 0;

  constructor(private readonly host: Host) {}

  enter(route: Route): void {
    this.group = route.params.get('group') ?? '';
    this.technician = route.params.get('technician') ?? '';
    this.page = 0;
    void this.load();
  }

  leave(): void {
    this.seq++;
  }

  private query(): Query {
    return { group: this.group.trim().toLowerCase() || null, technician: this.technician.trim() || null };
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    const params = new URLSearchParams();
    if (this.group) params.set('group', this.group);
    if (this.technician) params.set('technician', this.technician);
    const text = params.toString();
    this.host.replaceHash(`#/silent${text ? `?${text}` : ''}`);
    try {
      const data = await this.host.api.fleet.silentDevices({ ...this.query(), page: this.page, size: this.size });
      if (seq !== this.seq) return;
      this.data = data;
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = errorText(error);
    }
    this.host.redraw();
  }

  view(): TemplateResult {
    const data = this.data;
    return html`<div class="c-head">
        <h1 tabindex="-1">${t('silentTitle')}</h1>
        <p class="lead">${t('silentLead')}</p>
      </div>
      <form class="c-filters c-filters-open" role="search" aria-label=${t('filters')} @submit=${(e: Event) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          this.group = (form.elements.namedItem('group') as HTMLInputElement).value;
          this.technician = (form.elements.namedItem('technician') as HTMLInputElement).value;
          this.page = 0;
          void this.load();
        }}>
        <div class="c-field"><label for="silent-group">${t('fGroup')}</label>
          <input id="silent-group" name="group" .value=${this.group} autocomplete="off" /></div>
        <div class="c-field"><label for="silent-technician">${t('fTechnician')}</label>
          <input id="silent-technician" name="technician" .value=${this.technician} autocomplete="off" /></div>
        <div class="c-filter-buttons"><button type="submit" class="btn btn-primary btn-small">${t('apply')}</button></div>
      </form>
      <div class="c-toolbar">
        <p class="c-total" aria-live="polite" data-testid="silent-total">${data ? t('silentCount', { count: num(data.totalElements) }) : nothing}</p>
        <span class="spacer"></span>
        <a class="btn btn-small" href=${this.host.api.fleet.silentCsvUrl(this.query())} download data-testid="silent-csv">${t('exportCsv')}</a>
      </div>
      ${notice('error', this.error)}
      ${!data
        ? this.error ? nothing : busy(t('loading'))
        : data.items.length === 0
          ? empty(t('silentNone'))
          : html`<div class="c-table-wrap"><table class="c-table c-stack" data-testid="silent-table">
              <thead><tr>
                <th scope="col">${t('colTuid')}</th><th scope="col">${t('colGroup')}</th>
                <th scope="col">${t('colTechnician')}</th><th scope="col">${t('colInstalled')}</th>
                <th scope="col">${t('lastSeen')}</th>
              </tr></thead>
              <tbody>${data.items.map((d) => this.row(d))}</tbody>
            </table></div>`}
      ${pager(data, (page) => {
        this.page = page;
        void this.load();
      }, (size) => {
        this.size = size;
        this.page = 0;
        void this.load();
      })}`;
  }

  private row(d: SilentDevice): TemplateResult {
    return html`<tr>
      <td data-label=${t('colTuid')}><button type="button" class="c-link mono" @click=${() => this.host.openTimeline(d.tuid)}>${d.tuid}</button>
        <span class="sub c-block" title=${deviceTypeTitle(d.device_type) ?? nothing}>${deviceTypeName(d.device_type)}</span></td>
      <td data-label=${t('colGroup')} class="mono">${d.group ?? t('none')}</td>
      <td data-label=${t('colTechnician')}>${d.technician.display_name || d.technician.username}</td>
      <td data-label=${t('colInstalled')} title=${dateTimeLong(d.installed_at)}>${dateTime(d.installed_at)}</td>
      <td data-label=${t('lastSeen')}>${d.last_seen_at ? dateTime(d.last_seen_at) : t('neverSeen')}</td>
    </tr>`;
  }
}

/** Create the silent devices section for the console shell. */
export function createSilent(host: Host): Section {
  return new SilentSection(host);
}
