// Start the app: load what the phone knows, render, and wire the sync triggers (start, `online`,
// the page becoming visible, Background Sync via the service worker, the timer, the user).

import './styles.css';
import { render } from 'lit-html';
import { Api } from './core/api';
import { subscribe, type ChangeTopic } from './core/changes';
import { cachedGroups, selectedGroup } from './core/groups';
import * as outbox from './core/outbox';
import { adoptBrowserSession, csrfToken, refreshSession } from './core/session';
import { loadPlatform } from './core/platform';
import { loadSettings } from './core/settings';
import { loadBatchList, loadBatchRemoved } from './core/batch-list';
import { OutboxSync } from './core/sync';
import { queueReportHeader, refreshQueueReport } from './core/queue-report';
import { checkForUpdate, registerServiceWorker } from './browser/sw-bridge';
import { onOutdated } from './core/db';
import { noteRunningBuild } from './core/app-version';
import { updateMoment } from './core/update-moment';
import { requestPersistentStorage } from './browser/persistence';
import { Controller, hashToRoute } from './ui/controller';
import { chooseLanguage, setLanguage } from './ui/i18n';
import { getState, initState, onChange, update } from './ui/state';
import { appView } from './ui/view';

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const api = new Api({ csrf: csrfToken, queueReport: () => queueReportHeader() });
  void refreshQueueReport();
  const sync = new OutboxSync({ api, followEveryMs: 5_000 });
  const controller = new Controller(api, sync);

  await loadPlatform();
  // The storage answer comes before the first paint when the browser gives it at once (Chrome
  // does): its banner then never pushes the screen down under the technician's thumb.
  const persistence = requestPersistentStorage();
  const persistenceSoon = Promise.race([persistence, new Promise<null>((resolve) => window.setTimeout(() => resolve(null), 300))]);
  const [session, settings, group, groups, ops, counts, batchItems, batchRemoved, persistenceAtStart] = await Promise.all([
    adoptBrowserSession(api),
    loadSettings(),
    selectedGroup(),
    cachedGroups(),
    outbox.all(),
    outbox.counts(),
    loadBatchList(),
    loadBatchRemoved(),
    persistenceSoon,
  ]);
  controller.undoFlow.restoreRemoved(batchRemoved);
  // The camera comes back as the technician left it (a reload, a reopened app).
  controller.cameraWanted = settings.cameraOn;
  const lang = chooseLanguage(settings.language, navigator.languages?.length ? navigator.languages : [navigator.language]);
  setLanguage(lang);
  initState({
    ready: true,
    route: hashToRoute(window.location.hash),
    lang,
    session,
    settings,
    selectedGroup: group,
    groups,
    counts,
    ops,
    todayRemote: [],
    sync: { ...sync.status },
    updateReady: null,
    outdated: false,
    updated: (await noteRunningBuild()) === 'updated',
    persistence: persistenceAtStart,
    toast: null,
    dialog: null,
    device: null,
    replace: null,
    scan: {
      cameraOn: false,
      starting: false,
      error: null,
      decoder: null,
      torchSupported: false,
      torchOn: false,
      items: batchItems,
      message: null,
      photoBusy: false,
      photoCodes: [],
    },
    signin: { busy: false, error: null },
    groupUi: { filter: '', busy: false, message: null },
  });

  let shownRoute = '';
  const draw = () => {
    const state = getState();
    render(appView(state, controller), root);
    const dialog = root.querySelector<HTMLDialogElement>('dialog.dialog');
    if (dialog && !dialog.open) dialog.showModal();
    // Move focus to the new screen's heading so screen readers announce it.
    const routeKey = JSON.stringify(state.route) + String(Boolean(state.session.user));
    if (routeKey !== shownRoute) {
      const first = shownRoute === '';
      shownRoute = routeKey;
      if (!first) {
        window.scrollTo(0, 0);
        root.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
      }
    }
  };
  onChange(draw);
  draw();

  // A new version: installed in the background, applied at a safe moment (core/update-moment).
  let applyUpdate: (() => void) | null = null;
  let syncAsked = false;
  const busy = () => {
    const s = getState();
    return Boolean(s.dialog) || s.route.name === 'device' || s.route.name === 'replace';
  };
  const considerUpdate = () => {
    const s = getState();
    if (s.outdated && !busy() && !(document.activeElement instanceof HTMLInputElement)) {
      window.location.reload(); // an old copy: nothing of it is worth keeping on screen
      return;
    }
    if (!applyUpdate) return;
    const me = s.session.user?.username;
    const moment = updateMoment({
      waiting: me ? (s.counts.byUser[me] ?? 0) : 0,
      sending: s.ops.filter((op) => op.state === 'sending').length,
      syncRunning: s.sync.running,
      online: s.sync.online === true,
      busy: busy(),
      syncAsked,
    });
    if (moment === 'apply') {
      const apply = applyUpdate;
      applyUpdate = null;
      apply();
    } else if (moment === 'sync-first') {
      syncAsked = true;
      void sync.trigger('update');
    }
  };
  onChange(considerUpdate);
  onOutdated(() => update({ outdated: true }));
  controller.showRoute(getState().route);

  // Re-read stored data when any context (this tab, another, the service worker) changes it.
  const pending = new Set<ChangeTopic>();
  let refreshTimer: number | null = null;
  subscribe((topic) => {
    if (topic === 'outbox') void refreshQueueReport();
    pending.add(topic);
    if (refreshTimer !== null) return;
    refreshTimer = window.setTimeout(() => {
      refreshTimer = null;
      const topics = new Set(pending);
      pending.clear();
      void controller.refresh(topics);
    }, 50);
  });

  let wasOnline: boolean | null = null;
  sync.onStatus((status) => {
    update({ sync: status });
    if (status.online && wasOnline !== true) {
      void checkForUpdate(true); // the connection is back: was a new version deployed meanwhile?
      const s = getState();
      if (s.session.user && !s.session.expired) {
        void controller.syncPlatform();
        void controller.groups.refreshGroupList(false);
      }
    }
    wasOnline = status.online;
  });

  window.addEventListener('hashchange', () => {
    const route = hashToRoute(window.location.hash);
    if (JSON.stringify(route) !== JSON.stringify(getState().route)) controller.showRoute(route);
  });
  window.addEventListener('online', () => {
    void sync.trigger('online');
    void checkForUpdate(true);
  });
  window.addEventListener('offline', () => void sync.trigger('offline'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      void sync.trigger('visible');
      void checkForUpdate();
      const { route } = getState();
      if ((route.name === 'scan' || route.name === 'replace') && controller.cameraWanted) controller.requestCamera();
    } else {
      controller.stopCamera();
    }
  });

  void registerServiceWorker({
    onUpdateReady: (apply) => {
      applyUpdate = apply;
      syncAsked = false;
      update({ updateReady: apply });
    },
    onReplaced: () => update({ outdated: true }),
    onSyncRequested: () => void sync.trigger('background-sync'),
  });
  if (persistenceAtStart === null) {
    void persistence.then((answer) => {
      update({ persistence: answer }); // a refusal is explained in a banner until the technician dismisses it
    });
  }

  await sync.trigger('start');
  if (session.user && !session.expired && sync.status.online) await refreshSession(api);
}

void boot();
