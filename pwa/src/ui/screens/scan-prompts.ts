// What the scan screen asks before scanning makes sense: a technician signed in with no group
// for the visit is asked to pick one (installs need it), with a button straight to the list.

import { html, type TemplateResult } from 'lit-html';
import type { AppState } from '../state';
import type { Controller } from '../controller';
import { t } from '../i18n';
import { can } from '../../core/platform';

/** Render the "pick a group" prompt when the platform has groups and none is picked. */
export function groupPrompt(s: AppState, c: Controller): TemplateResult {
  if (!can('deployment_groups') || s.selectedGroup || !s.session.user) return html``;
  return html`<div class="panel panel-strong prompt" role="region" aria-labelledby="group-prompt-title" data-testid="group-prompt">
    <h2 id="group-prompt-title">${t('groupPromptTitle')}</h2>
    <p>${t('groupPromptBody')}</p>
    <button type="button" class="btn btn-primary btn-block" @click=${() => c.go({ name: 'group' })}>${t('groupPromptButton')}</button>
  </div>`;
}
