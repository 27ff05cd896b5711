// What the phone knows about devices: the backend's answer when online, the cached one when not,
// and the expected state after the user's own queued actions, so a second scan offline shows
// "installed" for a device just installed.

import { getDb } from './db';
import { notify } from './changes';
import { NetworkError, ApiError, type Api } from './api';
import { deviceTypeFor } from './label';
import type { CachedDevice, DeviceResponse, Operation, OutboxOp } from './types';
import { UNASSIGNED } from './types';

function blank(tuid: string, now: number): CachedDevice {
  return {
    tuid,
    device_type: deviceTypeFor(tuid),
    status: null,
    group: null,
    source: 'queued',
    fetched_at: null,
    updated_at: now,
    platform_found: null,
    platform_message: null,
    battery_level: null,
    last_seen: null,
  };
}

/** Return the devices as they will be once `op` is applied (pure; the caller stores them). */
export function effectOnDevices(op: Pick<OutboxOp, 'kind' | 'tuid' | 'args' | 'seen' | 'restores'>, before: Map<string, CachedDevice>, now: number): CachedDevice[] {
  const current = before.get(op.tuid) ?? blank(op.tuid, now);
  const set = (d: CachedDevice, status: string | null, group: string | null): CachedDevice => ({
    ...d,
    status: status ?? d.status,
    group: group ?? d.group,
    source: 'queued',
    updated_at: now,
  });
  switch (op.kind) {
    case 'install':
      return [set(current, 'installed', String(op.args.group_id))];
    case 'remove':
      return [set(current, 'uninstalled', UNASSIGNED)];
    case 'set_status':
      return [set(current, String(op.args.status), null)];
    case 'set_group':
      return [set(current, null, String(op.args.group_id))];
    case 'undo':
      return [set(current, op.restores?.status ?? null, op.restores?.group ?? null)];
    case 'replace': {
      const newTuid = String(op.args.new_tuid);
      const group = current.group ?? op.seen.group ?? null;
      const replacement = before.get(newTuid) ?? blank(newTuid, now);
      return [
        set(current, String(op.args.old_status ?? 'uninstalled'), UNASSIGNED),
        set(replacement, 'installed', group),
      ];
    }
  }
}

/** Return the cached device, if this phone has seen it. */
export async function cachedDevice(tuid: string): Promise<CachedDevice | undefined> {
  const db = await getDb();
  return db.get('devices', tuid);
}

/** Turn the backend's device card into what the phone caches. */
export function fromResponse(response: DeviceResponse, now: number): CachedDevice {
  const platform = response.platform;
  const live = Boolean(platform?.reachable && platform.found);
  return {
    tuid: response.tuid,
    device_type: response.device_type || deviceTypeFor(response.tuid),
    status: (live ? platform?.status : null) ?? response.local?.status ?? null,
    group: (live ? platform?.group : null) ?? response.local?.group ?? null,
    source: live ? 'platform' : 'backend',
    fetched_at: now,
    updated_at: now,
    platform_found: platform?.reachable ? Boolean(platform.found) : null,
    platform_message: platform?.message ?? null,
    battery_level: platform?.battery_level ?? null,
    last_seen: platform?.last_seen ?? null,
    health: {
      messages: platform?.messages ?? [],
      installations: platform?.installations ?? [],
      verification: response.verification ?? null,
    },
  };
}

export interface DeviceLookup {
  device: CachedDevice;
  /** `server`: fresh from the backend; `cache`: what this phone stored earlier; `none`: only the label. */
  source: 'server' | 'cache' | 'none';
  history: Operation[];
  /** Why the backend could not be asked (offline, error message), when source is not `server`. */
  problem: string | null;
}

/**
 * Look a device up: ask the backend when `online`, fall back to the cache, then to what the
 * TUID alone says. The user's own actions still waiting on the phone are applied on top.
 */
export async function lookupDevice(api: Api, tuid: string, online: boolean, now = Date.now()): Promise<DeviceLookup> {
  let fresh: CachedDevice | null = null;
  let history: Operation[] = [];
  let problem: string | null = online ? null : 'offline';
  if (online) {
    try {
      const response = await api.device(tuid);
      fresh = fromResponse(response, now);
      history = response.history ?? [];
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw error;
      problem = error instanceof NetworkError ? 'offline' : error instanceof Error ? error.message : String(error);
    }
  }
  // The network is done; only now open transactions.
  const db = await getDb();
  const tx = db.transaction(['devices', 'outbox'], 'readwrite');
  const cached = await tx.objectStore('devices').get(tuid);
  let device = fresh ?? cached ?? blank(tuid, now);
  const source: DeviceLookup['source'] = fresh ? 'server' : cached ? 'cache' : 'none';
  if (fresh) {
    const waiting = (await tx.objectStore('outbox').index('by_tuid').getAll(tuid))
      .filter((op) => op.state === 'queued' || op.state === 'sending')
      .sort((a, b) => a.created_at - b.created_at);
    for (const op of waiting) {
      const [after] = effectOnDevices(op, new Map([[tuid, device]]), now);
      if (after) device = { ...after, fetched_at: fresh.fetched_at };
    }
    await tx.objectStore('devices').put(device);
  }
  await tx.done;
  if (fresh) notify('devices');
  return { device, source, history, problem };
}
