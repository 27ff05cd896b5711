// The header: the app's name, the connection state in words with a shape per state (a tick,
// a struck-through cloud, dots: readable without colour), the menu, and, once signed in, the
// visit's group and the queue ("3 waiting") on a second line so nothing is squeezed at 360 px.

import { html, nothing, svg, type TemplateResult } from 'lit-html';
import type { AppState } from './state';
import type { Controller } from './controller';
import { t } from './i18n';
import { icon } from './icons';

const CONNECTION_SHAPES = {
  on: svg`<circle cx="12" cy="12" r="9"/><path d="M7.5 12.5l3 3 6-6.5"/>`,
  off: svg`<path d="M7 18h10a4 4 0 0 0 .6-7.96A6 6 0 0 0 6.2 9.1 4.5 4.5 0 0 0 7 18z"/><path d="M4 4l16 16"/>`,
  unknown: svg`<circle cx="12" cy="12" r="9"/><path d="M8 12h.01M12 12h.01M16 12h.01"/>`,
};

function connection(s: AppState): TemplateResult {
  const online = s.sync.online;
  const state = online === null ? 'unknown' : online ? 'on' : 'off';
  const label = online === null ? t('checking') : online ? t('online') : t('offline');
  return html`<span class="conn conn-${state}" role="status" data-testid="connection">
    <svg class="icon conn-shape" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false" fill="none"
      stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round">${CONNECTION_SHAPES[state]}</svg>
    <span class="conn-word">${label}</span></span>`;
}

function queueBadge(s: AppState, c: Controller): TemplateResult {
  const { waiting, failed } = s.counts;
  // The accessible name is the visible "3 waiting" (+ "· 1 failed"): what a voice user says.
  return html`<a class="badge ${waiting ? 'badge-waiting' : ''} ${failed ? 'badge-failed' : ''}" href="#/queue" data-testid="queue-badge"
    @click=${(e: Event) => {
      e.preventDefault();
      c.go({ name: 'queue' });
    }}>
    ${icon('queue')}<span class="badge-count" data-testid="waiting-count">${waiting}</span> <span class="badge-word"
      >${t('waitingWord', { count: waiting })}</span>${failed
      ? html`<span class="visually-hidden"> · ${t('failedBadgeLabel', { count: failed })}</span><span class="badge-failed-count"
          aria-hidden="true" title=${t('failedBadgeLabel', { count: failed })}>!${failed}</span>`
      : nothing}
  </a>`;
}

function groupChip(s: AppState, c: Controller): TemplateResult {
  const group = s.selectedGroup;
  return html`<a class="chip ${group ? '' : 'chip-empty'}" href="#/group" @click=${(e: Event) => {
    e.preventDefault();
    c.go({ name: 'group' });
  }} aria-label=${group ? t('groupCurrent', { group }) : nothing}>${icon('group')}<span>${group ?? t('groupPickShort')}</span></a>`;
}

function menu(s: AppState, c: Controller): TemplateResult {
  return html`<details class="menu">
    <summary aria-label=${t('language') + ' / ' + t('signOut')}>${icon('menu')}</summary>
    <div class="menu-panel">
      <fieldset class="lang">
        <legend>${t('language')}</legend>
        ${(['en', 'fi'] as const).map(
          (lang) => html`<button type="button" class="btn btn-small ${s.lang === lang ? 'btn-primary' : ''}" aria-pressed=${s.lang === lang}
            lang=${lang} @click=${() => void c.setLanguage(lang)}>${lang === 'en' ? 'English' : 'Suomi'}</button>`,
        )}
      </fieldset>
      ${s.session.user
        ? html`<p class="menu-user">${s.session.user.display_name} (${s.session.user.username})</p>
            <button type="button" class="btn" @click=${() => void c.signOut()}>${t('signOut')}</button>`
        : nothing}
    </div>
  </details>`;
}

/** Render the header; the second line (group, queue) only for a signed-in technician. */
export function header(s: AppState, c: Controller, signedIn: boolean, withGroups: boolean): TemplateResult {
  return html`<header class="top">
    <div class="top-row">
      <span class="brand">${icon('logo')}<span class="brand-name">${t('appName')}</span></span>
      <span class="spacer"></span>
      ${connection(s)} ${menu(s, c)}
    </div>
    ${signedIn
      ? html`<div class="top-row top-context">
          ${withGroups ? groupChip(s, c) : nothing}
          <span class="spacer"></span>
          ${queueBadge(s, c)}
        </div>`
      : nothing}
  </header>`;
}
