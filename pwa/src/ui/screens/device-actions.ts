// The device card's action buttons, ordered and emphasised by the device's state
// (core/actions.ts cardLayout): the likely action first and filled, the usual ones below, the
// permanent one (retire) apart under its own heading so it is never next to quarantine.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { AppState } from '../state';
import type { Controller } from '../controller';
import { t } from '../i18n';
import { cardLayout, type CardAction } from '../../core/actions';
import { can } from '../../core/platform';

function label(action: CardAction, group: string | null): string {
  switch (action) {
    case 'install':
      return !can('deployment_groups') ? t('actionInstallPlain') : group ? t('actionInstall', { group }) : t('actionInstallNoGroup');
    case 'remove':
      return t('actionRemove');
    case 'replace':
      return t('actionReplace');
    case 'quarantine':
      return t('actionQuarantine');
    case 'retire':
      return t('actionRetire');
  }
}

function button(action: CardAction, kind: 'primary' | 'plain' | 'danger', tuid: string, enabled: boolean, s: AppState, c: Controller): TemplateResult {
  const cls = kind === 'primary' ? 'btn-primary' : kind === 'danger' ? 'btn-danger-outline' : '';
  const run = () => (action === 'replace' ? c.go({ name: 'replace', tuid }) : void c.act(action));
  return html`<button type="button" class="btn btn-block ${cls}" data-testid="action-${action}" ?disabled=${!enabled} @click=${run}>
    ${label(action, s.selectedGroup)}</button>`;
}

/** Render the card's actions for the device shown (disabled until it has been looked up). */
export function deviceActions(s: AppState, c: Controller, tuid: string, status: string | null | undefined, enabled: boolean): TemplateResult {
  const layout = cardLayout(status);
  return html`<h2>${t('deviceActions')}</h2>
    <div class="actions" data-testid="device-actions">
      ${layout.primary ? button(layout.primary, 'primary', tuid, enabled, s, c) : nothing}
      ${layout.others.map((action) => button(action, 'plain', tuid, enabled, s, c))}
    </div>
    ${layout.destructive.length
      ? html`<div class="actions actions-apart" role="group" aria-labelledby="permanent-title">
          <h3 id="permanent-title" class="actions-apart-title">${t('actionsPermanent')}</h3>
          ${layout.destructive.map((action) => button(action, 'danger', tuid, enabled, s, c))}
        </div>`
      : nothing}`;
}
