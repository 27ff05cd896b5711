// Device type names in every language, written once for both pages: the technician app and the
// console spread them into their catalogues as `type.<platform name>` keys (typeMessages), so a
// phone and a supervisor call a device the same thing. The keys are the platform's names, as
// deviceTypeFor() (src/core/label.ts) and the server give them; the type checker says every one
// of those has a name here.

import type { DeviceType } from '../core/label';
import type { Language } from './engine';

const en: Record<DeviceType, string> = {
  unknown: 'Unknown type',
  Gateway: 'Gateway',
  'Gateway GLOBAL': 'Gateway (global)',
  'Gateway LAN': 'Gateway (LAN)',
  ENVIRONMENT: 'Environment sensor',
  'ENVIRONMENT RUGGED': 'Environment sensor (rugged)',
  PRESENCE: 'Presence sensor',
  DISTANCE: 'Distance sensor',
  BEAM: 'Beam counter',
  'ANGLE RUGGED': 'Angle sensor (rugged)',
  'LEAKAGE RUGGED': 'Leak sensor (rugged)',
  AIR: 'Air quality sensor',
  COUNT: 'People counter',
  ACTIVITY: 'Activity sensor',
  // A product name, the same in every language.
  'WhiffAway LooLight': 'WhiffAway LooLight',
};

const fi: Record<DeviceType, string> = {
  unknown: 'Tuntematon tyyppi',
  Gateway: 'Yhdyskäytävä',
  'Gateway GLOBAL': 'Yhdyskäytävä (globaali)',
  'Gateway LAN': 'Yhdyskäytävä (LAN)',
  ENVIRONMENT: 'Ympäristöanturi',
  'ENVIRONMENT RUGGED': 'Ympäristöanturi (kestävä)',
  PRESENCE: 'Läsnäoloanturi',
  DISTANCE: 'Etäisyysanturi',
  BEAM: 'Ohituslaskuri',
  'ANGLE RUGGED': 'Kallistusanturi (kestävä)',
  'LEAKAGE RUGGED': 'Vuotoanturi (kestävä)',
  AIR: 'Ilmanlaatuanturi',
  COUNT: 'Ihmislaskuri',
  ACTIVITY: 'Aktiivisuusanturi',
  'WhiffAway LooLight': en['WhiffAway LooLight'],
};

/** The device type names by language, keyed by the platform's type name. */
export const deviceTypeNames: Readonly<Record<Language, Readonly<Record<DeviceType, string>>>> = { en, fi };

/** Catalogue entries for one language: `type.<platform name>` → that language's name. */
export type TypeMessages = { [K in DeviceType as `type.${K}`]: string };

/** Turn one language's names into catalogue entries, to spread into a page's catalogue. */
export function typeMessages(language: Language): TypeMessages {
  return Object.fromEntries(
    Object.entries(deviceTypeNames[language]).map(([type, name]) => [`type.${type}`, name]),
  ) as TypeMessages;
}
