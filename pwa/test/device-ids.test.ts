import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readDeviceLabel } from '../src/core/device-ids';

// The same cases the backend's rules (app/labels/device_ids.py) are tested against.
const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/device_id_cases.json', import.meta.url));

type Case = { text: string; id?: string; format?: string; reason?: string };

function loadCases(): Record<string, Case[]> {
  if (!existsSync(FIXTURE)) throw new Error(`shared fixture missing: ${FIXTURE}`);
  const all = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(all).filter(([key]) => !key.startsWith('_'))) as Record<string, Case[]>;
}

const cases = Object.entries(loadCases()).flatMap(([platform, list]) => list.map((c) => [platform, JSON.stringify(c.text), c] as const));

describe('device ids per platform: shared fixture', () => {
  it('covers the three other platforms', () => {
    expect(new Set(cases.map(([platform]) => platform))).toEqual(new Set(['thingsmatrix', 'thingscale', 'thingshub']));
  });

  it.each(cases)('%s reads %s', (platform, _name, c) => {
    const read = readDeviceLabel(platform, c.text);
    if (c.id !== undefined) {
      expect(read).toEqual({ label: { tuid: c.id, imc: '', psn: '', device_type: 'unknown', format: c.format } });
    } else {
      expect('error' in read && read.error.reason).toBe(c.reason);
    }
  });

  it('reads Thingsee labels by the TUID rules', () => {
    expect(readDeviceLabel('thingsee', 'EZU31901021,TSPR04')).toMatchObject({ label: { tuid: 'TSPR04EZU31901021' } });
  });
});

describe('ids typed by hand', () => {
  it('takes a dashed IMC-PSN or one with spaces as the TUID', async () => {
    const { readTypedId } = await import('../src/core/device-ids');
    for (const typed of ['TSPR04-EZU31901021', 'tspr04-ezu31901021', ' TSPR04 EZU31901021 ', 'TSPR04 EZU 319 01021', 'TSPR04.EZU31901021']) {
      expect(readTypedId('thingsee', typed)).toMatchObject({ label: { tuid: 'TSPR04EZU31901021', device_type: 'PRESENCE' } });
    }
  });

  it('still refuses what is not a TUID, and scanned labels keep the strict rules', async () => {
    const { readTypedId } = await import('../src/core/device-ids');
    expect(readTypedId('thingsee', 'TSPR04-EZU3190102')).toMatchObject({ error: { reason: 'customer_label' } }); // 16 characters: not a TUID
    expect(readDeviceLabel('thingsee', 'TSPR04-EZU31901021')).toMatchObject({ error: { reason: 'bad_characters', hint: { didYouMean: 'TSPR04EZU31901021' } } });
    expect(readTypedId('thingshub', '70-b3-d5-7e-d0-04-1d-8a')).toMatchObject({ label: { tuid: '70B3D57ED0041D8A' } });
  });
});
