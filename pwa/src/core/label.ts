// Read a Thingsee device label's text into a TUID, by the same rules as the backend
// (app/labels/parser.py; spec: platform/thingsee-open-services.md §4). Both are tested against
// tests/fixtures/label_cases.json, so a change here goes with a change there.
//
// Rules, in order:
// 1. Trim TRIM_CHARS from both ends; nothing left → `empty`.
// 2. An encrypted stack-setup code (base64 of whole AES blocks) → `stack_setup_code`, checked
//    first because its alphabet includes "/" and could pass for a path.
// 3. Upper-case ASCII letters only.
// 4. First match wins: legacy `PSN,IMC[,…]` (11 + 6 characters, no "#"); markers (every
//    non-empty field `<letter>#<value>`, exactly one I# of 6 characters and one S#); URL or path
//    (contains "/": drop from the first "?" or "#", drop scheme and host, last non-empty
//    segment); otherwise a bare TUID. Every TUID must be 17 of [A-Z0-9], else the reason of the
//    form it was read as.

import type { Label } from './types';

export type LabelFormat = Label['format'];

export type LabelReason =
  | 'empty'
  | 'stack_setup_code'
  | 'customer_label'
  | 'bad_markers'
  | 'bad_characters'
  | 'wrong_length'
  | 'web_link'
  | 'not_a_device_label'
  | 'two_ids';

export class LabelError extends Error {
  override name = 'LabelError';
  constructor(
    readonly reason: LabelReason,
    /** Extra facts for the message: the length read, or the TUID the user probably meant. */
    readonly hint: { length?: number; didYouMean?: string } = {},
  ) {
    super(reason);
  }
}

export const UNKNOWN_TYPE = 'unknown';

const TYPES_BY_IMC = {
  'Gateway GLOBAL': ['XXXX00', 'TSGW01', 'TSGW02', 'XXXX08', 'TSGW03', 'XXXX11', 'TSGW04', 'XXXX21', 'TSGW06'],
  'Gateway LAN': ['XXXX16', 'TSGW05'],
  ENVIRONMENT: ['XXXX01', 'TSPD01', 'XXXX03', 'TSPD02', 'TSPD03', 'TSPD04', 'XXEN01', 'TSEN01'],
  'ENVIRONMENT RUGGED': ['XXXX18', 'TSPD05', 'XXRU01', 'TSRU01', 'TSRU02'],
  PRESENCE: ['XXXX05', 'TSPR01', 'XXXX06', 'TSPR02', 'XXXX12', 'TSPR03', 'XXXX13', 'TSPR04'],
  DISTANCE: ['XXXX02', 'TSTF01', 'XXXX04', 'TSTF02'],
  BEAM: ['XXXX20', 'TSTF04'],
  'ANGLE RUGGED': ['XXXX10', 'TSAN01'],
  'LEAKAGE RUGGED': ['XXLK01', 'TSLK01', 'TSLK02'],
  AIR: ['XXAR01', 'TSAR01', 'TSAR02'],
  COUNT: ['XXXX24', 'TSAP01'],
  ACTIVITY: ['XXXXSP', 'GOTG01'],
  'WhiffAway LooLight': ['WHLL01'],
} as const satisfies Record<string, readonly string[]>;

/** A device type deviceTypeFor() can name: one of the table's, the bare "Gateway" of the family rules, or "unknown". */
export type DeviceType = keyof typeof TYPES_BY_IMC | 'Gateway' | typeof UNKNOWN_TYPE;

const TYPE_BY_IMC: ReadonlyMap<string, string> = new Map(
  Object.entries(TYPES_BY_IMC).flatMap(([name, imcs]) => imcs.map((imc) => [imc, name] as const)),
);

// The 2021 app's family rules, only when the table has no exact match. An unlisted gateway could
// be GLOBAL or LAN, so it is just "Gateway".
const FAMILY_BY_PREFIX: readonly (readonly [string, DeviceType])[] = [
  ['TSGW', 'Gateway'],
  ['TSTF', 'DISTANCE'],
  ['TSPD', 'ENVIRONMENT'],
  ['TSPR', 'PRESENCE'],
  ['TSAR', 'AIR'],
  ['XXXX14', 'AIR'],
  ['TSAN', 'ANGLE RUGGED'],
  ['TSLK', 'LEAKAGE RUGGED'],
  ['LOLT01', 'WhiffAway LooLight'],
  ['XXLT01', 'WhiffAway LooLight'],
];

/** Every device type deviceTypeFor() can return, so each one can be given a name in every language. */
export const DEVICE_TYPES: readonly DeviceType[] = [
  ...new Set<DeviceType>([
    ...(Object.keys(TYPES_BY_IMC) as (keyof typeof TYPES_BY_IMC)[]),
    ...FAMILY_BY_PREFIX.map(([, name]) => name),
    UNKNOWN_TYPE,
  ]),
];

const TRIM_CHARS = ' \t\n\r\v\f\u00a0\ufeff';
const TUID_RE = /^[A-Z0-9]{17}$/;
const MARKER_RE = /^([A-Z])#([\s\S]*)$/;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const CUSTOMER_LABEL_RE = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
const SEPARATORS_RE = /[ \t._-]/g;
const IMC_LENGTH = 6;
const PSN_LENGTH = 11;

