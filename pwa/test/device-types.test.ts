import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_TYPES, deviceTypeFor, UNKNOWN_TYPE } from '../src/core/label';
import { deviceTypeNames } from '../src/i18n/device-types';
import { LANGUAGES } from '../src/i18n/engine';
import { deviceTypeName, deviceTypeTitle } from '../src/console/format';
import { setLanguage as setConsoleLanguage } from '../src/console/i18n';
import { en as appEn } from '../src/ui/catalogue/en';
import { fi as appFi } from '../src/ui/catalogue/fi';
import { deviceTypeName as phoneTypeName } from '../src/ui/format';
import { setLanguage as setPhoneLanguage } from '../src/ui/i18n';

afterEach(() => {
  setConsoleLanguage('en');
  setPhoneLanguage('en');
});

describe('device type names', () => {
  it('name every type the phone’s device-type table can give, in every language', () => {
    // The table's types, the bare "Gateway" of the family rules and "unknown", all reachable.
    expect(DEVICE_TYPES).toEqual(expect.arrayContaining(['Gateway LAN', 'DISTANCE', 'WhiffAway LooLight', 'Gateway', UNKNOWN_TYPE]));
    expect(new Set(['TSGW05ABC12345678', 'TSGW99ABC12345678', 'XXLT01ABC12345678', 'ABCDEFABC12345678'].map(deviceTypeFor)))
      .toEqual(new Set(['Gateway LAN', 'Gateway', 'WhiffAway LooLight', UNKNOWN_TYPE]));
    for (const language of LANGUAGES) {
      const names = deviceTypeNames[language] as Record<string, string | undefined>;
      const missing = DEVICE_TYPES.filter((type) => !names[type]?.trim());
      expect(missing, language).toEqual([]);
    }
  });

  it('name nothing that is not a device type', () => {
    for (const language of LANGUAGES) {
      expect(Object.keys(deviceTypeNames[language]).sort(), language).toEqual([...DEVICE_TYPES].sort());
    }
  });

  it('are what the phone’s catalogues hold under type.*', () => {
    expect(appEn['type.PRESENCE']).toBe('Presence sensor');
    expect(appFi['type.PRESENCE']).toBe('Läsnäoloanturi');
    expect(appEn['type.Gateway LAN']).toBe('Gateway (LAN)');
    expect(appFi['type.unknown']).toBe('Tuntematon tyyppi');
    for (const type of DEVICE_TYPES) {
      expect(appEn[`type.${type}`]).toBe(deviceTypeNames.en[type]);
      expect(appFi[`type.${type}`]).toBe(deviceTypeNames.fi[type]);
    }
  });

  it('read the same on the phone and in the console', () => {
    for (const language of LANGUAGES) {
      setPhoneLanguage(language);
      setConsoleLanguage(language);
      for (const type of [...DEVICE_TYPES, 'SOMETHING NEW', '']) {
        expect(deviceTypeName(type), `${language} ${type}`).toBe(phoneTypeName(type));
      }
    }
  });
});

describe('the console’s device type formatter', () => {
  it('names a type in English', () => {
    setConsoleLanguage('en');
    expect(deviceTypeName('DISTANCE')).toBe('Distance sensor');
    expect(deviceTypeName('PRESENCE')).toBe('Presence sensor');
    expect(deviceTypeName('Gateway LAN')).toBe('Gateway (LAN)');
  });

  it('names a type in Finnish', () => {
    setConsoleLanguage('fi');
    expect(deviceTypeName('DISTANCE')).toBe('Etäisyysanturi');
    expect(deviceTypeName('PRESENCE')).toBe('Läsnäoloanturi');
    expect(deviceTypeName('Gateway LAN')).toBe('Yhdyskäytävä (LAN)');
  });

  it('gives a type it has no name for as the platform gives it', () => {
    for (const language of LANGUAGES) {
      setConsoleLanguage(language);
      expect(deviceTypeName('THERMAL CAMERA')).toBe('THERMAL CAMERA');
      // Not an inherited property of the catalogue either.
      expect(deviceTypeName('toString')).toBe('toString');
    }
  });

  it('calls a missing or unknown type unknown', () => {
    setConsoleLanguage('en');
    for (const type of [null, undefined, '', UNKNOWN_TYPE]) expect(deviceTypeName(type)).toBe('Unknown type');
    setConsoleLanguage('fi');
    for (const type of [null, undefined, '', UNKNOWN_TYPE]) expect(deviceTypeName(type)).toBe('Tuntematon tyyppi');
  });

  it('keeps the platform name for a tooltip, but none for a missing or unknown type', () => {
    setConsoleLanguage('en');
    expect(deviceTypeTitle('DISTANCE')).toBe('Platform name: DISTANCE');
    expect(deviceTypeTitle('THERMAL CAMERA')).toBe('Platform name: THERMAL CAMERA');
    setConsoleLanguage('fi');
    expect(deviceTypeTitle('Gateway LAN')).toBe('Nimi alustalla: Gateway LAN');
    for (const type of [null, undefined, '', UNKNOWN_TYPE]) expect(deviceTypeTitle(type)).toBeUndefined();
  });
});
