// Small preferences kept with the rest of the phone's data.

import { getMeta, updateMeta } from './db';
import { notify } from './changes';

export type Language = 'en' | 'fi';

export interface Settings {
  language: Language | null;
  /** Last action chosen for continuous batch scanning. */
  batchAction: 'install' | 'remove' | 'quarantine' | 'retire';
  /** Continuous scanning: each new label is queued with batchAction at once. */
  batchMode: boolean;
  /** The user has read the warning that the browser may evict storage. */
  persistWarningDismissed: boolean;
  /** The technician had the camera on: it comes back on after a reload. */
  cameraOn: boolean;
}

const KEY = 'settings';
const DEFAULTS: Settings = { language: null, batchAction: 'install', batchMode: false, persistWarningDismissed: false, cameraOn: false };

/** Return the stored settings, with defaults filled in. */
export async function loadSettings(): Promise<Settings> {
  return { ...DEFAULTS, ...((await getMeta<Partial<Settings>>(KEY)) ?? {}) };
}

/** Change some settings. */
export async function saveSettings(change: Partial<Settings>): Promise<Settings> {
  const next = await updateMeta<Settings>(KEY, (stored) => ({ ...DEFAULTS, ...(stored ?? {}), ...change }));
  notify('settings');
  return next;
}
