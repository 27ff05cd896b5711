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
