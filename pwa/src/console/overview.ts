// The fleet at a glance, the console's first page: verification rates, phones whose queue is
// old or stuck, open sync failures, devices per group and status (bars) and installs per day by
// technician (lines). Every number is a link to the history (or list) it counts.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import type { Overview, PhoneQueue } from './api';
import { dateTime, dateTimeLong, duration, errorText, num } from './format';
import { t, tMaybe } from './i18n';
import type { Host, Section } from './section';
import { busy, notice } from './widgets';

const STATUSES = ['installed', 'uninstalled', 'quarantine', 'retired', 'new', 'unknown'] as const;

function percent(part: number, whole: number): string {
  return whole ? `${Math.round((part / whole) * 100)} %` : '–';
}

function tile(label: string, value: string, href: string, sub: string | null, testid: string, tone = ''): TemplateResult {
  return html`<a class="c-tile ${tone}" href=${href} data-testid=${testid}>
    <span class="c-tile-value">${value}</span>
    <span class="c-tile-label">${label}</span>
    ${sub ? html`<span class="sub">${sub}</span>` : nothing}
  </a>`;
}

export class OverviewSection implements Section {
  private data: Overview | null = null;
  private phones: PhoneQueue[] | null = null;
  private error: string | null = null;
  private seq = 0;
  private drawn = new WeakSet<Element>();

  constructor(private readonly host: Host) {}

  enter(): void {
    this.host.replaceHash('#/overview');
    void this.load();
  }

  leave(): void {
    this.seq++;
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    try {
      const [data, phones] = await Promise.all([this.host.api.fleet.overview(), this.host.api.fleet.queueHealth()]);
      if (seq !== this.seq) return;
      this.data = data;
      this.phones = phones.items;
      this.drawn = new WeakSet();
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = errorText(error);
    }
    this.host.redraw();
  }

  /** Draw a chart into its element once per load (lit-html keeps the element between draws). */
  private chart(draw: (element: HTMLElement) => void) {
    return ref((element) => {
      if (!element || this.drawn.has(element)) return;
      this.drawn.add(element);
      void import('./charts').then(() => draw(element as HTMLElement));
    });
  }

  view(): TemplateResult {
    const d = this.data;
    return html`<div class="c-head">
        <h1 tabindex="-1">${t('overviewTitle')}</h1>
        <p class="lead">${d ? t('overviewLead', { days: d.window.days }) : nothing}</p>
      </div>
      ${notice('error', this.error)}
      ${d ? this.body(d) : this.error ? nothing : busy(t('loading'))}`;
  }

