// What a device id looks like on each platform's labels, by the same rules as the backend
// (app/labels/device_ids.py); both are tested on tests/fixtures/device_id_cases.json. Thingsee's
// TUID rules stay in ./label.ts.

import { LabelError, trim, tryParseLabel } from './label';
import type { Label } from './types';

interface KeyedRule {
  /** What the id is called on the platform. */
  name: string;
  /** Lower-case keys that name the id in pairs, JSON and URLs. */
  keys: ReadonlySet<string>;
  pattern: RegExp;
  /** Every character allowed: otherwise the length is not the problem. */
  alphabet: RegExp;
  /** Also read LoRa Alliance TR005 codes and ids written with separators. */
  lorawan: boolean;
}

const RULES: Record<string, KeyedRule> = {
  thingsmatrix: {
    name: 'sn',
    keys: new Set(['sn', 's/n', 'serial', 'serialnumber', 'serial_number']),
    pattern: /^[A-Z0-9][A-Z0-9-]{3,31}$/,
    alphabet: /^[A-Z0-9-]+$/,
    lorawan: false,
  },
  thingscale: {
    name: 'device_id',
    keys: new Set(['device_id', 'deviceid', 'id', 'serial', 'sn']),
    pattern: /^[A-Z0-9][A-Z0-9_-]{3,31}$/,
    alphabet: /^[A-Z0-9_-]+$/,
    lorawan: false,
  },
  thingshub: {
    name: 'DevEUI',
    keys: new Set(['deveui', 'dev_eui', 'eui', 'dev eui']),
    pattern: /^[0-9A-F]{16}$/,
    alphabet: /^[0-9A-F]+$/,
    lorawan: true,
  },
};

const PAIR_SEPARATORS = /[,;|&\n]/;
const PAIR = /^\s*([A-Za-z_/ ]+?)\s*[:=]\s*([\s\S]*?)\s*$/;
const ID_SEPARATORS = /[\s:._-]/g;

/** Read label text by the platform's rule (Thingsee: the TUID rules), without throwing. */
export function readDeviceLabel(platform: string, text: string): { label: Label } | { error: LabelError } {
  const rule = RULES[platform];
  if (!rule) return tryParseLabel(text);
  try {
    return { label: parseKeyed(rule, text) };
  } catch (error) {
    if (error instanceof LabelError) return { error };
    throw error;
  }
}

/**
 * Read an id typed by hand. Thingsee TUIDs are printed as `IMC-PSN` under the code and typed
 * with dashes or spaces: what the label rules would only suggest ("did you mean …") is taken
 * as the TUID (the backend accepts the same, app/labels/device_ids.py). Other platforms' rules
 * already allow their separators.
 */
export function readTypedId(platform: string, text: string): { label: Label } | { error: LabelError } {
  const read = readDeviceLabel(platform, text);
  if ('label' in read || RULES[platform]) return read;
  const meant = read.error.hint.didYouMean;
  return meant ? readDeviceLabel(platform, meant) : read;
}

function parseKeyed(rule: KeyedRule, text: string): Label {
  const trimmed = trim(text);
  if (!trimmed) throw new LabelError('empty');
  if (rule.lorawan && trimmed.toUpperCase().startsWith('LW:')) return label(rule, tr005DevEui(trimmed), 'lorawan', 'not_a_device_label');
  const inJson = jsonValue(trimmed, rule.keys);
  if (inJson !== null) return label(rule, inJson, 'json', 'not_a_device_label');
  if (trimmed.includes('/') && !rule.pattern.test(canonical(rule, trimmed))) return label(rule, urlValue(trimmed, rule.keys), 'url', 'web_link');
  const { found, pairs } = pairValues(trimmed, rule.keys);
  if (found.length > 1) throw new LabelError('two_ids');
  if (found.length === 1) return label(rule, found[0]!, 'pairs', 'bad_characters');
  if (pairs) throw new LabelError('not_a_device_label');
  return label(rule, trimmed, 'id', null);
}

function label(rule: KeyedRule, value: string, format: Label['format'], reason: LabelError['reason'] | null): Label {
  const candidate = canonical(rule, value);
  if (rule.pattern.test(candidate)) return { tuid: candidate, imc: '', psn: '', device_type: 'unknown', format };
  if (format === 'pairs' && !candidate) throw new LabelError('not_a_device_label');
  if (reason === null || format === 'pairs') throw bareError(rule, candidate);
  throw new LabelError(reason);
}

function bareError(rule: KeyedRule, candidate: string): LabelError {
  if (!candidate) return new LabelError('empty');
  if (rule.alphabet.test(candidate)) return new LabelError('wrong_length', { length: Array.from(candidate).length });
  return new LabelError('bad_characters');
}

function canonical(rule: KeyedRule, text: string): string {
  const value = trim(text).replace(/[a-z]/g, (c) => c.toUpperCase());
  return rule.lorawan ? value.replace(ID_SEPARATORS, '') : value;
}

function jsonValue(text: string, keys: ReadonlySet<string>): string | null {
  if (!text.startsWith('{')) return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  for (const [key, value] of Object.entries(body)) {
    if (keys.has(key.toLowerCase()) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      return typeof value === 'boolean' ? '' : String(value);
    }
  }
  return '';
}

function pairValues(text: string, keys: ReadonlySet<string>): { found: string[]; pairs: boolean } {
  const found: string[] = [];
  let pairs = false;
  for (const part of text.split(PAIR_SEPARATORS)) {
    const match = PAIR.exec(part);
    if (!match) continue;
    pairs = true;
    if (keys.has(match[1]!.trim().toLowerCase())) found.push(match[2]!);
  }
  return { found, pairs };
}

function urlValue(text: string, keys: ReadonlySet<string>): string {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : 'x://host/' + text.replace(/^\/+/, ''));
  } catch {
    return '';
  }
  let keyed: string | null = null;
  url.searchParams.forEach((value, key) => {
    if (keyed === null && keys.has(key.toLowerCase())) keyed = value;
  });
  if (keyed !== null) return keyed;
  const segments = url.pathname.split('/').filter((s) => s);
  return decodeURIComponent(segments[segments.length - 1] ?? '');
}

function tr005DevEui(text: string): string {
  const fields = text.split(':');
  return fields.length >= 5 && fields[1]!.toUpperCase() === 'D0' ? fields[3]! : '';
}
