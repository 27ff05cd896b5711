// The platform the backend talks to and what it can do (GET /api/platform), kept on the phone so
// the app knows it offline too. Views ask `can(...)` to hide or explain what a platform lacks.

import type { Api } from './api';
import { getMeta, setMeta } from './db';
import { notify } from './changes';

export type Capability =
  | 'installation_history'
  | 'deployment_groups'
  | 'group_create'
  | 'group_rename'
  | 'group_delete'
  | 'last_seen'
  | 'online_status'
  | 'battery_level'
  | 'messages'
  | 'commands'
  | 'alerts';

export interface PlatformInfo {
  key: string;
  title: string;
  capabilities: Record<Capability, boolean>;
  device_id: { name: string; description: string; example: string; max_length: number };
  rate_limit: number;
}

const KEY = 'platform';

/** Thingsee, which the app assumes until the backend has said otherwise. */
export const THINGSEE: PlatformInfo = {
  key: 'thingsee',
  title: 'Thingsee',
  capabilities: {
    installation_history: true,
    deployment_groups: true,
    group_create: true,
    group_rename: true,
    group_delete: true,
    last_seen: true,
    online_status: false,
    battery_level: true,
    messages: true,
    commands: true,
    alerts: true,
  },
  device_id: { name: 'TUID', description: '17 letters and digits.', example: 'TSPR04EZU31901021', max_length: 17 },
  rate_limit: 0,
};

let current: PlatformInfo = THINGSEE;

/** Return the platform as last known. */
export function currentPlatform(): PlatformInfo {
  return current;
}

/** Say whether the platform can do something. */
export function can(capability: Capability): boolean {
  return current.capabilities[capability] !== false;
}

/** Load the platform remembered on the phone. */
export async function loadPlatform(): Promise<PlatformInfo> {
  current = (await getMeta<PlatformInfo>(KEY)) ?? THINGSEE;
  return current;
}

/** Ask the backend which platform it talks to; keep the answer for offline use. */
export async function refreshPlatform(api: Api): Promise<PlatformInfo> {
  const info = await api.request<PlatformInfo>('GET', '/api/platform');
  if (JSON.stringify(info) !== JSON.stringify(current)) {
    current = info;
    await setMeta(KEY, info);
    notify('settings');
  }
  return current;
}
