// Deployment groups: the list cached from GET /api/groups so the technician can pick the
// visit's group with no signal, and creating one (supervisor/admin, online).

import { getDb, getMeta, setMeta } from './db';
import { notify } from './changes';
import type { Api } from './api';
import type { Group } from './types';
import { UNASSIGNED } from './types';

export interface GroupsState {
  groups: Group[];
  /** When this phone last got the list from the backend (epoch ms), or null if never. */
  fetched_at: number | null;
  /** Whether the backend itself served it from its cache because the platform was unreachable. */
  backend_source: 'platform' | 'cache' | null;
  convention: string | null;
  /** Whether this user may create groups, as the backend said (null: not said yet). */
  can_create: boolean | null;
  /** The roles that may create groups (to say whom to ask). */
  creators: string[];
}

const FETCHED_KEY = 'groups_fetched';

interface FetchedMeta {
  at: number;
  source: 'platform' | 'cache';
  convention: string | null;
  can_create?: boolean | null;
  creators?: string[];
}

/** Normalise a typed group id the way the platform wants it: lowercase letters and digits. */
export function normaliseGroupId(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Whether an id follows the naming convention (pr|rd|dm|un + country or xx + 00 + customer id). */
export function followsConvention(groupId: string): boolean {
  return /^(pr|rd|dm|un)([a-z]{2})00[a-z0-9]+$/.test(groupId) && groupId.length <= 64;
}

/** Return the cached groups (without `unassigned`, which is not a place to install into). */
export async function cachedGroups(): Promise<GroupsState> {
  const db = await getDb();
  const rows = await db.getAll('groups');
  const meta = await getMeta<FetchedMeta>(FETCHED_KEY);
  const groups = rows
    .filter((g) => g.group_id !== UNASSIGNED)
    .sort((a, b) => a.sort_key.localeCompare(b.sort_key))
    .map(({ group_id, description }) => ({ group_id, description }));
  return {
    groups,
    fetched_at: meta?.at ?? null,
    backend_source: meta?.source ?? null,
    convention: meta?.convention ?? null,
    can_create: meta?.can_create ?? null,
    creators: meta?.creators ?? [],
  };
}

/** Fetch the list from the backend and replace the cache with it. */
export async function refreshGroups(api: Api, now = Date.now()): Promise<GroupsState> {
  const response = await api.groups();
  const db = await getDb();
  const tx = db.transaction(['groups', 'meta'], 'readwrite');
  await tx.objectStore('groups').clear();
  for (const g of response.items) {
    await tx.objectStore('groups').put({ group_id: g.group_id, description: g.description ?? null, sort_key: g.group_id.toLowerCase() });
  }
  const meta: FetchedMeta = {
    at: now,
    source: response.source,
    convention: response.convention ?? null,
    can_create: response.can_create ?? null,
    creators: response.creators ?? [],
  };
  await tx.objectStore('meta').put(meta, FETCHED_KEY);
  await tx.done;
  notify('groups');
  return cachedGroups();
}

/** Create a group on the backend and add it to the cache. */
export async function createGroup(api: Api, rawId: string, description: string | null): Promise<Group> {
  const created = await api.createGroup(normaliseGroupId(rawId), description?.trim() || null);
  const db = await getDb();
  await db.put('groups', { group_id: created.group_id, description: created.description ?? null, sort_key: created.group_id.toLowerCase() });
  notify('groups');
  return created;
}

const SELECTED_KEY = 'selected_group';

/** Return the group chosen for this visit, if any. */
export async function selectedGroup(): Promise<string | null> {
  return (await getMeta<string>(SELECTED_KEY)) ?? null;
}

/** Choose the group for this visit. */
export async function selectGroup(groupId: string): Promise<void> {
  await setMeta(SELECTED_KEY, groupId);
  notify('settings');
}