  private body(d: Overview): TemplateResult {
    const v = d.verification;
    const installs = v.verified + v.waiting + v.silent + v.unavailable;
    const failures = d.sync_failures.failed + d.sync_failures.conflict;
    const from = d.window.from;
    return html`<div class="c-tiles" data-testid="overview-tiles">
        ${tile(t('verification.verified'), num(v.verified), `#/history?verification=verified&from=${from}`, percent(v.verified, installs), 'tile-verified', 'c-tile-good')}
        ${tile(t('verification.waiting'), num(v.waiting), `#/history?verification=waiting&from=${from}`, percent(v.waiting, installs), 'tile-waiting')}
        ${tile(t('verification.silent'), num(v.silent), '#/silent', percent(v.silent, installs), 'tile-silent', v.silent ? 'c-tile-bad' : '')}
        ${tile(t('phonesNeedingAttention'), num(d.phones_needing_attention), '#/overview', null, 'tile-phones', d.phones_needing_attention ? 'c-tile-bad' : '')}
        ${tile(t('openSyncFailures'), num(failures), '#/inbox', null, 'tile-failures', failures ? 'c-tile-bad' : '')}
      </div>
      <section class="c-panel" aria-labelledby="ov-groups">
        <h2 id="ov-groups">${t('devicesByGroup')}</h2>
        ${d.devices.groups.length
          ? html`<div class="c-chart" role="img" aria-label=${t('devicesByGroup')}
                ${this.chart((el) => this.drawGroups(el, d))}></div>
              ${this.groupTable(d)}`
          : html`<p class="c-empty">${t('overviewNoDevices')}</p>`}
      </section>
      <section class="c-panel" aria-labelledby="ov-installs">
        <h2 id="ov-installs">${t('installsPerDay', { days: d.window.days })}</h2>
        ${d.installs.technicians.length
          ? html`<div class="c-chart" role="img" aria-label=${t('installsPerDay', { days: d.window.days })}
                ${this.chart((el) => this.drawInstalls(el, d))}></div>
              ${this.technicianTable(d)}`
          : html`<p class="c-empty">${t('overviewNoInstalls')}</p>`}
      </section>
      <section class="c-panel" aria-labelledby="ov-phones">
        <h2 id="ov-phones">${t('phonesTitle')}</h2>
        <p class="sub">${t('phonesLead')}</p>
        ${this.phoneTable()}
      </section>`;
  }

  private drawGroups(element: HTMLElement, d: Overview): void {
    void import('./charts').then(({ stackedBars }) =>
      stackedBars(
        element,
        d.devices.groups.map((g) => g.group),
        STATUSES.map((s) => ({ name: tMaybe(`status.${s}`, {}, s), values: d.devices.groups.map((g) => g.statuses[s] ?? 0) })),
      ),
    );
  }

  private drawInstalls(element: HTMLElement, d: Overview): void {
    const series = d.installs.technicians.map((tech) => ({ name: tech.display_name || tech.username, values: tech.counts }));
    if (d.installs.others) series.push({ name: t('otherTechnicians'), values: d.installs.others });
    void import('./charts').then(({ lines }) => lines(element, d.installs.days, series));
  }

  private groupTable(d: Overview): TemplateResult {
    return html`<div class="c-table-wrap"><table class="c-table c-stack c-compact" data-testid="overview-groups">
      <thead><tr>
        <th scope="col">${t('colGroup')}</th>
        ${STATUSES.map((s) => html`<th scope="col" class="c-num"><span class="c-legend c-legend-${s}"></span>${tMaybe(`status.${s}`, {}, s)}</th>`)}
      </tr></thead>
      <tbody>${d.devices.groups.map(
        (g) => html`<tr>
          <th scope="row" data-label=${t('colGroup')}><a class="mono" href="#/history?group=${encodeURIComponent(g.group)}">${g.group}</a></th>
          ${STATUSES.map((s) => html`<td class="c-num" data-label=${tMaybe(`status.${s}`, {}, s)}>
            ${g.statuses[s] ? html`<a href="#/history?group=${encodeURIComponent(g.group)}">${num(g.statuses[s])}</a>` : '0'}</td>`)}
        </tr>`,
      )}</tbody>
    </table></div>`;
  }

  private technicianTable(d: Overview): TemplateResult {
    const from = d.window.from;
    return html`<div class="c-table-wrap"><table class="c-table c-compact" data-testid="overview-technicians">
      <thead><tr><th scope="col">${t('colTechnician')}</th><th scope="col" class="c-num">${t('installsTotal')}</th></tr></thead>
      <tbody>${d.installs.technicians.map(
        (tech) => html`<tr>
          <th scope="row">${tech.display_name || tech.username}</th>
          <td class="c-num"><a href="#/history?technician=${encodeURIComponent(tech.username)}&action=install&from=${from}">${num(tech.total)}</a></td>
        </tr>`,
      )}</tbody>
    </table></div>`;
  }

  private phoneTable(): TemplateResult {
    const phones = this.phones ?? [];
    if (!phones.length) return html`<p class="c-empty">${t('phonesNone')}</p>`;
    return html`<div class="c-table-wrap"><table class="c-table c-stack" data-testid="phones-table">
      <thead><tr>
        <th scope="col">${t('colTechnician')}</th>
        <th scope="col" class="c-num">${t('colPending')}</th>
        <th scope="col">${t('colOldest')}</th>
        <th scope="col" class="c-num">${t('colFailedOnPhone')}</th>
        <th scope="col">${t('colAppVersion')}</th>
        <th scope="col">${t('colLastContact')}</th>
      </tr></thead>
      <tbody>${phones.map(
        (p) => html`<tr class=${p.needs_attention.length ? 'c-attention' : ''} data-testid="phone-${p.technician.username}">
          <td data-label=${t('colTechnician')}>
            <a href="#/history?technician=${encodeURIComponent(p.technician.username)}">${p.technician.display_name || p.technician.username}</a>
            ${p.needs_attention.map((r) => html` <span class="state state-failed">${t(`phoneAttention.${r}`)}</span>`)}
          </td>
          <td class="c-num" data-label=${t('colPending')}>${num(p.pending)}</td>
          <td data-label=${t('colOldest')}>${p.oldest_unsynced_s === null ? '–' : duration(p.oldest_unsynced_s)}</td>
          <td class="c-num" data-label=${t('colFailedOnPhone')}>${num(p.failed)}</td>
          <td data-label=${t('colAppVersion')} class="mono">${p.app_version ?? '–'}</td>
          <td data-label=${t('colLastContact')} title=${dateTimeLong(p.last_contact_at)}>${dateTime(p.last_contact_at)}</td>
        </tr>`,
      )}</tbody>
    </table></div>`;
  }
}

/** Create the overview section for the console shell. */
export function createOverview(host: Host): Section {
  return new OverviewSection(host);
}
