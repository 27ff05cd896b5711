// What the user's taps do: each action calls the offline core (never IndexedDB directly),
// updates the view state, and nudges the sync engine.

import { ApiError, NetworkError, type Api } from '../core/api';
import * as outbox from '../core/outbox';
import { lookupDevice } from '../core/devices';
import { cachedGroups, selectedGroup } from '../core/groups';
import { loadSession, markSessionExpired, signIn as coreSignIn, signOut as coreSignOut, currentSession } from '../core/session';
import { loadSettings, type Language } from '../core/settings';
import { SettingsEdits } from './settings-edits';
import { confirmationFor, isDangerous, operationFor } from '../core/actions';
import { confirmationText } from './confirmations';
import type { LabelError } from '../core/label';
import { ScanMemory, systemScanClock, type ScanClock } from '../core/scan-memory';
import { readDeviceLabel, readTypedId } from '../core/device-ids';
import { ActedLabelHold } from '../core/acted-label';
import { OutdatedAppError } from '../core/db';
import { saveBatchList } from '../core/batch-list';
import { UndoFlow } from './undo-flow';
import { BatchFlow } from './batch-flow';
import { GroupFlow } from './group-flow';
import { ReplaceFlow } from './replace-flow';
import { CameraControl } from './camera-control';
import { can, currentPlatform, loadPlatform, refreshPlatform } from '../core/platform';
import type { OutboxSync } from '../core/sync';
import { requestBackgroundSync } from '../browser/sw-bridge';
import { setLanguage, t } from './i18n';
import { labelProblem } from './label-words';
import { routeToHash } from './routes';
import { getState, update, type BatchAction, type MessageAction, type Route } from './state';
import { describeOp } from './format';
import { explainError } from './errors';

const TOAST_MS = 4_000;
let toastTimer: number | null = null;

export class Controller {
  private readonly scanMemory: ScanMemory;
  private readonly actedHold: ActedLabelHold;
  readonly undoFlow: UndoFlow;
  private readonly batch: BatchFlow;

  constructor(
    readonly api: Api,
    readonly sync: OutboxSync,
    clock: ScanClock = systemScanClock,
  ) {
    this.scanMemory = new ScanMemory(clock);
    this.actedHold = new ActedLabelHold(clock);
    this.undoFlow = new UndoFlow(this);
    this.batch = new BatchFlow(this, clock);
  }

  // ---- data refresh -------------------------------------------------------------------------

  private refreshing: Promise<void> = Promise.resolve();
  /** Settings changed here win over a re-read that overlapped the change. */
  private readonly settingsEdits = new SettingsEdits();

  /**
   * Re-read what the views show from the core. One re-read at a time, in the order asked: two
   * running side by side could finish out of order, and a slow one (settings, groups) would then
   * put back the queue as it was before a faster one read it, e.g. "accepted" over "synced",
   * with no later change to correct it.
   */
  refresh(topics: ReadonlySet<string> = new Set(['outbox', 'session', 'settings', 'groups'])): Promise<void> {
    const run = this.refreshing.then(() => this.reread(topics));
    this.refreshing = run.catch(() => undefined);
    return run;
  }

  private async reread(topics: ReadonlySet<string>): Promise<void> {
    const patch: Partial<ReturnType<typeof getState>> = {};
    const edits = this.settingsEdits.mark();
    if (topics.has('session')) patch.session = await loadSession();
    if (topics.has('settings')) {
      await loadPlatform();
      patch.settings = await loadSettings();
      patch.selectedGroup = await selectedGroup();
    }
    if (topics.has('groups')) patch.groups = await cachedGroups();
    if (topics.has('outbox')) {
      // Last, so what is shown is as fresh as this re-read can make it.
      patch.ops = await outbox.all();
      patch.counts = await outbox.counts();
    }
    if (!this.settingsEdits.fresh(edits)) delete patch.settings;
    update(patch);
  }

  // ---- navigation ---------------------------------------------------------------------------

  /** Go to a screen (through the URL hash, so Back works). */
  go(route: Route): void {
    const hash = routeToHash(route);
    this.showRoute(route);
    if (window.location.hash !== hash) window.location.hash = hash;
  }

