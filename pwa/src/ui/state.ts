// The page's view state: one object, changed only through `update`, rendered after each change.

import type { SessionState } from '../core/session';
import type { Settings, Language } from '../core/settings';
import type { GroupsState } from '../core/groups';
import type { SyncStatus } from '../core/sync';
import type { DeviceLookup } from '../core/devices';
import type { CachedDevice, Operation, OutboxOp } from '../core/types';
import type { BatchEntry } from '../core/batch-list';
import type { PersistenceResult } from '../browser/persistence';
import type { DecoderName } from './scanner/camera';

export type Route =
  | { name: 'scan' }
  | { name: 'queue' }
  | { name: 'group' }
  | { name: 'device'; tuid: string }
  | { name: 'replace'; tuid: string }
  | { name: 'signin' };

export type BatchAction = Settings['batchAction'];

export type { BatchEntry as BatchItem } from '../core/batch-list';

/** A button offered with a message ("Undo", "Use TSPR04…"). */
export interface MessageAction {
  label: string;
  testId: string;
  run: () => void;
}

export interface Message {
  text: string;
  kind: 'info' | 'error' | 'success';
  action?: MessageAction;
}

export interface DialogRequest {
  message: string;
  confirmLabel: string;
  danger: boolean;
  resolve: (ok: boolean) => void;
}

export interface AppState {
  ready: boolean;
  route: Route;
  lang: Language;
  session: SessionState;
  settings: Settings;
  selectedGroup: string | null;
  groups: GroupsState;
  counts: { waiting: number; failed: number; byUser: Record<string, number> };
  ops: OutboxOp[];
  todayRemote: Operation[];
  sync: SyncStatus;
  updateReady: (() => void) | null;
  /** Another tab runs a newer version (its database is newer): this one must reload. */
  outdated: boolean;
  /** This start runs a newer build than the last one: say so once. */
  updated: boolean;
  persistence: PersistenceResult | null;
  toast: Message | null;
  dialog: DialogRequest | null;
  device: { tuid: string; lookup: DeviceLookup | null; loading: boolean; error: string | null } | null;
  replace: {
    oldTuid: string;
    oldDevice: CachedDevice | null;
    newTuid: string | null;
    newType: string | null;
    oldStatus: 'uninstalled' | 'retired';
  } | null;
  scan: {
    cameraOn: boolean;
    starting: boolean;
    error: string | null;
    decoder: DecoderName | null;
    torchSupported: boolean;
    torchOn: boolean;
    items: BatchEntry[];
    message: Message | null;
    photoBusy: boolean;
    photoCodes: { text: string; tuid: string | null; error: string | null }[];
  };
  signin: { busy: boolean; error: string | null };
  groupUi: { filter: string; busy: boolean; message: Message | null };
}

type Listener = () => void;

let state: AppState;
const listeners = new Set<Listener>();
let scheduled = false;

/** Set the initial state. */
export function initState(initial: AppState): void {
  state = initial;
}

/** Return the current state (read-only by convention). */
export function getState(): AppState {
  return state;
}

/** Change the state and schedule a render. */
export function update(change: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
  const patch = typeof change === 'function' ? change(state) : change;
  state = { ...state, ...patch };
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      for (const listener of [...listeners]) listener();
    });
  }
}

/** Call `listener` after each batch of changes. */
export function onChange(listener: Listener): void {
  listeners.add(listener);
}
