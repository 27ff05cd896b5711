// The group screen's taps: refresh the cached list, filter it, pick the visit's group, create
// one (for whoever the backend allows). Errors are said in the user's words (errors.ts).

import { ApiError, type Api } from '../core/api';
import { createGroup, followsConvention, normaliseGroupId, refreshGroups, selectGroup } from '../core/groups';
import { t } from './i18n';
import { update, type Route } from './state';

export interface GroupHost {
  readonly api: Api;
  confirm(message: string, confirmLabel?: string, danger?: boolean): Promise<boolean>;
  errorText(error: unknown): string;
  refresh(topics?: ReadonlySet<string>): Promise<void>;
  go(route: Route): void;
  /** Note a 401 seen outside the sync engine. */
  sessionExpired(): Promise<void>;
}

export class GroupFlow {
  constructor(private readonly host: GroupHost) {}

  async refreshGroupList(announce = true): Promise<void> {
    update((s) => ({ groupUi: { ...s.groupUi, busy: true, message: null } }));
    try {
      const groups = await refreshGroups(this.host.api);
      update((s) => ({ groups, groupUi: { ...s.groupUi, busy: false, message: announce ? { text: t('groupRefreshed'), kind: 'success' } : null } }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) await this.host.sessionExpired();
      update((s) => ({ groupUi: { ...s.groupUi, busy: false, message: announce ? { text: this.host.errorText(error), kind: 'error' } : null } }));
    }
  }

  setGroupFilter(filter: string): void {
    update((s) => ({ groupUi: { ...s.groupUi, filter } }));
  }

  async chooseGroup(groupId: string): Promise<void> {
    await selectGroup(groupId);
    await this.host.refresh(new Set(['settings']));
    this.host.go({ name: 'scan' });
  }

  async createGroup(rawId: string, description: string): Promise<boolean> {
    const id = normaliseGroupId(rawId);
    if (!id) return false;
    if (!followsConvention(id) && !(await this.host.confirm(t('groupConvention'), t('groupCreate')))) return false;
    update((s) => ({ groupUi: { ...s.groupUi, busy: true, message: null } }));
    try {
      const group = await createGroup(this.host.api, id, description);
      await selectGroup(group.group_id);
      await this.host.refresh(new Set(['groups', 'settings']));
      update((s) => ({ groupUi: { ...s.groupUi, busy: false, message: { text: t('groupCreated', { group: group.group_id }), kind: 'success' } } }));
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) await this.host.sessionExpired();
      const text = error instanceof ApiError && error.status === 409 ? t('groupExists') : this.host.errorText(error);
      update((s) => ({ groupUi: { ...s.groupUi, busy: false, message: { text, kind: 'error' } } }));
      return false;
    }
  }
}