  /** Show the screen for a route (called on hash change). */
  showRoute(route: Route): void {
    const previous = getState().route;
    // A message about the last screen ("Remove queued for …") must not sit over the next one.
    if (routeToHash(previous) !== routeToHash(route)) update({ route, toast: null });
    else update({ route });
    if (route.name !== 'scan' && route.name !== 'replace') this.stopCamera();
    if (route.name === 'device' && (previous.name !== 'device' || previous.tuid !== route.tuid)) void this.openDevice(route.tuid);
    if (route.name === 'replace' && (previous.name !== 'replace' || previous.tuid !== route.tuid)) void this.replace.startReplace(route.tuid);
    if (route.name === 'queue') void this.loadTodayRemote();
    if (route.name === 'group' && getState().sync.online) void this.groups.refreshGroupList(false);
  }

  // ---- messages -----------------------------------------------------------------------------

  toast(text: string, kind: 'info' | 'error' | 'success' = 'info', action?: MessageAction): void {
    update({ toast: action ? { text, kind, action } : { text, kind } });
    if (toastTimer !== null) window.clearTimeout(toastTimer);
    // A toast with a button (Undo) stays long enough to reach it with a gloved thumb.
    toastTimer = window.setTimeout(() => update({ toast: null }), action ? TOAST_MS * 2 : TOAST_MS);
  }

  /** Ask the user to confirm; resolves true on confirm. */
  confirm(message: string, confirmLabel = t('confirm'), danger = false): Promise<boolean> {
    return new Promise((resolve) => {
      update({
        dialog: {
          message,
          confirmLabel,
          danger,
          resolve: (ok) => {
            update({ dialog: null });
            resolve(ok);
          },
        },
      });
    });
  }

  /** Say what went wrong in the user's language, from the error's code (src/ui/errors.ts). */
  errorText(error: unknown): string {
    if (error instanceof OutdatedAppError) return t('outdatedTab');
    return explainError(error).text;
  }

  // ---- session ------------------------------------------------------------------------------

  async signIn(username: string, password: string): Promise<void> {
    update({ signin: { busy: true, error: null } });
    try {
      await coreSignIn(this.api, username, password);
      update({ signin: { busy: false, error: null } });
      await this.syncPlatform();
      const group = await selectedGroup();
      this.go(group || !can('deployment_groups') ? { name: 'scan' } : { name: 'group' });
      await this.refresh();
      void this.sync.trigger('signed-in');
      void this.groups.refreshGroupList(false);
    } catch (error) {
      let message = this.errorText(error);
      if (error instanceof ApiError && error.status === 401) message = t('invalidCredentials');
      else if (error instanceof ApiError && error.status === 429) message = t('tooManyAttempts');
      else if (error instanceof NetworkError) message = t('signInOffline');
      update({ signin: { busy: false, error: message } });
    }
  }

  async signOut(): Promise<void> {
    const { session, counts } = getState();
    const mine = session.user ? (counts.byUser[session.user.username] ?? 0) : 0;
    if (mine > 0 && !(await this.confirm(t('signOutConfirm', { count: mine, user: session.user?.username ?? '' }), t('signOut')))) return;
    this.stopCamera();
    await coreSignOut(this.api);
    await this.refresh();
    this.go({ name: 'signin' });
  }

  /** Note a 401 seen outside the sync engine (device card, groups, photo decode). */
  async sessionExpired(): Promise<void> {
    await markSessionExpired();
    await this.refresh(new Set(['session']));
  }

  /** Learn which platform the backend talks to (kept for offline use); quiet when offline. */
  async syncPlatform(): Promise<void> {
    try {
      await refreshPlatform(this.api);
    } catch {
      // Offline or signed out: the platform last seen (or Thingsee) stays.
    }
  }

  // ---- settings -----------------------------------------------------------------------------

  async setLanguage(language: Language): Promise<void> {
    setLanguage(language);
    await this.settingsEdits.change({ language });
    update({ lang: language });
  }

  async dismissPersistence(): Promise<void> {
    await this.settingsEdits.change({ persistWarningDismissed: true });
  }

  async setBatchAction(batchAction: BatchAction): Promise<void> {
    await this.settingsEdits.change({ batchAction });
  }

  // ---- groups (group-flow.ts) --------------------------------------------------------------

  readonly groups: GroupFlow = new GroupFlow(this);

  // ---- scanning -----------------------------------------------------------------------------

