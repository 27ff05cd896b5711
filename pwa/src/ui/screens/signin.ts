// Sign in, and sign in again after the session expired (the queue waits meanwhile).

import { html, nothing, type TemplateResult } from 'lit-html';
import type { AppState } from '../state';
import type { Controller } from '../controller';
import { t } from '../i18n';

export function signinScreen(s: AppState, c: Controller): TemplateResult {
  const expired = Boolean(s.session.user && s.session.expired);
  const mine = s.session.user ? (s.counts.byUser[s.session.user.username] ?? 0) : 0;
  const others = Object.entries(s.counts.byUser).filter(([user]) => user !== s.session.user?.username);
  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    void c.signIn(String(data.get('username') ?? ''), String(data.get('password') ?? ''));
  };
  return html`<section class="screen narrow" aria-labelledby="signin-title">
    <h1 id="signin-title" tabindex="-1">${expired ? t('signInAgainTitle') : t('signInTitle')}</h1>
    ${expired ? html`<p class="lead">${t('signInAgainLead', { count: mine })}</p>` : nothing}
    ${others.map(([user, count]) => html`<p class="note">${t('otherUserWaiting', { count, user })}</p>`)}
    <form class="form" @submit=${submit} novalidate>
      <label for="username">${t('username')}</label>
      <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required
        .value=${s.session.user?.username ?? ''} />
      <label for="password">${t('password')}</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      ${s.signin.error ? html`<p class="msg msg-error" role="alert">${s.signin.error}</p>` : nothing}
      <button class="btn btn-primary btn-block" type="submit" ?disabled=${s.signin.busy}>
        ${s.signin.busy ? t('signingIn') : t('signIn')}
      </button>
    </form>
  </section>`;
}
