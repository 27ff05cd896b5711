// Accounts, for admins: who exists and how many devices each is signed in on, with "sign out
// everywhere" for a lost phone or someone who left (every session and remember cookie of that
// user stops working at once; their phone keeps its queued actions for the next sign-in).

import { html, nothing, type TemplateResult } from 'lit-html';
import type { Account } from './api';
import { errorText, num } from './format';
import { t } from './i18n';
import type { Host, Section } from './section';
import { busy, notice } from './widgets';

export class UsersSection implements Section {
  private accounts: Account[] | null = null;
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
      const accounts = (await this.host.api.users.list()).items;
      if (seq !== this.seq) return;
      this.accounts = accounts;
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
