// Accounts, for admins: who exists and how many devices each is signed in on, with "sign out
// everywhere" for a lost phone or someone who left (every session and remember cookie of that
// user stops working at once; their phone keeps its queued actions for the next sign-in).

import { html, nothing, type TemplateResult } from 'lit-html';
import type { Account, AdminSettings } from './api';
import { dateTime, errorText, num } from './format';
import { t } from './i18n';
import type { Host, Section } from './section';
import { busy, notice } from './widgets';

export class UsersSection implements Section {
  private accounts: Account[] | null = null;
  private settings: AdminSettings | null = null;
  private saving = false;
  private error: string | null = null;
  private result: string | null = null;
  private seq = 0;

  constructor(private readonly host: Host) {}

  enter(): void {
    this.host.replaceHash('#/users');
    void this.load();
  }

  leave(): void {
    this.seq++;
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    try {
      const [accounts, settings] = await Promise.all([this.host.api.users.list(), this.host.api.users.settings()]);
      if (seq !== this.seq) return;
      this.accounts = accounts.items;
      this.settings = settings;
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = errorText(error);
    }
    this.host.redraw();
  }

  private signOutEverywhere(account: Account): void {
    const name = account.display_name || account.username;
    void this.host.dialogs.ask({
      title: t('signOutUserTitle', { name }),
      body: t('signOutUserBody', { name, count: account.sign_ins }),
      confirmLabel: t('signOutEverywhere'),
      danger: true,
      run: async () => {
        const { ended } = await this.host.api.users.signOut(account.id);
        this.result = t('signedOutUser', { name, count: ended });
        void this.load();
      },
    });
  }

  private async setTechniciansCreateGroups(allowed: boolean): Promise<void> {
    this.saving = true;
    this.host.redraw();
    try {
      this.settings = await this.host.api.users.saveSettings({ technicians_create_groups: allowed });
      this.result = allowed ? t('settingGroupsOn') : t('settingGroupsOff');
      this.error = null;
    } catch (error) {
      this.error = errorText(error);
    }
    this.saving = false;
    this.host.redraw();
  }

  /** The group-creation switch: who may create deployment groups from the phone. */
  private settingsPanel(): TemplateResult | typeof nothing {
    const settings = this.settings;
    if (!settings) return nothing;
    const changed = settings.changed.technicians_create_groups;
    return html`<section class="c-panel" aria-labelledby="settings-title" data-testid="admin-settings">
      <h2 id="settings-title">${t('settingsTitle')}</h2>
      <label class="c-check">
        <input type="checkbox" data-testid="technicians-create-groups" .checked=${settings.technicians_create_groups}
          ?disabled=${this.saving} @change=${(e: Event) => void this.setTechniciansCreateGroups((e.target as HTMLInputElement).checked)} />
        <span>${t('settingGroupsLabel')}</span>
      </label>
      <p class="sub">${changed
        ? t('settingChangedBy', { who: changed.by ?? t('settingSomeone'), when: dateTime(changed.at) })
        : t('settingDefault', { value: settings.defaults.technicians_create_groups ? t('settingOn') : t('settingOff') })}</p>
    </section>`;
  }

  view(): TemplateResult {
    const accounts = this.accounts;
    return html`<div class="c-head">
        <h1 tabindex="-1">${t('usersTitle')}</h1>
        <p class="lead">${t('usersLead')}</p>
      </div>
      ${notice('success', this.result, () => {
        this.result = null;
        this.host.redraw();
      })}
      ${notice('error', this.error)}
      ${this.settingsPanel()}
      ${accounts === null
        ? this.error
          ? nothing
          : busy(t('loading'))
        : html`<div class="c-table-wrap">
            <table class="c-table c-stack" data-testid="users-table">
              <thead>
                <tr>
                  <th scope="col">${t('colUser')}</th>
                  <th scope="col">${t('colRole')}</th>
                  <th scope="col" class="c-num">${t('colSignIns')}</th>
                  <th scope="col"><span class="visually-hidden">${t('colActions')}</span></th>
                </tr>
              </thead>
              <tbody>
                ${accounts.map((account) => this.row(account))}
              </tbody>
            </table>
          </div>`}`;
  }

  private row(account: Account): TemplateResult {
    return html`<tr data-testid="user-${account.username}">
      <td data-label=${t('colUser')}>${account.display_name || account.username} <span class="sub">(${account.username})</span></td>
      <td data-label=${t('colRole')}>${t(`role.${account.role}`)}</td>
      <td data-label=${t('colSignIns')} class="c-num" data-testid="sign-ins">${num(account.sign_ins)}</td>
      <td data-label=${t('colActions')}>
        <button type="button" class="btn btn-small btn-danger-outline" data-testid="sign-out-everywhere"
          ?disabled=${account.sign_ins === 0} @click=${() => this.signOutEverywhere(account)}>${t('signOutEverywhere')}</button>
      </td>
    </tr>`;
  }
}

/** Create the users section for the console shell. */
export function createUsers(host: Host): Section {
  return new UsersSection(host);
}
