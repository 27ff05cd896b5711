// Words, numbers and times for the console's views.

import type { UNKNOWN_TYPE } from '../core/label';
import { ApiError, NetworkError, type OpKind } from './api';
import { locale, t, tMaybe } from './i18n';

/** Format a count with the language's digit grouping (1,234 / 1 234). */
export function num(value: number): string {
  return new Intl.NumberFormat(locale()).format(value);
}

/** Format an ISO time as a short local date and time, or a dash. */
export function dateTime(value: string | null | undefined): string {
  if (!value) return t('none');
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(locale(), { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Format an ISO time compactly for tables: no year when it is this year's. */
export function dateTimeShort(value: string | null | undefined): string {
  if (!value) return t('none');
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const thisYear = date.getFullYear() === new Date().getFullYear();
  return date.toLocaleString(locale(), {
    day: 'numeric', month: 'short', ...(thisYear ? {} : { year: 'numeric' }), hour: '2-digit', minute: '2-digit',
  });
}

/** Format a time that follows another: only the clock time when it is the same day. */
export function timeAfter(value: string | null | undefined, before: string | null | undefined): string {
  if (!value) return t('none');
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  if (before && new Date(before).toDateString() === date.toDateString()) {
    return date.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
  }
  return dateTimeShort(value);
}

/** Format an ISO time with seconds, for the timeline. */
export function dateTimeLong(value: string | null | undefined): string {
  if (!value) return t('none');
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(locale(), {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** Say how long a span of seconds is in one or two units ("45 s", "3 h 5 min"). */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return t('none');
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t('secondsShort', { n: s });
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return t('minutesShort', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t('hoursShort', { h: hours, m: minutes % 60 });
  return t('daysShort', { d: Math.floor(hours / 24), h: hours % 24 });
}

/** Name an installation status in the console's language. */
export function statusName(status: string | null | undefined): string {
  if (!status) return t('unknownValue');
  return tMaybe(`status.${status}`, {}, status);
}

/** Name a device type in the console's language ("DISTANCE" → "Distance sensor"); a type with no
 * name yet as the platform gives it, and a missing one as "Unknown type". */
export function deviceTypeName(type: string | null | undefined): string {
  if (!type) return t('type.unknown');
  return tMaybe(`type.${type}`, {}, type);
}

// The type the server gives a TUID it cannot place (checked against the parser's, without loading it).
const UNKNOWN: typeof UNKNOWN_TYPE = 'unknown';

/** Give the platform's own name for a device type, for a tooltip on the translated one (none
 * when the type is missing or unknown: there is no platform name to match). */
export function deviceTypeTitle(type: string | null | undefined): string | undefined {
  return type && type !== UNKNOWN ? t('platformTypeName', { type }) : undefined;
}

/** Describe what an operation does in a few words ("Install into prfi00site"). */
export function describeAction(kind: OpKind | string, args: Record<string, unknown>): string {
  const text = (name: string) => (typeof args[name] === 'string' ? (args[name] as string) : '');
  switch (kind) {
    case 'install':
      return t('do.install', { group: text('group_id') });
    case 'remove':
      return t('do.remove');
    case 'replace':
      return t('do.replace', { tuid: text('new_tuid') });
    case 'set_status':
      return t('do.set_status', { status: statusName(text('status')) });
    case 'set_group':
      return t('do.set_group', { group: text('group_id') });
    case 'undo': {
      // What the undo restores (the server resolved it from what was recorded).
      const parts = [
        ...(text('status') ? [statusName(text('status'))] : []),
        ...(text('group_id') ? [text('group_id')] : []),
      ];
      return t('do.undo', { restores: parts.join(', ') || t('unknownValue') });
    }
    default:
      return kind;
  }
}

/** Turn any failure into words a supervisor can act on. */
export function errorText(error: unknown): string {
  if (error instanceof NetworkError) return t('errNetwork');
  if (error instanceof ApiError) {
    if (error.status === 403) return t('errForbidden');
    const fields = (error.details as { fields?: { message?: string }[] }).fields;
    if (error.status === 422 && Array.isArray(fields) && fields.length) {
      return fields.map((f) => f.message ?? '').join(' ');
    }
    if (error.status === 429 || error.status === 503) return t('errBusy', { message: error.message });
    if (error.status >= 500) return t('errServer', { status: error.status });
    return t('errGeneric', { message: error.message });
  }
  return error instanceof Error ? error.message : String(error);
}

/** Give a local calendar date (yyyy-mm-dd) as the ISO instant its day starts or ends. */
export function localDayBound(day: string, end: boolean): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const date = end
    ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59, 999)
    : new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 0, 0, 0, 0);
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');
  return (
    `${match[1]}-${match[2]}-${match[3]}T${end ? '23:59:59.999' : '00:00:00.000'}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}
