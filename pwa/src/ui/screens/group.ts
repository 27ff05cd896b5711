// Pick the deployment group for this visit from the cached list; supervisors and admins can
// create one when online.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { AppState } from '../state';
import type { Controller } from '../controller';
import { t, tMaybe } from '../i18n';
import { formatTime } from '../format';
import { can, currentPlatform } from '../../core/platform';

/** "supervisors or admins": the roles that may create groups, in words. */
function creators(s: AppState): string {
  const roles = s.groups.creators.length ? s.groups.creators : ['supervisor', 'admin'];
  return roles.map((role) => tMaybe(`roles.${role}`, {}, role)).join(t('orWord'));
}

/** Why the list is empty and what to do: clear the filter, or fetch the list once online. */
function emptyHint(s: AppState, c: Controller, filter: string): TemplateResult {
  if (filter) {
    return html`${t('groupEmptyFilter', { filter: s.groupUi.filter.trim() })}
      <button type="button" class="btn btn-small" @click=${() => c.groups.setGroupFilter('')}>${t('groupClearFilter')}</button>`;
  }
  return html`${s.sync.online === true ? t('groupEmptyNone') : t('groupEmptyOffline')}`;
}

export function groupScreen(s: AppState, c: Controller): TemplateResult {
  const filter = s.groupUi.filter.trim().toLowerCase();
  const groups = s.groups.groups.filter(
    (g) => !filter || g.group_id.includes(filter) || (g.description ?? '').toLowerCase().includes(filter),
  );
  if (!can('deployment_groups')) {
    return html`<section class="screen" aria-labelledby="group-title">
      <h1 id="group-title" tabindex="-1">${t('groupTitle')}</h1>
      <p class="note" data-testid="no-groups">${t('groupsNotOnPlatform', { platform: currentPlatform().title })}</p>
    </section>`;
  }
  // The backend says who may create groups (an admin may let technicians); before it has, the roles.
  const canCreate = s.groups.can_create ?? (s.session.user?.role === 'supervisor' || s.session.user?.role === 'admin');
  const online = s.sync.online === true;
  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    if (await c.groups.createGroup(String(data.get('group_id') ?? ''), String(data.get('description') ?? ''))) form.reset();
  };
  return html`<section class="screen" aria-labelledby="group-title">
    <h1 id="group-title" tabindex="-1">${t('groupTitle')}</h1>
    <p class="lead">${t('groupLead')}</p>
    <p class="current" data-testid="current-group">${s.selectedGroup ? t('groupCurrent', { group: s.selectedGroup }) : t('groupNone')}</p>

    <div class="row">
      <label class="grow">
        <span class="visually-hidden">${t('groupFilter')}</span>
        <input type="search" placeholder=${t('groupFilter')} .value=${s.groupUi.filter} autocapitalize="none"
          @input=${(e: InputEvent) => c.groups.setGroupFilter((e.target as HTMLInputElement).value)} />
      </label>
      <button type="button" class="btn" ?disabled=${s.groupUi.busy || !online} @click=${() => void c.groups.refreshGroupList(true)}>${t('groupRefresh')}</button>
    </div>
    <p class="note">
      ${s.groups.fetched_at ? t('groupListAge', { time: formatTime(s.groups.fetched_at) }) : t('groupListNever')}
      ${s.groups.backend_source === 'cache' ? t('groupServedFromCache') : nothing}
    </p>
    ${s.groupUi.message ? html`<p class="msg msg-${s.groupUi.message.kind}" role="status">${s.groupUi.message.text}</p>` : nothing}

    <ul class="list" aria-label=${t('groupTitle')}>
      ${groups.length === 0 ? html`<li class="empty" data-testid="groups-empty">${emptyHint(s, c, filter)}</li>` : nothing}
      ${groups.map(
        (g) => html`<li>
          <button type="button" class="list-button ${g.group_id === s.selectedGroup ? 'selected' : ''}"
            aria-pressed=${g.group_id === s.selectedGroup} @click=${() => void c.groups.chooseGroup(g.group_id)}>
            <span class="mono">${g.group_id}</span>
            ${g.description ? html`<span class="sub">${g.description}</span>` : nothing}
          </button>
        </li>`,
      )}
    </ul>

    ${!canCreate && can('group_create') ? html`<p class="note" data-testid="group-create-who">${t('groupCreateWho', { roles: creators(s) })}</p>` : nothing}
    ${canCreate && !can('group_create') ? html`<p class="note">${t('groupCreateNotOnPlatform', { platform: currentPlatform().title })}</p>` : nothing}
    ${canCreate && can('group_create')
      ? html`<details class="panel">
          <summary>${t('groupCreateTitle')}</summary>
          ${online
            ? html`<form class="form" @submit=${create}>
                <label for="new-group">${t('groupCreateId')}</label>
                <input id="new-group" name="group_id" required autocapitalize="none" spellcheck="false" pattern="[A-Za-z0-9 _-]{1,80}"
                  aria-describedby="new-group-help" />
                <p id="new-group-help" class="note">${t('groupCreateIdHelp')}</p>
                <label for="new-group-desc">${t('groupCreateDescription')}</label>
                <input id="new-group-desc" name="description" maxlength="500" />
                <button class="btn btn-primary" type="submit" ?disabled=${s.groupUi.busy}>${t('groupCreate')}</button>
              </form>`
            : html`<p class="note">${t('groupCreateOffline')}</p>`}
        </details>`
      : nothing}
  </section>`;
}
