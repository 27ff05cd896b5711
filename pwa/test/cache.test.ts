import { describe, expect, it } from 'vitest';
import { Api, ApiError } from '../src/core/api';
import { cachedDevice, lookupDevice } from '../src/core/devices';
import { cachedGroups, createGroup, followsConvention, normaliseGroupId, refreshGroups } from '../src/core/groups';
import * as outbox from '../src/core/outbox';
import { chooseLanguage } from '../src/ui/i18n';
import type { DeviceResponse } from '../src/core/types';

const TUID = 'TSPR04EZU31901021';

function respond(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const card: DeviceResponse = {
  tuid: TUID,
  imc: 'TSPR04',
  psn: 'EZU31901021',
  device_type: 'PRESENCE',
  local: { status: 'new', group: 'unassigned', updated_at: null },
  platform: { reachable: true, found: true, status: 'installed', group: 'prfi00site', battery_level: 81, last_seen: 1_700_000_000 },
  history: [],
};

describe('device cache', () => {
  it('keeps the backend answer for offline use and says where the state came from', async () => {
    const online = new Api({ fetch: async () => respond(200, card) });
    const fresh = await lookupDevice(online, TUID, true, 1000);
    expect(fresh.source).toBe('server');
    expect(fresh.device).toMatchObject({ status: 'installed', group: 'prfi00site', source: 'platform', battery_level: 81, fetched_at: 1000 });

    const offline = new Api({ fetch: async () => { throw new TypeError('Failed to fetch'); } });
    const later = await lookupDevice(offline, TUID, true, 5000);
    expect(later).toMatchObject({ source: 'cache', problem: 'offline', device: { status: 'installed', fetched_at: 1000 } });
    expect((await lookupDevice(offline, 'TSGW01ABC12345678', false)).source).toBe('none');
  });

  it('uses the backend record when the platform is unreachable, and lays queued actions on top', async () => {
    const unreachable = { ...card, platform: { reachable: false, found: false, message: 'timeout' } };
    await outbox.enqueue({ kind: 'remove', tuid: TUID, args: {}, seen: {} }, 'tech');
    const api = new Api({ fetch: async () => respond(200, unreachable) });
    const { device } = await lookupDevice(api, TUID, true);
    expect(device).toMatchObject({ status: 'uninstalled', group: 'unassigned', source: 'queued', platform_found: null });
    expect(await cachedDevice(TUID)).toMatchObject({ status: 'uninstalled' });
  });

  it('lets a 401 through so the app can ask the user to sign in again', async () => {
    const api = new Api({ fetch: async () => respond(401, { error: { code: 'unauthenticated', message: 'no' } }) });
    await expect(lookupDevice(api, TUID, true)).rejects.toBeInstanceOf(ApiError);
  });
});

describe('groups cache', () => {
  it('replaces the cached list, leaves out unassigned, and sorts it', async () => {
    const api = new Api({
      fetch: async () =>
        respond(200, {
          items: [
            { group_id: 'prfi00zeta', description: null },
            { group_id: 'unassigned', description: null },
            { group_id: 'prfi00alpha', description: 'HQ' },
          ],
          source: 'cache',
          synced_at: null,
        }),
    });
    const state = await refreshGroups(api, 42);
    expect(state.groups.map((g) => g.group_id)).toEqual(['prfi00alpha', 'prfi00zeta']);
    expect(state).toMatchObject({ fetched_at: 42, backend_source: 'cache' });
    expect((await cachedGroups()).groups).toHaveLength(2);
  });

  it('normalises a new group id and adds the created group to the cache', async () => {
    let sent: unknown = null;
    const api = new Api({
      csrf: () => 't',
      fetch: async (_url, init) => {
        sent = JSON.parse(String(init?.body));
        return respond(201, { group_id: 'prfi00acmehq', description: 'Acme' });
      },
    });
    await createGroup(api, ' PR-FI-00 Acme HQ ', ' Acme ');
    expect(sent).toEqual({ group_id: 'prfi00acmehq', description: 'Acme' });
    expect((await cachedGroups()).groups).toEqual([{ group_id: 'prfi00acmehq', description: 'Acme' }]);
    expect(normaliseGroupId('Un_XX_00-Lab')).toBe('unxx00lab');
    expect(followsConvention('prfi00acmehq')).toBe(true);
    expect(followsConvention('acmehq')).toBe(false);
  });
});

describe('language', () => {
  it('uses the stored choice, else the first supported browser language, else English', () => {
    expect(chooseLanguage('en', ['fi-FI'])).toBe('en');
    expect(chooseLanguage(null, ['fi-FI', 'en-US'])).toBe('fi');
    expect(chooseLanguage(null, ['sv-SE', 'en-GB'])).toBe('en');
    expect(chooseLanguage(null, ['de-DE'])).toBe('en');
  });
});
