import { describe, expect, it } from 'vitest';
import { cardLayout, confirmationFor, isDangerous, needsALook, operationFor, replacementCompatible, type DeviceAction } from '../src/core/actions';

const ACTIONS: DeviceAction[] = ['install', 'remove', 'quarantine', 'retire'];

describe('operationFor: an action becomes one operation', () => {
  it('installs into the chosen group', () => {
    expect(operationFor('install', 'TSPR04A', 'prfi001')).toEqual({ kind: 'install', tuid: 'TSPR04A', args: { group_id: 'prfi001' } });
  });

  it('installs with no group on a platform without groups', () => {
    expect(operationFor('install', 'TSPR04A', null)).toEqual({ kind: 'install', tuid: 'TSPR04A', args: { group_id: null } });
  });

  it('removes with no arguments', () => {
    expect(operationFor('remove', 'TSPR04A', 'prfi001')).toEqual({ kind: 'remove', tuid: 'TSPR04A', args: {} });
  });

  it('quarantines and retires by setting the status', () => {
    expect(operationFor('quarantine', 'T1', null)).toEqual({ kind: 'set_status', tuid: 'T1', args: { status: 'quarantine' } });
    expect(operationFor('retire', 'T1', 'g')).toEqual({ kind: 'set_status', tuid: 'T1', args: { status: 'retired' } });
  });
});

describe('needsALook: which statuses hold a batch scan', () => {
  const table: [DeviceAction, string, boolean][] = [
    ['install', 'installed', true],
    ['install', 'quarantine', true],
    ['install', 'retired', true],
    ['install', 'uninstalled', false],
    ['install', 'new', false],
    ['remove', 'retired', true],
    ['remove', 'installed', false],
    ['remove', 'quarantine', false],
    ['quarantine', 'retired', true],
    ['quarantine', 'installed', false],
    ['retire', 'retired', false],
    ['retire', 'installed', false],
    ['retire', 'quarantine', false],
  ];
  it.each(table)('%s on a device %s: %s', (action, status, expected) => {
    expect(needsALook(action, status)).toBe(expected);
  });

  it('never holds a device whose status is unknown', () => {
    for (const action of ACTIONS) {
      expect(needsALook(action, null)).toBe(false);
      expect(needsALook(action, undefined)).toBe(false);
    }
  });
});

describe('confirmationFor: what the device card asks', () => {
  it('asks nothing before installing a new or uninstalled device', () => {
    expect(confirmationFor('install', null)).toBeNull();
    expect(confirmationFor('install', 'new')).toBeNull();
    expect(confirmationFor('install', 'uninstalled')).toBeNull();
  });

  it('asks before installing over an installed, quarantined or retired device', () => {
    expect(confirmationFor('install', 'installed')).toBe('installInstalled');
    expect(confirmationFor('install', 'quarantine')).toBe('installQuarantine');
    expect(confirmationFor('install', 'retired')).toBe('installRetired');
  });

  it('always asks before remove, quarantine and retire', () => {
    for (const status of [null, 'installed', 'retired']) {
      expect(confirmationFor('remove', status)).toBe('remove');
      expect(confirmationFor('quarantine', status)).toBe('quarantine');
      expect(confirmationFor('retire', status)).toBe('retire');
    }
  });

  it('marks install and retire as the dangerous confirmations', () => {
    expect(ACTIONS.filter(isDangerous)).toEqual(['install', 'retire']);
  });
});

describe('replacementCompatible', () => {
  it('accepts the same type and any gateway for any gateway', () => {
    expect(replacementCompatible('Environment', 'Environment')).toBe(true);
    expect(replacementCompatible('Gateway LTE', 'Gateway WiFi')).toBe(true);
  });

  it('warns for a different type', () => {
    expect(replacementCompatible('Environment', 'Angle')).toBe(false);
    expect(replacementCompatible('Gateway LTE', 'Environment')).toBe(false);
  });
});

describe('cardLayout: the device card follows the device', () => {
  it('suggests installing a new, uninstalled or unknown device', () => {
    for (const status of [null, 'new', 'uninstalled']) expect(cardLayout(status).primary).toBe('install');
  });

  it('suggests nothing for an installed device and puts installing again last', () => {
    const layout = cardLayout('installed');
    expect(layout.primary).toBeNull();
    expect(layout.others[0]).toBe('remove');
    expect(layout.others.at(-1)).toBe('install');
  });

  it('keeps retire apart from quarantine, and offers no retire for a retired device', () => {
    for (const status of [null, 'installed', 'quarantine', 'uninstalled']) {
      const layout = cardLayout(status);
      expect(layout.destructive).toEqual(['retire']);
      expect(layout.others).not.toContain('retire');
    }
    expect(cardLayout('retired').destructive).toEqual([]);
  });

  it('offers each action at most once, and install and remove always', () => {
    for (const status of [null, 'new', 'installed', 'uninstalled', 'quarantine', 'retired']) {
      const layout = cardLayout(status);
      const all = [layout.primary, ...layout.others, ...layout.destructive].filter(Boolean);
      expect(new Set(all).size).toBe(all.length);
      for (const action of ['install', 'remove'] as const) expect(all).toContain(action);
      expect(all.includes('quarantine')).toBe(status !== 'quarantine');
    }
  });
});
