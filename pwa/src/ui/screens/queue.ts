// The queue: what waits to be sent, what failed (retry or discard), and today's history.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { AppState } from '../state';
import type { Controller } from '../controller';
import { t } from '../i18n';
import { ago, describeOp, formatTime, startOfToday } from '../format';
import { needsAttention } from '../../core/outbox';
import { batchVerification } from '../batch-verification';
import { explainCode, explainedView } from '../errors';
import type { Operation, OutboxOp } from '../../core/types';

function stateChip(state: string): TemplateResult {
  return html`<span class="state state-${state}" data-state=${state}>${t(`state.${state}` as 'state.queued')}</span>`;
}

/** "Undoes: Install into … (10:42)" under an undo, with a link to the action it undoes. */
function undoLine(op: OutboxOp, s: AppState): TemplateResult {
  if (op.kind !== 'undo') return html``;
  const original = s.ops.find((o) => o.op_id === op.args.undoes);
  const text = original ? t('undoOf', { action: describeOp(original), time: formatTime(original.created_at) }) : t('undoOf', { action: op.tuid, time: '' });
  return html`<div class="sub"><a href="#/queue" data-testid="undo-of" @click=${(e: Event) => {
    e.preventDefault();
    document.querySelector(`[data-op-id="${String(op.args.undoes)}"]`)?.scrollIntoView({ block: 'center' });
  }}>${text}</a></div>`;
}

/** The Undo button of an action that may still be undone (newest on its device, this user's). */
function undoButton(op: OutboxOp, s: AppState, c: Controller): TemplateResult {
  const me = s.session.user?.username;
  if (op.username !== me || op.kind === 'undo' || op.kind === 'replace' || op.undone_by || op.rejected) return html``;
  if (!['queued', 'accepted', 'syncing', 'synced', 'conflict', 'failed'].includes(op.state)) return html``;
  const newer = s.ops.some((o) => o.tuid === op.tuid && o.created_at > op.created_at && o.state !== 'cancelled' && o.state !== 'discarded' && !o.rejected);
  if (newer) return html``;
  return html`<button type="button" class="btn btn-small" data-testid="undo" @click=${() => void c.undoFlow.undo(op.op_id)}>${t('undo')}</button>`;
}

function opItem(op: OutboxOp, s: AppState, c: Controller, withActions: boolean): TemplateResult {
  const me = s.session.user?.username;
  return html`<li class="op" data-op-id=${op.op_id} data-testid="op">
    <div class="op-main">
      <span class="mono">${op.tuid}</span>
      ${stateChip(op.state)}
    </div>
    <div class="sub">${describeOp(op)} · ${formatTime(op.created_at)}${waitLine(op, s)}
      ${op.username !== me ? html` · ${t('waitingForUser', { user: op.username })}` : nothing}
      ${op.undone_by ? html` · <span class="state" data-testid="undone">${t('undoneBy')}</span>` : nothing}</div>
    ${undoLine(op, s)}
    ${op.error ? html`<div data-testid="op-reason">${explainedView(explainCode(op.error.code, op.error.message))}</div>` : nothing}
    ${withActions
      ? html`<div class="row">
          <button type="button" class="btn btn-small" data-testid="retry" @click=${() => void c.retry(op.op_id)}>${t('retry')}</button>
          <button type="button" class="btn btn-small btn-danger-outline" data-testid="discard" @click=${() => void c.discard(op.op_id, op.tuid)}>${t('discard')}</button>
        </div>`
      : html`<div class="row">${undoButton(op, s, c)}</div>`}
  </li>`;
}

/** While offline no try can happen: say so instead of counting attempts. */
function waitLine(op: OutboxOp, s: AppState): string {
  const waiting = op.state === 'queued' || op.state === 'sending';
  if (waiting && s.sync.online === false) return ` · ${t('waitingForConnection')}`;
  return op.attempts > 1 ? ` · ${t('attempts', { count: op.attempts })}` : '';
}

function remoteItem(op: Operation): TemplateResult {
  return html`<li class="op op-remote">
    <div class="op-main"><span class="mono">${op.tuid}</span>${stateChip(op.state)}</div>
    <div class="sub">${describeOp(op)} · ${formatTime(op.device_time)} · ${t('otherDevice')}</div>
    ${op.error ? explainedView(explainCode(op.error.code, op.error.message)) : nothing}
  </li>`;
}

function syncLine(s: AppState): TemplateResult {
  const sync = s.sync;
  const parts: string[] = [];
  if (!s.session.user) parts.push(t('syncSignedOut'));
  else if (s.session.expired) parts.push(t('syncPaused'));
  if (sync.lastRunAt) parts.push(t('lastSync', { time: ago(sync.lastRunAt) }));
  if (sync.online === false) {
    // No try can happen before the connection returns: a "next try" time would be a false promise.
    parts.push(t('syncWaitingForConnection'));
  } else {
    if (sync.nextRunAt && sync.failures > 0) parts.push(t('nextTry', { time: formatTime(sync.nextRunAt) }));
  }
  const failing = sync.online !== false && sync.lastError && sync.failures > 0;
  return html`<p class="note" role="status">${parts.join(' ')}</p>
    ${failing ? explainedView({ text: t('syncFailedRetrying'), raw: sync.lastError }, 'note') : nothing}`;
}

export function queueScreen(s: AppState, c: Controller): TemplateResult {
  const ops = s.ops;
  const waiting = ops.filter((op) => op.state === 'queued' || op.state === 'sending');
  const attention = ops.filter(needsAttention).reverse();
  const today = startOfToday();
  const me = s.session.user?.username;
  const todayLocal = ops.filter((op) => op.created_at >= today && op.username === me).reverse();
  const known = new Set(ops.map((op) => op.op_id));
  const todayRemote = s.todayRemote.filter((op) => !known.has(op.op_id));
  return html`<section class="screen" aria-labelledby="queue-title">
    <h1 id="queue-title" tabindex="-1">${t('queueTitle')}</h1>
    <div class="row row-between">
      <button type="button" class="btn btn-primary" data-testid="send-now" ?disabled=${s.sync.running || !s.session.user || s.session.expired}
        @click=${() => c.sendNow()}>${s.sync.running ? t('sending') : t('sendNow')}</button>
    </div>
    ${syncLine(s)}
    ${batchVerification(ops, c.api, s.sync.online !== false, today)}

    <h2>${t('sectionWaiting')} <span class="count">(${waiting.length})</span></h2>
    ${waiting.length
      ? html`<ul class="list" data-testid="waiting-list">${waiting.map((op) => opItem(op, s, c, false))}</ul>`
      : html`<p class="empty">${t('nothingWaiting')}</p>`}

    ${attention.length
      ? html`<h2>${t('sectionAttention')} <span class="count">(${attention.length})</span></h2>
          <ul class="list" data-testid="attention-list">${attention.map((op) => opItem(op, s, c, true))}</ul>`
      : nothing}

    <h2>${t('sectionToday')}</h2>
    ${todayLocal.length || todayRemote.length
      ? html`<ul class="list" data-testid="today-list">
          ${todayLocal.map((op) => opItem(op, s, c, false))}
          ${todayRemote.map(remoteItem)}
        </ul>`
      : html`<p class="empty">${t('nothingToday')}</p>`}
  </section>`;
}
