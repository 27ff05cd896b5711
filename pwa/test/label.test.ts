import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deviceTypeFor, isGateway, LabelError, parseLabel } from '../src/core/label';

// The same cases the backend's parser is tested against.
const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/label_cases.json', import.meta.url));

interface Cases {
  valid: { text: string; tuid: string; imc: string; psn: string; device_type: string; format: string }[];
  invalid: { text: string; reason: string }[];
}

function loadCases(): Cases {
  if (!existsSync(FIXTURE)) throw new Error(`shared label fixture missing: ${FIXTURE}`);
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as Cases;
}

const cases = loadCases();

describe('label parser: shared fixture', () => {
  it('has cases of both kinds', () => {
    expect(cases.valid.length).toBeGreaterThan(0);
    expect(cases.invalid.length).toBeGreaterThan(0);
  });

  it.each(cases.valid.map((c) => [JSON.stringify(c.text), c] as const))('reads %s', (_name, c) => {
    expect(parseLabel(c.text)).toEqual({ tuid: c.tuid, imc: c.imc, psn: c.psn, device_type: c.device_type, format: c.format });
  });

  it.each(cases.invalid.map((c) => [JSON.stringify(c.text), c] as const))('refuses %s', (_name, c) => {
    let caught: unknown = null;
    try {
      parseLabel(c.text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LabelError);
    expect((caught as LabelError).reason).toBe(c.reason);
  });
});

describe('label parser: hints and device types', () => {
  it('says how long a wrong-length ID is and which TUID a spaced one meant', () => {
    expect(() => parseLabel('TSPR04EZU3190102')).toThrow(expect.objectContaining({ reason: 'wrong_length', hint: { length: 16 } }));
    expect(() => parseLabel('TSPR04 EZU3190-1021')).toThrow(expect.objectContaining({ reason: 'bad_characters', hint: { didYouMean: 'TSPR04EZU31901021' } }));
  });

  it('matches all 6 characters first, then the family rules', () => {
    expect(deviceTypeFor('TSGW05ABC12345678')).toBe('Gateway LAN');
    expect(deviceTypeFor('TSGW99ABC12345678')).toBe('Gateway');
    expect(deviceTypeFor('TSTF04ABC12345678')).toBe('BEAM');
    expect(deviceTypeFor('TSTF09ABC12345678')).toBe('DISTANCE');
    expect(deviceTypeFor('XXXX14ABC12345678')).toBe('AIR');
    expect(deviceTypeFor('XXLT01ABC12345678')).toBe('WhiffAway LooLight');
    expect(deviceTypeFor('ABCDEFABC12345678')).toBe('unknown');
    expect(isGateway('Gateway GLOBAL')).toBe(true);
    expect(isGateway('PRESENCE')).toBe(false);
  });
});
