// The app shell: header with the waiting badge and connection state, banners, the current
// screen, the bottom navigation, the toast and the confirm dialog.

import { html, nothing, type TemplateResult } from 'lit-html';
import { update, type AppState } from './state';
import type { Controller } from './controller';
import { t } from './i18n';
import { signinScreen } from './screens/signin';
import { groupScreen } from './screens/group';
import { scanScreen } from './screens/scan';
import { deviceScreen } from './screens/device';
import { queueScreen } from './screens/queue';
import { icon } from './icons';
import { header } from './header';
import { can } from '../core/platform';

function banners(s: AppState, c: Controller): TemplateResult {
  const mine = s.session.user ? (s.counts.byUser[s.session.user.username] ?? 0) : 0;
  return html`
    ${s.updated
      ? html`<div class="banner banner-info" role="status" data-testid="updated">
          <span>${t('updatedNote')}</span>
          <button type="button" class="btn btn-small" @click=${() => update({ updated: false })}>${t('dismiss')}</button>
        </div>`
      : nothing}
    ${s.outdated
      ? html`<div class="banner banner-warn" role="alert" data-testid="outdated">
          <span>${t('outdatedTab')}</span>
          <button type="button" class="btn btn-small btn-primary" @click=${() => window.location.reload()}>${t('reload')}</button>
        </div>`
      : s.updateReady
        ? html`<div class="banner banner-info" role="status" data-testid="update-ready">
            <span>${mine > 0 ? t('updateWaitsForQueue', { count: mine }) : t('updateReady')}</span>
            <button type="button" class="btn btn-small btn-primary" @click=${() => s.updateReady?.()}>${t('reload')}</button>
          </div>`
        : nothing}
    ${s.persistence === 'denied' && !s.settings.persistWarningDismissed && s.session.user
      ? html`<div class="banner banner-warn" role="region" aria-labelledby="persist-title" data-testid="persist-denied">
          <span><strong id="persist-title">${t('persistTitle')}</strong> ${t('persistBody')}</span>
          <button type="button" class="btn btn-small" data-testid="persist-dismiss" @click=${() => void c.dismissPersistence()}>${t('persistDismiss')}</button>
        </div>`
      : nothing}
    ${s.session.user && s.session.expired && s.route.name !== 'signin'
      ? html`<div class="banner banner-warn" role="alert" data-testid="session-expired">
          <span>${t('sessionExpired', { count: mine })}</span>
          <button type="button" class="btn btn-small btn-primary" @click=${() => c.go({ name: 'signin' })}>${t('signInAgain')}</button>
        </div>`
      : nothing}
  `;
}

function screen(s: AppState, c: Controller): TemplateResult {
  const needsSignIn = !s.session.user || s.route.name === 'signin';
  if (needsSignIn) return signinScreen(s, c);
  switch (s.route.name) {
    case 'group':
      return groupScreen(s, c);
    case 'device':
      return deviceScreen(s, c);
    case 'queue':
      return queueScreen(s, c);
    case 'replace':
    case 'scan':
    default:
      return scanScreen(s, c);
  }
}

function nav(s: AppState, c: Controller): TemplateResult {
  const item = (name: 'scan' | 'queue' | 'group', label: string, extra: TemplateResult | typeof nothing = nothing) => {
    const current = s.route.name === name || (name === 'scan' && (s.route.name === 'device' || s.route.name === 'replace'));
    return html`<a href="#/${name}" class="nav-item" aria-current=${current ? 'page' : 'false'}
      @click=${(e: Event) => {
        e.preventDefault();
        c.go({ name });
      }}>${icon(name)}<span>${label}</span>${extra}</a>`;
  };
  const waiting = s.counts.waiting;
  return html`<nav class="nav" aria-label="Fieldhand">
    ${item('scan', t('navScan'))}
    ${item('queue', t('navQueue'), waiting ? html`<span class="nav-count" aria-label=${t('waitingBadgeLabel', { count: waiting })}>${waiting}</span>` : nothing)}
    ${item('group', t('navGroup'))}
  </nav>`;
}

function dialog(s: AppState): TemplateResult {
  const d = s.dialog;
  if (!d) return html``;
  return html`<dialog class="dialog" aria-labelledby="dialog-text" @cancel=${(e: Event) => {
    e.preventDefault();
    d.resolve(false);
  }}>
    <p id="dialog-text">${d.message}</p>
    <div class="row row-end">
      <button type="button" class="btn" @click=${() => d.resolve(false)}>${t('cancel')}</button>
      <button type="button" class="btn ${d.danger ? 'btn-danger' : 'btn-primary'}" data-testid="confirm" @click=${() => d.resolve(true)}>${d.confirmLabel}</button>
    </div>
  </dialog>`;
}

/** Render the whole app for a state. */
export function appView(s: AppState, c: Controller): TemplateResult {
  const signedIn = Boolean(s.session.user) && s.route.name !== 'signin';
  return html`
    <a class="skip" href="#main" @click=${(e: Event) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    }}>${t('skipToContent')}</a>
    ${header(s, c, signedIn, can('deployment_groups'))}
    ${banners(s, c)}
    <main id="main" tabindex="-1" class=${signedIn && s.sync.online === false ? 'with-strip' : ''}>${s.ready ? screen(s, c) : nothing}</main>
    ${signedIn && s.sync.online === false
      ? html`<div class="offline-strip" role="status" data-testid="offline-strip">${t('offlineBanner')}</div>`
      : nothing}
    ${signedIn ? nav(s, c) : nothing}
    <div class="toast-region" aria-live="polite" role="status">
      ${s.toast
        ? html`<div class="toast toast-${s.toast.kind}" data-testid="toast">${s.toast.text}${s.toast.action
            ? html` <button type="button" class="btn btn-small toast-action" data-testid=${`toast-${s.toast.action.testId}`}
                @click=${s.toast.action.run}>${s.toast.action.label}</button>`
            : nothing}</div>`
        : nothing}
    </div>
    ${dialog(s)}
  `;
}
