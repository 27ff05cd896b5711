// The device card's health block: last seen (relative), battery, the latest messages in words,
// the platform's installation history, and whether the device reported after its install, with
// the next step when it did not. Drawn from the backend's answer or, offline, from the cache,
// whose age is then shown.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { CachedDevice, DeviceVerification, PlatformMessage } from '../../core/types';
import type { DeviceLookup } from '../../core/devices';
import { formatTime, statusName } from '../format';
import { locale, t, tMaybe } from '../i18n';

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "4 min ago", "in 2 hours", "just now", in the app's language. */
export function relativeTime(value: string | number | null | undefined, now = Date.now()): string {
  if (value === null || value === undefined || value === '') return t('healthNever');
  const at = typeof value === 'number' ? (value < 1e12 ? value * 1000 : value) : new Date(value).getTime();
  if (Number.isNaN(at)) return String(value);
  const diff = at - now;
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto', style: 'short' });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return format.format(Math.round(diff / ms), unit);
  }
  return t('healthJustNow');
}

/** One platform message in words a technician understands. */
export function messageInWords(message: PlatformMessage): string {
  const v = message.values;
  return tMaybe(`msg.${message.kind}`, v as Record<string, string | number>, t('msg.data'));
}

function verificationWhen(v: DeviceVerification): string {
  switch (v.state) {
    case 'verified':
      return t('verifyVerifiedAt', { time: formatTime(v.verified_at) });
    case 'waiting':
      return t('verifyWaitingUntil', { time: formatTime(v.deadline_at) });
    case 'silent':
      return t('verifySilentSince', { time: formatTime(v.installed_at) });
    case 'withdrawn':
      return ''; // the status on the card says why: removed, retired, quarantined
    default:
      return t('verifyUnavailableNote');
  }
}

function verificationBlock(v: DeviceVerification | null): TemplateResult | typeof nothing {
  if (!v || v.state === 'superseded') return nothing;
  const when = verificationWhen(v);
  return html`<div class="verify verify-${v.state}" data-testid="device-verification" data-state=${v.state} role="status">
    <p><strong>${t(`verify.${v.state}`)}</strong> <span class="sub">${when}</span></p>
    ${v.state === 'silent' ? html`<p data-testid="silent-next-step">${t('verifySilentNextStep')}</p>` : nothing}
  </div>`;
}

/** The health block of the card; nothing until the backend has answered once for this device. */
export function deviceHealth(d: CachedDevice | undefined, lookup: DeviceLookup | null): TemplateResult | typeof nothing {
  if (!d) return nothing;
  const health = d.health;
  const offline = lookup?.source === 'cache';
  return html`<section class="health" aria-label=${t('healthTitle')} data-testid="device-health">
    ${verificationBlock(health?.verification ?? null)}
    <dl class="facts">
      <dt>${t('healthLastSeen')}</dt>
      <dd data-testid="device-last-seen">${relativeTime(d.last_seen)}</dd>
      ${d.battery_level != null ? html`<dt>${t('deviceBattery')}</dt><dd data-testid="device-battery">${d.battery_level} %</dd>` : nothing}
    </dl>
    ${offline && d.fetched_at ? html`<p class="note" data-testid="health-age">${t('healthCacheAge', { age: relativeTime(d.fetched_at) })}</p>` : nothing}
    ${health?.messages.length
      ? html`<h2>${t('healthMessages')}</h2>
          <ul class="list" data-testid="device-messages">
            ${health.messages.map((m) => html`<li><span>${messageInWords(m)}</span> <span class="sub">${relativeTime(m.at)}</span></li>`)}
          </ul>`
      : nothing}
    ${health?.installations.length
      ? html`<h2>${t('healthInstallations')}</h2>
          <ul class="list" data-testid="device-installations">
            ${health.installations.map(
              (r) => html`<li><span>${statusName(r.status)}</span> <span class="sub">${formatTime(r.at)}${r.responsible ? ` · ${r.responsible}` : ''}</span></li>`,
            )}
          </ul>`
      : nothing}
  </section>`;
}