  /** The message for a text that is not a label, with a "Did you mean …" button when there is one. */
  private labelMessage(error: LabelError): { text: string; kind: 'error'; action?: MessageAction } {
    const meant = currentPlatform().key === 'thingsee' ? error.hint.didYouMean : undefined;
    const text = labelProblem(error);
    if (!meant) return { text, kind: 'error' };
    return { text, kind: 'error', action: { label: t('reason.didYouMean', { tuid: meant }), testId: 'did-you-mean', run: () => void this.manualEntry(meant) } };
  }

  /** Handle codes read by the camera (or chosen from a photo). */
  async handleCodes(texts: string[]): Promise<void> {
    const { route, settings } = getState();
    const batch = settings.batchMode && route.name === 'scan';
    for (const text of texts) {
      const parsed = readDeviceLabel(currentPlatform().key, text);
      // Single mode: the label just acted on stays shut until it has left the view.
      if (!batch && route.name === 'scan' && 'label' in parsed && this.actedHold.ignores(parsed.label.tuid)) continue;
      // The camera sees the same label many times a second: act on it once.
      if (!this.scanMemory.isNew(text, batch)) continue;
      if ('error' in parsed) {
        navigator.vibrate?.([60, 60, 60]);
        this.setScanMessage(this.labelMessage(parsed.error));
        continue;
      }
      if (route.name === 'replace') {
        this.replace.scanned(parsed.label);
        return;
      }
      if (batch) {
        await this.batch.scanned(parsed.label);
        continue;
      }
      navigator.vibrate?.(40);
      this.stopCamera();
      this.go({ name: 'device', tuid: parsed.label.tuid });
      return;
    }
  }

  /** Clear the "just read" memory (a new batch, or leaving the scan screen). */
  forgetLastCode(): void {
    this.scanMemory.forget();
  }

  /** Every decoded camera frame, with what was read in it (for the acted-on label's hold). */
  cameraFrame(texts: string[]): void {
    if (!this.actedHold.holding) return;
    const ids = texts.flatMap((text) => {
      const parsed = readDeviceLabel(currentPlatform().key, text);
      return 'label' in parsed ? [parsed.label.tuid] : [];
    });
    this.actedHold.frame(ids);
  }

  setScanMessage(message: { text: string; kind: 'info' | 'error' | 'success'; action?: MessageAction } | null): void {
    update((s) => ({ scan: { ...s.scan, message } }));
  }

  /** Open a device from typed text (a TUID or any label text). */
  manualEntry(text: string): boolean {
    // Typed by hand: "TSPR04-EZU31901021" and spaces are the TUID (core/device-ids.ts).
    const parsed = readTypedId(currentPlatform().key, text);
    if ('error' in parsed) {
      this.setScanMessage(this.labelMessage(parsed.error));
      return false;
    }
    this.actedHold.release();
    if (getState().route.name === 'replace') {
      this.replace.scanned(parsed.label);
      return true;
    }
    this.stopCamera();
    this.go({ name: 'device', tuid: parsed.label.tuid });
    return true;
  }

