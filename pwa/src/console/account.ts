// One's own account from the console's user menu: change the password (every other device is
// signed out; this page goes on) and sign out everywhere (a lost phone). Both ask first.

import { html } from 'lit-html';
import type { ConsoleApi } from './api';
import type { DialogHost } from './dialogs';
import { t } from './i18n';

const MIN_PASSWORD_LENGTH = 10;

/** Ask for the current and a new password and change it; `done` runs after a change. */
export function askPasswordChange(dialogs: DialogHost, api: ConsoleApi, done: () => void): void {
  const values = { current: '', next: '', repeat: '' };
  const set = (name: keyof typeof values) => (e: Event) => {
    values[name] = (e.target as HTMLInputElement).value;
  };
  void dialogs.ask({
    title: t('changePasswordTitle'),
    body: t('changePasswordBody'),
    confirmLabel: t('changePassword'),
    fields: () => html`<div class="c-edit">
      <label for="pw-current">${t('currentPassword')}</label>
      <input id="pw-current" type="password" autocomplete="current-password" data-testid="current-password"
        .value=${values.current} @input=${set('current')} />
      <label for="pw-new">${t('newPassword')}</label>
      <input id="pw-new" type="password" autocomplete="new-password" data-testid="new-password"
        .value=${values.next} @input=${set('next')} />
      <label for="pw-repeat">${t('repeatPassword')}</label>
      <input id="pw-repeat" type="password" autocomplete="new-password" data-testid="repeat-password"
        .value=${values.repeat} @input=${set('repeat')} />
    </div>`,
    validate: () => {
      if (!values.current) return t('currentPasswordMissing');
      if (values.next.length < MIN_PASSWORD_LENGTH) return t('newPasswordShort', { count: MIN_PASSWORD_LENGTH });
      if (values.next !== values.repeat) return t('passwordsDiffer');
      return null;
    },
    run: async () => {
      await api.changePassword(values.current, values.next);
      done();
    },
  });
}

/** Ask, then end every sign-in of one's own; `done` runs once the server said so. */
export function askSignOutEverywhere(dialogs: DialogHost, api: ConsoleApi, done: () => void): void {
  void dialogs.ask({
    title: t('signOutEverywhereTitle'),
    body: t('signOutEverywhereBody'),
    confirmLabel: t('signOutEverywhere'),
    danger: true,
    run: async () => {
      await api.signOutEverywhere();
      done();
    },
  });
}
