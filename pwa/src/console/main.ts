// The supervisor console (console.html): who is signed in and may they be here, the header with
// the three sections, and hash routing. Each section's code is loaded the first time it is shown.
// Online only: no service worker registration, no IndexedDB; everything is read from the API.

import '../styles.css';
import './console.css';
import { html, nothing, render, type TemplateResult } from 'lit-html';
import { ApiError, ConsoleApi, NetworkError, type Group, type Person, type User } from './api';
import { askPasswordChange, askSignOutEverywhere } from './account';
import { DialogHost } from './dialogs';
import { errorText, num } from './format';
import { chooseLanguage, currentLanguage, setLanguage, storedLanguage, t, type Language, type MessageKey } from './i18n';
import type { Host, Route, Section, SectionName } from './section';
import { busy, notice } from './widgets';

type Screen = 'loading' | 'signin' | 'role' | 'unreachable' | 'console';

const SECTIONS: { name: SectionName; label: MessageKey }[] = [
  { name: 'overview', label: 'navOverview' },
  { name: 'history', label: 'navHistory' },
  { name: 'silent', label: 'navSilent' },
  { name: 'inbox', label: 'navInbox' },
  { name: 'bulk', label: 'navBulk' },
  { name: 'users', label: 'navUsers' },
];

/** The sections this role sees: accounts are for admins only. */
function sectionsFor(role: string): typeof SECTIONS {
  return SECTIONS.filter((s) => s.name !== 'users' || role === 'admin');
}

const LOADERS: Record<SectionName, () => Promise<(host: Host) => Section>> = {
  overview: () => import('./overview').then((m) => m.createOverview),
  silent: () => import('./silent').then((m) => m.createSilent),
  history: () => import('./history').then((m) => m.createHistory),
  inbox: () => import('./inbox').then((m) => m.createInbox),
  bulk: () => import('./bulk').then((m) => m.createBulk),
  users: () => import('./users').then((m) => m.createUsers),
};

const COUNTS_EVERY_MS = 60_000;

/** Read `#/bulk/12?x=y` into a route; anything unknown is the history. */
export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const at = text.indexOf('?');
  const path = at >= 0 ? text.slice(0, at) : text;
  const params = new URLSearchParams(at >= 0 ? text.slice(at + 1) : '');
  const [first, second] = path.split('/');
  const known: readonly string[] = ['overview', 'history', 'silent', 'inbox', 'bulk', 'users'];
  // The console opens on the fleet at a glance; every number there links into the history.
  const name: SectionName = known.includes(first ?? '') ? (first as SectionName) : 'overview';
  const id = second && /^\d+$/.test(second) ? Number(second) : null;
  return { name, id, params };
}

class ConsoleApp implements Host {
  readonly api = new ConsoleApi(() => this.sessionLost());
  readonly dialogs = new DialogHost(() => this.redraw());
  private screen: Screen = 'loading';
  private signedIn: User | null = null;
  private signin = { busy: false, error: null as string | null, expired: false };
  private counts: { failed: number; conflict: number } | null = null;
  private sections: Partial<Record<SectionName, Section>> = {};
  private route: Route = parseHash(window.location.hash);
  private shown: Section | null = null;
  private loadingSection: SectionName | null = null;
  private sectionError: string | null = null;
  private groupList: Promise<Group[]> | null = null;
  private peopleList: Promise<Person[]> | null = null;
  private countsTimer: number | null = null;
  private drawQueued = false;
  private focusHeading = false;
  private accountNotice: string | null = null;

  constructor(private readonly root: HTMLElement) {
    root.replaceChildren(); // the static "Loading…" line; lit-html renders after existing nodes
  }

  get user(): User {
    if (!this.signedIn) throw new Error('not signed in');
    return this.signedIn;
  }

  // --- Host ------------------------------------------------------------------------------------

  redraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    queueMicrotask(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  navigate(hash: string): void {
    if (window.location.hash === hash) this.showRoute(parseHash(hash));
    else window.location.hash = hash;
  }

  replaceHash(hash: string): void {
    if (window.location.hash !== hash) history.replaceState(history.state, '', hash);
    this.route = parseHash(hash);
  }

  openTimeline(tuid: string): void {
    void import('./timeline').then((m) => m.showTimeline(this, tuid));
  }

  groups(): Promise<Group[]> {
    if (!this.groupList) {
      this.groupList = this.api.groups().then(
        (r) => r.items,
        (error: unknown) => {
          this.groupList = null; // try again next time
          throw error;
        },
      );
    }
    return this.groupList;
  }

  people(): Promise<Person[]> {
    if (!this.peopleList) {
      this.peopleList = this.api.users.people().then(
        (r) => r.items,
        (error: unknown) => {
          this.peopleList = null; // try again next time
          throw error;
        },
      );
    }
    return this.peopleList;
  }

  refreshCounts(): void {
    if (this.screen !== 'console') return;
    this.api.inbox.list({ size: 1 }).then(
      (page) => {
        this.counts = page.counts;
        this.redraw();
      },
      () => undefined, // the badge just keeps its last value
    );
  }

  // --- session ---------------------------------------------------------------------------------

  async start(): Promise<void> {
    const lang = chooseLanguage(storedLanguage(), navigator.languages?.length ? navigator.languages : [navigator.language]);
    setLanguage(lang);
    window.addEventListener('hashchange', () => this.showRoute(parseHash(window.location.hash)));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.refreshCounts();
    });
    await this.checkSession();
  }

  private async checkSession(): Promise<void> {
    this.screen = 'loading';
    this.redraw();
    try {
      const user = await this.api.me();
      if (user) this.enterAs(user);
      else this.screen = 'signin';
    } catch {
      this.screen = 'unreachable';
    }
    this.redraw();
  }

  private enterAs(user: User): void {
    this.signedIn = user;
    this.signin = { busy: false, error: null, expired: false };
    if (user.role === 'technician') {
      this.screen = 'role';
      return;
    }
    this.screen = 'console';
    this.refreshCounts();
    if (this.countsTimer === null) this.countsTimer = window.setInterval(() => this.refreshCounts(), COUNTS_EVERY_MS);
    this.showRoute(this.route, true);
  }

  private sessionLost(): void {
    if (this.screen !== 'console') return;
    this.shown?.leave();
    this.shown = null;
    this.dialogs.close();
    this.screen = 'signin';
    this.signin = { busy: false, error: null, expired: true };
    this.redraw();
  }

  private async signIn(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const username = (form.elements.namedItem('username') as HTMLInputElement).value;
    const password = (form.elements.namedItem('password') as HTMLInputElement).value;
    if (!username.trim() || !password) {
      this.signin = { ...this.signin, error: t('invalidCredentials') };
      this.redraw();
      return;
    }
    this.signin = { ...this.signin, busy: true, error: null };
    this.redraw();
    try {
      const user = await this.api.login(username, password);
      if (this.signedIn && this.signedIn.id !== user.id) this.sections = {}; // someone else's view
      this.enterAs(user);
    } catch (error) {
      let message = errorText(error);
      if (error instanceof ApiError && error.status === 401) message = t('invalidCredentials');
      else if (error instanceof ApiError && error.status === 429) message = t('tooManyAttempts');
      else if (error instanceof NetworkError) message = t('errNetwork');
      this.signin = { ...this.signin, busy: false, error: message };
    }
    this.redraw();
  }

  private async signOut(): Promise<void> {
    try {
      await this.api.logout();
    } catch {
      // already signed out on the server, or offline: forget the session here anyway
    }
    this.forgetSession();
  }

  /** Show (or with null, dismiss) what became of an account change. */
  private saySaved(message: string | null): void {
    this.accountNotice = message;
    this.redraw();
  }

  /** Back to the sign-in page with nothing of the last user's kept. */
  private forgetSession(): void {
    this.accountNotice = null;
    this.shown?.leave();
    this.shown = null;
    this.sections = {};
    this.signedIn = null;
    this.counts = null;
    this.groupList = null;
    if (this.countsTimer !== null) window.clearInterval(this.countsTimer);
    this.countsTimer = null;
    this.screen = 'signin';
    this.signin = { busy: false, error: null, expired: false };
    this.redraw();
  }

  private changeLanguage(lang: Language): void {
    setLanguage(lang, true);
    this.redraw();
  }

  // --- routing ---------------------------------------------------------------------------------

  private showRoute(requested: Route, first = false): void {
    const admin = this.signedIn?.role === 'admin';
    const route: Route = requested.name === 'users' && !admin ? { ...requested, name: 'history' } : requested;
    const sectionChanged = route.name !== this.route.name || first;
    this.route = route;
    if (this.screen !== 'console') return;
    if (this.dialogs.isOpen) this.dialogs.close();
    const existing = this.sections[route.name];
    if (existing) {
      if (this.shown !== existing) this.shown?.leave();
      this.shown = existing;
      existing.enter(route);
      if (sectionChanged && !first) this.focusHeading = true;
      this.redraw();
      return;
    }
    this.shown?.leave();
    this.shown = null;
    this.loadingSection = route.name;
    this.sectionError = null;
    this.redraw();
    LOADERS[route.name]().then(
      (create) => {
        const section = create(this);
        this.sections[route.name] = section;
        this.loadingSection = null;
        if (this.route.name !== route.name) return; // the supervisor moved on meanwhile
        this.shown = section;
        section.enter(this.route);
        if (!first) this.focusHeading = true;
        this.redraw();
      },
      () => {
        this.loadingSection = null;
        this.sectionError = t('errNetwork');
        this.redraw();
      },
    );
  }

  // --- views -----------------------------------------------------------------------------------

  private draw(): void {
    const section = SECTIONS.find((s) => s.name === this.route.name) ?? SECTIONS[0];
    document.title = this.screen === 'console' && section ? t('pageTitle', { section: t(section.label) }) : `Fieldhand ${t('consoleName')}`;
    render(this.view(), this.root);
    this.dialogs.afterRender(this.root);
    if (this.focusHeading) {
      this.focusHeading = false;
      this.root.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: false });
    }
  }

  private view(): TemplateResult {
    switch (this.screen) {
      case 'loading':
        return html`<main class="c-center">${busy(t('loading'))}</main>`;
      case 'unreachable':
        return this.unreachableView();
      case 'signin':
        return this.signInView();
      case 'role':
        return this.roleView();
      case 'console':
        return this.consoleView();
    }
  }

  private brand(): TemplateResult {
    return html`<a class="c-brand" href="#/history">
      <svg class="c-logo" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
        <rect x="1" y="1" width="22" height="22" rx="6" fill="#0b4f8a"></rect>
        <path d="M7 6h10v2.6H9.9v2.6H16v2.6H9.9V18H7z" fill="#fff"></path>
      </svg>
      <span>Fieldhand <span class="c-brand-sub">${t('consoleName')}</span></span>
    </a>`;
  }

  private languagePicker(): TemplateResult {
    const lang = currentLanguage();
    return html`<fieldset class="lang c-lang">
      <legend>${t('language')}</legend>
      ${(['en', 'fi'] as const).map(
        (code) => html`<label class="c-lang-option">
          <input type="radio" name="console-language" value=${code} .checked=${lang === code}
            @change=${() => this.changeLanguage(code)} />
          <span lang=${code}>${code === 'en' ? 'English' : 'Suomi'}</span>
        </label>`,
      )}
    </fieldset>`;
  }

  private centred(body: TemplateResult): TemplateResult {
    return html`<header class="c-top c-top-plain">${this.brand()}<span class="spacer"></span>
        <a class="c-toplink" href="/">${t('technicianApp')}</a></header>
      <main id="main" class="c-center" tabindex="-1">
        <div class="c-card c-narrow">${body}</div>
        <div class="c-narrow c-lang-bottom">${this.languagePicker()}</div>
      </main>`;
  }

  private unreachableView(): TemplateResult {
    return this.centred(html`<h1>${t('signInTitle')}</h1>
      ${notice('error', t('serverUnreachable'))}
      <button type="button" class="btn btn-primary" @click=${() => void this.checkSession()}>${t('tryAgain')}</button>`);
  }

  private signInView(): TemplateResult {
    const s = this.signin;
    return this.centred(html`<h1 tabindex="-1">${t('signInTitle')}</h1>
      <p class="lead">${t('signInLead')}</p>
      ${s.expired ? notice('info', t('sessionExpired')) : nothing}
      <form class="form" @submit=${(e: Event) => void this.signIn(e)} novalidate>
        <label for="username">${t('username')}</label>
        <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required
          .value=${s.expired && this.signedIn ? this.signedIn.username : ''} />
        <label for="password">${t('password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        ${s.error ? html`<p class="msg msg-error" role="alert">${s.error}</p>` : nothing}
        <button type="submit" class="btn btn-primary btn-block" ?disabled=${s.busy}>${s.busy ? t('signingIn') : t('signIn')}</button>
      </form>`);
  }

  private roleView(): TemplateResult {
    const user = this.user;
    return this.centred(html`<h1 data-testid="not-for-role">${t('notForRoleTitle')}</h1>
      <p>${t('notForRoleLead', { name: user.display_name || user.username })}</p>
      <p class="lead">${t('notForRoleOther')}</p>
      <div class="row">
        <a class="btn btn-primary" href="/">${t('openTechnicianApp')}</a>
        <button type="button" class="btn" @click=${() => void this.signOut()}>${t('signOut')}</button>
      </div>`);
  }

  private consoleView(): TemplateResult {
    const user = this.user;
    const waiting = this.counts ? this.counts.failed + this.counts.conflict : 0;
    return html`<a class="skip" href="#main" @click=${(e: Event) => {
        e.preventDefault();
        this.root.querySelector<HTMLElement>('#main')?.focus();
      }}>${t('skipToContent')}</a>
      <header class="c-top">
        ${this.brand()}
        <nav class="c-tabs" aria-label=${t('sections')}>
          ${sectionsFor(user.role).map(
            (s) => html`<a class="c-tab" href="#/${s.name}" aria-current=${this.route.name === s.name ? 'page' : 'false'}
              data-testid="tab-${s.name}">
              ${t(s.label)}
              ${s.name === 'inbox' && waiting > 0
                ? html`<span class="c-count" data-testid="inbox-count" title=${t('inboxBadge', { count: waiting })}>
                    <span aria-hidden="true">${num(waiting)}</span><span class="visually-hidden">${t('inboxBadge', { count: waiting })}</span>
                  </span>`
                : nothing}
            </a>`,
          )}
        </nav>
        <span class="spacer"></span>
        <a class="c-toplink c-wide-only" href="/">${t('technicianApp')}</a>
        <details class="menu c-menu">
          <summary aria-label=${t('signedInAs', { name: user.display_name || user.username, role: t(`role.${user.role}`) })}>
            <span class="c-avatar" aria-hidden="true">${(user.display_name || user.username).slice(0, 1).toUpperCase()}</span>
            <span class="c-menu-name">${user.display_name || user.username}</span>
            <span aria-hidden="true" class="c-caret">▾</span>
          </summary>
          <div class="menu-panel">
            <p class="menu-user">${t('signedInAs', { name: user.display_name || user.username, role: t(`role.${user.role}`) })}</p>
            ${this.languagePicker()}
            <a class="btn btn-small" href="/">${t('openTechnicianApp')}</a>
            <button type="button" class="btn btn-small" data-testid="change-password"
              @click=${() => askPasswordChange(this.dialogs, this.api, () => this.saySaved(t('passwordChanged')))}>${t('changePassword')}</button>
            <button type="button" class="btn btn-small" data-testid="sign-out-everywhere-self"
              @click=${() => askSignOutEverywhere(this.dialogs, this.api, () => this.forgetSession())}>${t('signOutEverywhere')}</button>
            <button type="button" class="btn btn-small" @click=${() => void this.signOut()}>${t('signOut')}</button>
          </div>
        </details>
      </header>
      <main id="main" tabindex="-1">
        ${notice('success', this.accountNotice, () => this.saySaved(null))}
        ${this.shown
          ? this.shown.view()
          : this.sectionError
            ? notice('error', this.sectionError)
            : this.loadingSection
              ? busy(t('loading'))
              : nothing}
      </main>
      ${this.dialogs.view()}`;
  }
}

const root = document.getElementById('console');
if (root) void new ConsoleApp(root).start();
