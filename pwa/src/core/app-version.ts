// Which build of the app runs, remembered on the phone, so the app can tell the technician in
// words that it was updated (also when the update arrived by closing and reopening it).

import { getMeta, setMeta } from './db';

const KEY = 'app_build';
/** Every tab that starts this soon after the change says so (they reload together). */
export const UPDATED_NOTE_MS = 120_000;

interface StoredBuild {
  build: string;
  /** When this phone first ran this build after another one (epoch ms); null on first use. */
  changed_at: number | null;
}

/** This build's id (set at build time). */
export const APP_BUILD: string = typeof __FIELDHAND_BUILD__ === 'string' ? __FIELDHAND_BUILD__ : 'dev';

/** Remember the running build; return 'updated' when it replaced another one just now. */
export async function noteRunningBuild(build = APP_BUILD, now = Date.now()): Promise<'first' | 'same' | 'updated'> {
  const stored = await getMeta<StoredBuild | string>(KEY);
  const previous = typeof stored === 'string' ? { build: stored, changed_at: null } : stored;
  if (!previous) {
    await setMeta(KEY, { build, changed_at: null } satisfies StoredBuild);
    return 'first';
  }
  if (previous.build !== build) {
    await setMeta(KEY, { build, changed_at: now } satisfies StoredBuild);
    return 'updated';
  }
  return previous.changed_at !== null && now - previous.changed_at < UPDATED_NOTE_MS ? 'updated' : 'same';
}
