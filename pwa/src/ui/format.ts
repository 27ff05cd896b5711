// Words and times for the views.

import type { OutboxOp, Operation } from '../core/types';
import { isKey, locale as currentLocale, t, tMaybe } from './i18n';

/** Name an installation status in the user's language. */
export function statusName(status: string | null | undefined): string {
  if (!status) return t('deviceUnknown');
  const key = `status.${status}`;
  return isKey(key) ? t(key) : status;
}

/** Describe an operation in a few words ("Install into prfi00site"). */
export function describeOp(op: Pick<OutboxOp | Operation, 'kind' | 'args'>): string {
  const args = op.args as Record<string, string | undefined>;
  switch (op.kind) {
    case 'install':
      return t('kind.install', { group: args.group_id ?? '' });
    case 'remove':
      return t('kind.remove');
    case 'set_status':
      return t('kind.set_status', { status: statusName(args.status) });
    case 'set_group':
      return t('kind.set_group', { group: args.group_id ?? '' });
    case 'replace':
      return t('kind.replace', { tuid: args.new_tuid ?? '' });
    case 'undo':
      return t('kind.undo');
  }
}

/** Format a clock time (today) or a short date and time (earlier). */
export function formatTime(value: number | string | null | undefined, now = Date.now()): string {
  if (value === null || value === undefined || value === '') return '–';
  const date = typeof value === 'number' ? new Date(value) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const locale = currentLocale();
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString(locale, { day: 'numeric', month: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Say how long ago something happened, for recent times; else the time. */
export function ago(value: number | null, now = Date.now()): string {
  if (value === null) return '–';
  const minutes = Math.floor((now - value) / 60_000);
  if (minutes < 1) return t('justNow');
  if (minutes < 60) return t('minutesAgo', { n: minutes });
  return formatTime(value, now);
}

/** Start of today, local time, in epoch ms. */
export function startOfToday(now = Date.now()): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Name a device type in the user's language ("ENVIRONMENT" → "Environment sensor"); other platforms' names as they are. */
export function deviceTypeName(type: string | null | undefined): string {
  if (!type) return t('type.unknown');
  return tMaybe(`type.${type}`, {}, type);
}
