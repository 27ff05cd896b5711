// The device card: TUID, type, last known status and group (fresh when online, cached when not),
// the user's own actions on it, and the actions to queue.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { AppState } from '../state';
import type { Controller } from '../controller';
import { t } from '../i18n';
import { describeOp, deviceTypeName, formatTime, statusName } from '../format';
import { explainCode, explainedView } from '../errors';
import { deviceTypeFor } from '../../core/label';
import type { DeviceLookup } from '../../core/devices';
import { can, currentPlatform } from '../../core/platform';
import { deviceActions } from './device-actions';
import { deviceHealth } from './device-health';

function freshness(lookup: DeviceLookup): TemplateResult {
  const d = lookup.device;
  let text: string;
  if (lookup.source === 'server') {
    const time = formatTime(d.fetched_at);
    text = d.platform_found === null ? t('deviceFromBackend', { time }) : d.platform_found ? t('deviceFromPlatform', { time }) : t('deviceFromRecords', { time });
  }
  else if (lookup.source === 'cache') text = t('deviceFromCache', { time: formatTime(d.fetched_at ?? d.updated_at) });
  else text = t('deviceNeverSeen');
  return html`<p class="note" data-testid="device-source">${text} ${d.source === 'queued' && lookup.source !== 'none' ? t('deviceFromQueued') : nothing}</p>`;
}

/** "Already done by you: Install into … (10:42)" when the device's newest action is this user's. */
function doneByYou(s: AppState, tuid: string): TemplateResult {
  const me = s.session.user?.username;
  const newest = s.ops.filter((op) => op.tuid === tuid && op.state !== 'cancelled' && op.state !== 'discarded' && !op.rejected).pop();
  if (!me || !newest || newest.username !== me || newest.undone_by || newest.kind === 'undo') return html``;
  return html`<p class="msg msg-info" data-testid="done-by-you">${t('cardDoneByYou', { action: describeOp(newest), time: formatTime(newest.created_at) })}
    <span class="state state-${newest.state}">${t(`state.${newest.state}`)}</span></p>`;
}

export function deviceScreen(s: AppState, c: Controller): TemplateResult {
  const route = s.route.name === 'device' ? s.route : null;
  const device = s.device;
  const tuid = route?.tuid ?? device?.tuid ?? '';
  const lookup = device?.tuid === tuid ? device.lookup : null;
  const d = lookup?.device;
  const mine = s.ops.filter((op) => op.tuid === tuid || op.args.new_tuid === tuid).slice(-5).reverse();
  const mineIds = new Set(mine.map((op) => op.op_id));
  const history = (lookup?.history ?? []).filter((op) => !mineIds.has(op.op_id)).slice(0, 3);
  return html`<section class="screen" aria-labelledby="device-title">
    <h1 id="device-title" tabindex="-1"><span class="visually-hidden">${t('deviceTitle')} </span><span class="mono tuid" data-testid="device-tuid">${tuid}</span></h1>
    ${device?.loading ? html`<p class="note" role="status">${t('deviceLoading')}</p>` : nothing}
    ${device?.error ? html`<p class="msg msg-error" role="alert">${device.error}</p>` : nothing}
    <dl class="facts">
      <dt>${t('deviceType')}</dt><dd data-testid="device-type">${deviceTypeName(d?.device_type ?? deviceTypeFor(tuid))}</dd>
      <dt>${t('deviceStatus')}</dt><dd data-testid="device-status"><strong class="status status-${d?.status ?? 'unknown'}">${statusName(d?.status)}</strong></dd>
      ${can('deployment_groups') ? html`<dt>${t('deviceGroup')}</dt><dd class="mono" data-testid="device-group">${d?.group ?? t('deviceUnknown')}</dd>` : nothing}
    </dl>
    ${lookup ? freshness(lookup) : nothing}
    ${doneByYou(s, tuid)}
    ${d?.platform_found === false ? html`<p class="msg msg-error">${t('deviceNotInStack')}</p>` : nothing}
    ${d?.platform_message && d.platform_found !== false
      ? html`<details class="note explained-details"><summary>${t('platformNote')}</summary><p class="mono">${d.platform_message}</p></details>`
      : nothing}

    ${deviceActions(s, c, tuid, d?.status, Boolean(lookup))}
    ${deviceHealth(d, lookup)}

    ${!can('installation_history') ? html`<p class="note" data-testid="no-platform-history">${t('deviceNoPlatformHistory', { platform: currentPlatform().title })}</p>` : nothing}
    ${history.length
      ? html`<h2>${t('deviceHistory')}</h2>
          <ul class="list">
            ${history.map(
              (op) => html`<li class="op"><span>${describeOp(op)}</span>
                <span class="state state-${op.state}">${t(`state.${op.state}`)}</span>
                <span class="sub">${formatTime(op.device_time)}${op.user ? ` · ${op.user.display_name || op.user.username}` : ''}</span></li>`,
            )}
          </ul>`
      : nothing}
    ${mine.length
      ? html`<h2>${t('deviceQueuedHere')}</h2>
          <ul class="list">
            ${mine.map(
              (op) => html`<li class="op"><span>${describeOp(op)}</span>
                <span class="state state-${op.state}">${t(`state.${op.state}`)}</span>
                <span class="sub">${formatTime(op.created_at)}</span>
                ${op.error ? explainedView(explainCode(op.error.code, op.error.message)) : nothing}</li>`,
            )}
          </ul>`
      : nothing}
  </section>`;
}
