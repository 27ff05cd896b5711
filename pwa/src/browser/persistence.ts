// Ask the browser to keep our storage under pressure, so it never evicts queued actions.
// persist() is a window API, so this lives with the page, not in the shared core.

export type PersistenceResult = 'granted' | 'denied' | 'unsupported';

/** Request persistent storage; report whether the browser agreed. */
export async function requestPersistentStorage(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<PersistenceResult> {
  if (!storage?.persist) return 'unsupported';
  try {
    if (storage.persisted && (await storage.persisted())) return 'granted';
    return (await storage.persist()) ? 'granted' : 'denied';
  } catch {
    return 'denied';
  }
}