/** Return the device type named by a TUID's (or IMC's) first 6 characters, or "unknown". */
export function deviceTypeFor(tuidOrImc: string): string {
  const imc = upperAscii(trim(tuidOrImc)).slice(0, IMC_LENGTH);
  if (imc.length < IMC_LENGTH) return UNKNOWN_TYPE;
  const exact = TYPE_BY_IMC.get(imc);
  if (exact) return exact;
  for (const [prefix, name] of FAMILY_BY_PREFIX) {
    if (imc.startsWith(prefix)) return name;
  }
  return UNKNOWN_TYPE;
}

/** Tell whether a device type is a gateway (any gateway may replace any gateway). */
export function isGateway(deviceType: string): boolean {
  return deviceType.startsWith('Gateway');
}

/** Read label text (legacy, markers, URL/path or bare TUID), or throw LabelError. */
export function parseLabel(text: string): Label {
  const trimmed = trim(text);
  if (!trimmed) throw new LabelError('empty');
  if (looksLikeStackSetup(trimmed)) throw new LabelError('stack_setup_code');
  const upper = upperAscii(trimmed);
  const fields = upper.split(',').map(trim);

  if (fields.length >= 2 && isLegacy(fields)) return label(fields[1]! + fields[0]!, 'legacy', 'bad_characters');
  if (isMarkers(fields)) return label(markersTuid(fields), 'markers', 'bad_markers');
  if (upper.includes('/')) return label(urlLastSegment(upper), 'url', 'web_link');
  if (TUID_RE.test(upper)) return label(upper, 'tuid', 'not_a_device_label');
  throw bareError(upper);
}

/** Return the Label or the reason, without throwing. */
export function tryParseLabel(text: string): { label: Label } | { error: LabelError } {
  try {
    return { label: parseLabel(text) };
  } catch (error) {
    if (error instanceof LabelError) return { error };
    throw error;
  }
}

/** Trim the characters labels are padded with (spaces, NBSP, BOM) from both ends. */
export function trim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && TRIM_CHARS.includes(text[start]!)) start += 1;
  while (end > start && TRIM_CHARS.includes(text[end - 1]!)) end -= 1;
  return text.slice(start, end);
}

function upperAscii(text: string): string {
  return text.replace(/[a-z]/g, (c) => c.toUpperCase());
}

/** Length in code points, as Python counts it. */
function length(text: string): number {
  return Array.from(text).length;
}

function label(tuid: string, format: LabelFormat, reason: LabelReason): Label {
  if (!TUID_RE.test(tuid)) throw new LabelError(reason);
  return {
    tuid,
    imc: tuid.slice(0, IMC_LENGTH),
    psn: tuid.slice(IMC_LENGTH),
    device_type: deviceTypeFor(tuid),
    format,
  };
}

/** Tell whether text is base64 of whole AES blocks, as the apps' stack-setup codes are. */
function looksLikeStackSetup(text: string): boolean {
  if (text.length < 24 || text.length % 4 || !BASE64_RE.test(text)) return false;
  const padding = text.length - text.replace(/=+$/, '').length;
  return (Math.floor(text.length / 4) * 3 - padding) % 16 === 0;
}

function isLegacy(fields: string[]): boolean {
  const psn = fields[0]!;
  const imc = fields[1]!;
  return length(psn) === PSN_LENGTH && length(imc) === IMC_LENGTH && !(psn + imc).includes('#');
}

function isMarkers(fields: string[]): boolean {
  const present = fields.filter((f) => f);
  return present.length > 0 && present.every((f) => MARKER_RE.test(f));
}

/** Return IMC + serial from the I# and S# fields, or "" when they are absent or repeated. */
function markersTuid(fields: string[]): string {
  const values = new Map<string, string[]>();
  for (const field of fields) {
    const match = MARKER_RE.exec(field);
    if (match) {
      const list = values.get(match[1]!) ?? [];
      list.push(trim(match[2]!));
      values.set(match[1]!, list);
    }
  }
  const imcs = values.get('I') ?? [];
  const serials = values.get('S') ?? [];
  if (imcs.length !== 1 || serials.length !== 1 || length(imcs[0]!) !== IMC_LENGTH) return '';
  return imcs[0]! + serials[0]!;
}

function urlLastSegment(text: string): string {
  let path = text.split(/[?#]/, 1)[0]!;
  const scheme = path.indexOf('://');
  if (scheme >= 0) {
    const afterScheme = path.slice(scheme + 3);
    const slash = afterScheme.indexOf('/');
    path = slash >= 0 ? afterScheme.slice(slash + 1) : '';
  }
  const segments = path.split('/').filter((s) => s);
  return segments[segments.length - 1] ?? '';
}

/** Say why a single value is not a TUID, as precisely as the text allows. */
function bareError(text: string): LabelError {
  if (/^[A-Z0-9]+$/.test(text)) return new LabelError('wrong_length', { length: text.length });
  const joined = text.replace(SEPARATORS_RE, '');
  if (TUID_RE.test(joined)) return new LabelError('bad_characters', { didYouMean: joined });
  if (CUSTOMER_LABEL_RE.test(text)) return new LabelError('customer_label');
  return new LabelError('not_a_device_label');
}
