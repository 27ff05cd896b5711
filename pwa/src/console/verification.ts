// Install verification as the console shows it: a chip in the history, facts in the timeline.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { Verification, VerificationState } from './api';
import { dateTime, dateTimeLong } from './format';
import { t } from './i18n';

/** A small coloured word for a verification state; nothing for actions that install nothing. */
export function verificationChip(state: VerificationState | null | undefined): TemplateResult | typeof nothing {
  if (!state) return nothing;
  return html`<span class="state verification-${state}" data-verification=${state}>${t(`verification.${state}`)}</span>`;
}

/** The timeline's lines on the device's latest install: verified when, or silent since when. */
export function verificationFacts(v: Verification | null): TemplateResult | typeof nothing {
  if (!v) return nothing;
  const when = v.verified_at ?? v.silent_at ?? v.next_look_at;
  return html`<dl class="facts" data-testid="timeline-verification">
    <dt>${t('colVerification')}</dt>
    <dd>${verificationChip(v.state)}
      ${when ? html`<time datetime=${when} title=${dateTimeLong(when)}>${dateTime(when)}</time>` : nothing}</dd>
    <dt>${t('lastSeen')}</dt><dd>${v.last_seen_at ? dateTime(v.last_seen_at) : t('unknownValue')}</dd>
    ${v.state === 'silent' ? html`<dt>${t('nextStep')}</dt><dd>${t('silentNextStep')}</dd>` : nothing}
  </dl>`;
}
