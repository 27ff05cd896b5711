// The one module that owns the phone's IndexedDB schema. Everything else asks it for a
// connection; nothing else creates stores or indexes. Never await the network while a
// transaction from here is open: IndexedDB commits a transaction as soon as it has nothing to
// do, so a fetch in the middle would make it commit (or fail) behind our back.

import { openDB, deleteDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { CachedDevice, Group, OutboxOp } from './types';

export const DB_NAME = 'fieldhand';
/** The newest schema step below. */
export const SCHEMA_VERSION = 1;
/** The version this build opens: the schema's, plus a bump only test builds set. */
export const DB_VERSION = SCHEMA_VERSION + (typeof __FIELDHAND_DB_TEST_BUMP__ === 'number' ? __FIELDHAND_DB_TEST_BUMP__ : 0);

/**
 * The stored database is newer than this build (another tab or the service worker runs a newer
 * version and upgraded it): this copy of the app must be reloaded, not keep failing.
 */
export class OutdatedAppError extends Error {
  override name = 'OutdatedAppError';
  constructor() {
    super('A newer version of Fieldhand is running; reload to continue.');
  }
}

const outdatedListeners = new Set<() => void>();
let outdated = false;

/** Call `listener` once this copy of the app is found outdated (it should reload). */
export function onOutdated(listener: () => void): () => void {
  outdatedListeners.add(listener);
  if (outdated) listener();
  return () => outdatedListeners.delete(listener);
}

function markOutdated(): void {
  if (outdated) return;
  outdated = true;
  for (const listener of [...outdatedListeners]) listener();
}

/** True once a newer version took the database over. */
export function isOutdated(): boolean {
  return outdated;
}

export interface CachedGroup extends Group {
  /** Lowercased id for sorting and search. */
  sort_key: string;
}

export interface FieldhandDB extends DBSchema {
  outbox: {
    key: string;
    value: OutboxOp;
    indexes: { by_state: string; by_created: number; by_tuid: string };
  };
  devices: { key: string; value: CachedDevice };
  groups: { key: string; value: CachedGroup };
  /** Session, settings and small bookkeeping values, keyed by name. */
  meta: { key: string; value: unknown };
}

export type Db = IDBPDatabase<FieldhandDB>;

let dbName = DB_NAME;
let opening: Promise<Db> | null = null;

/**
 * Apply every schema step between the stored version and DB_VERSION, in order. A new version
 * adds a new `if (oldVersion < N)` block below the others and never edits an old one, so a phone
 * that skipped releases still walks through every step with its queue intact.
 */
function upgrade(db: Db, oldVersion: number, tx: IDBPTransaction<FieldhandDB, StoreNames<FieldhandDB>[], 'versionchange'>): void {
  if (oldVersion < 1) {
    const outbox = db.createObjectStore('outbox', { keyPath: 'op_id' });
    outbox.createIndex('by_state', 'state');
    outbox.createIndex('by_created', 'created_at');
    outbox.createIndex('by_tuid', 'tuid');
    db.createObjectStore('devices', { keyPath: 'tuid' });
    db.createObjectStore('groups', { keyPath: 'group_id' });
    db.createObjectStore('meta');
  }
  void tx; // later steps use it to move data between stores inside the upgrade
}

/** Return the shared connection, opening (and upgrading) the database on first use. */
export function getDb(): Promise<Db> {
  if (outdated) return Promise.reject(new OutdatedAppError());
  if (!opening) {
    opening = openDB<FieldhandDB>(dbName, DB_VERSION, {
      upgrade(db, oldVersion, _newVersion, tx) {
        upgrade(db, oldVersion, tx);
      },
      blocking(_currentVersion, blockedVersion) {
        // A newer version of the app wants to upgrade: let it. This copy cannot reopen the
        // upgraded database (VersionError), so it is outdated and must reload.
        void closeDb();
        if (blockedVersion === null || blockedVersion > DB_VERSION) markOutdated();
      },
      terminated() {
        opening = null;
      },
    });
    opening = opening.catch((error: unknown) => {
      opening = null;
      if (error instanceof DOMException && error.name === 'VersionError') {
        markOutdated();
        throw new OutdatedAppError();
      }
      throw error;
    });
  }
  return opening;
}

/** Close the shared connection (the next getDb() reopens it). */
export async function closeDb(): Promise<void> {
  const current = opening;
  opening = null;
  if (current) {
    try {
      (await current).close();
    } catch {
      // it never opened: nothing to close
    }
  }
}

/** Use another database name (tests give each case a fresh one). */
export async function useDatabase(name: string): Promise<void> {
  await closeDb();
  dbName = name;
  outdated = false;
}

/** Delete a database by name (tests only; the app never deletes the outbox). */
export async function dropDatabase(name: string): Promise<void> {
  if (name === dbName) await closeDb();
  await deleteDB(name);
}

/** Read one meta value. */
export async function getMeta<T>(key: string): Promise<T | undefined> {
  const db = await getDb();
  return (await db.get('meta', key)) as T | undefined;
}

/** Write one meta value. */
export async function setMeta(key: string, value: unknown): Promise<void> {
  const db = await getDb();
  await db.put('meta', value, key);
}

/**
 * Read, change and write one meta value in one transaction: two changes made at once (this tab
 * and another, or two parts of one page) both stay, where a read then a separate write would
 * let the later write put back what the earlier one changed.
 */
export async function updateMeta<T>(key: string, change: (current: T | undefined) => T): Promise<T> {
  const db = await getDb();
  const tx = db.transaction('meta', 'readwrite');
  const next = change((await tx.store.get(key)) as T | undefined);
  await tx.store.put(next, key);
  await tx.done;
  return next;
}

/** Remove one meta value. */
export async function deleteMeta(key: string): Promise<void> {
  const db = await getDb();
  await db.delete('meta', key);
}