  /** Send a photo to the server decoder (online only). */
  async decodePhoto(file: File): Promise<void> {
    update((s) => ({ scan: { ...s.scan, photoBusy: true, photoCodes: [], message: { text: t('photoDecoding'), kind: 'info' } } }));
    try {
      const result = await this.api.decodeLabelPhoto(file, file.name || 'label.jpg');
      const codes = result.codes.map((c) => ({ text: c.text, tuid: c.label?.tuid ?? null, error: c.error }));
      update((s) => ({ scan: { ...s.scan, photoBusy: false, photoCodes: codes.length > 1 ? codes : [], message: null } }));
      if (codes.length === 0) this.setScanMessage({ text: t('photoNothing'), kind: 'error' });
      else if (codes.length === 1) {
        this.forgetLastCode(); // the same label again from a new photo is a new request
        this.actedHold.release();
        await this.handleCodes([codes[0]!.text]);
      }
      else this.setScanMessage({ text: t('photoPick'), kind: 'info' });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) await this.sessionExpired();
      update((s) => ({ scan: { ...s.scan, photoBusy: false, message: { text: this.errorText(error), kind: 'error' } } }));
    }
  }

  // ---- camera (camera-control.ts) ----------------------------------------------------------

  readonly camera: CameraControl = new CameraControl(this);

  /** The user started the camera in this page session (it comes back on the scan screen). */
  get cameraWanted(): boolean {
    return this.camera.wanted;
  }

  set cameraWanted(wanted: boolean) {
    this.camera.wanted = wanted;
  }

  /** The user (or Replace) asked for the camera. */
  requestCamera(): void {
    this.camera.request();
  }

  /** Release the camera; `byUser` also stops it coming back on by itself. */
  stopCamera(byUser = false): void {
    this.camera.stop(byUser);
  }

  async setBatch(batchMode: boolean): Promise<void> {
    this.forgetLastCode();
    update((s) => ({ scan: { ...s.scan, message: null } }));
    await this.settingsEdits.change({ batchMode });
  }

  clearBatch(): void {
    this.forgetLastCode();
    update((s) => ({ scan: { ...s.scan, items: [], message: null } }));
    this.undoFlow.newBatch();
    void saveBatchList([]);
  }

  // ---- device card --------------------------------------------------------------------------

  async openDevice(tuid: string): Promise<void> {
    update({ device: { tuid, lookup: null, loading: true, error: null } });
    try {
      const lookup = await lookupDevice(this.api, tuid, getState().sync.online !== false);
      if (getState().device?.tuid === tuid) update({ device: { tuid, lookup, loading: false, error: null } });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        await this.sessionExpired();
        const lookup = await lookupDevice(this.api, tuid, false);
        update({ device: { tuid, lookup, loading: false, error: null } });
        return;
      }
      update({ device: { tuid, lookup: null, loading: false, error: this.errorText(error) } });
    }
  }

  /** Queue an action from the device card, after the confirmations it needs. */
  async act(kind: 'install' | 'remove' | 'quarantine' | 'retire'): Promise<void> {
    const { device, selectedGroup: group, session } = getState();
    const lookup = device?.lookup;
    if (!device || !lookup || !session.user) return;
    const { tuid } = device;
    const status = lookup.device.status;
    const seen = { status, group: lookup.device.group };
    if (kind === 'install' && !group && can('deployment_groups')) {
      this.go({ name: 'group' });
      this.toast(t('pickGroupFirst'), 'error');
      return;
    }
    const question = confirmationFor(kind, status);
    const message = question && confirmationText(question, tuid, lookup.device.group, group);
    if (message && !(await this.confirm(message, t('confirm'), isDangerous(kind)))) return;

    const op = operationFor(kind, tuid, group);
    const queued = await outbox.enqueue({ ...op, seen }, session.user.username);
    this.kickSync();
    this.actedHold.hold(tuid);
    this.go({ name: 'scan' });
    this.toast(t('queuedToast', { action: describeOp(queued), tuid }), 'success', this.undoFlow.actionFor(queued.op_id));
  }

  // ---- replace (replace-flow.ts) -----------------------------------------------------------

  readonly replace: ReplaceFlow = new ReplaceFlow(this);

  // ---- queue --------------------------------------------------------------------------------

  /** Send now (the user's trigger). */
  sendNow(): void {
    void this.sync.trigger('user');
  }

  async retry(opId: string): Promise<void> {
    if (await outbox.retry(opId)) {
      this.toast(t('retried'), 'success');
      this.kickSync();
    }
  }

  async discard(opId: string, tuid: string): Promise<void> {
    if (!(await this.confirm(t('discardConfirm', { tuid }), t('discard'), true))) return;
    if (await outbox.discard(opId)) this.toast(t('discarded'));
  }

  /** Fetch today's actions the server has for this user (other phones included). */
  async loadTodayRemote(): Promise<void> {
    const { session, sync } = getState();
    if (!session.user || session.expired || sync.online === false) return;
    const since = new Date();
    since.setHours(0, 0, 0, 0);
    try {
      const { items } = await this.api.myOperationsSince(since.toISOString());
      update({ todayRemote: items });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) await this.sessionExpired();
    }
  }

  /** After queueing: send soon, and ask for Background Sync in case the app is closed first. */
  kickSync(): void {
    void requestBackgroundSync();
    void this.sync.trigger('queued');
  }

  /** The user currently signed in (or whose session expired), if any. */
  username(): string | null {
    return currentSession().user?.username ?? null;
  }
}

export { hashToRoute, routeToHash } from './routes';
