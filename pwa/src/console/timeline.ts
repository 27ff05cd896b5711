// One device's timeline in a side panel: Fieldhand's record of it, then every operation (with
// its platform steps and attempts) and every supervisor decision, oldest first.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { AuditEntry, DeviceTimeline, TimelineOperation, TimelineStep } from './api';
import { dateTime, dateTimeLong, describeAction, deviceTypeName, deviceTypeTitle, duration, errorText, statusName } from './format';
import { t, tMaybe } from './i18n';
import type { Host } from './section';
import { verificationFacts } from './verification';
import { busy, explainedError, notice, stateChip } from './widgets';

function stepLabel(step: TimelineStep): string {
  if (step.action === 'set_status') return t('step.status', { value: statusName(step.value) });
  if (step.action === 'set_group') return t('step.group', { value: step.value });
  if (step.action === 'copy_group') return t('step.copyGroup', { tuid: step.value });
  return `${step.action} ${step.value}`;
}

function operationEvent(op: TimelineOperation, at: string): TemplateResult {
  const who = op.user.display_name || op.user.username;
  const undoes = op.kind === 'undo' && typeof op.args.undoes === 'string' ? op.args.undoes : null;
  return html`<li class="c-event c-event-op" data-op-id=${op.op_id}>
    <div class="c-event-when"><time datetime=${at} title=${dateTimeLong(at)}>${dateTime(at)}</time></div>
    <div class="c-event-body">
      <p class="c-event-title"><strong>${describeAction(op.kind, op.args)}</strong> ${stateChip(op.state)}</p>
      ${undoes
        ? html`<p class="sub"><button type="button" class="c-link" data-testid="undo-of"
            @click=${(e: Event) => {
              const list = (e.currentTarget as HTMLElement).closest('ol, ul');
              const original = list?.querySelector<HTMLElement>(`[data-op-id="${undoes}"]`);
              original?.scrollIntoView({ block: 'center' });
              original?.classList.add('c-event-highlight');
            }}>${t('undoOf')}</button></p>`
        : nothing}
      <p class="sub">
        ${t('timelineBy', { name: who })}
        · ${t('colServerTime')} ${dateTime(op.received_at)}
        ${op.offline_delay_s >= 60 ? html`· ${t('colDelay')} ${duration(op.offline_delay_s)}` : nothing}
        ${op.bulk_job_id ? html`· <a href="#/bulk/${op.bulk_job_id}">${t('bulkJobRef', { id: op.bulk_job_id })}</a>` : nothing}
      </p>
      ${op.seen.status || op.seen.group
        ? html`<p class="sub">${t('timelineSeen', { status: statusName(op.seen.status), group: op.seen.group ?? t('unknownValue') })}</p>`
        : nothing}
      ${op.error ? html`<div class="c-op-error">${explainedError(op.error.code, op.error.message)}</div>` : nothing}
      ${op.steps.length
        ? html`<ul class="c-steps" aria-label=${t('timelineSteps')}>
            ${op.steps.map(
              (step) => html`<li>
                <span class="mono c-small">${step.tuid !== op.tuid ? `${step.tuid}: ` : ''}${stepLabel(step)}</span>
                <span class="c-step-state c-step-${step.state}">${tMaybe(`stepState.${step.state}`, {}, step.state)}</span>
                ${step.attempts > 1 ? html`<span class="sub">${t('timelineAttempts', { count: step.attempts })}</span>` : nothing}
                ${step.completed_at ? html`<span class="sub">${dateTime(step.completed_at)}</span>` : nothing}
                ${step.last_error && step.state !== 'done'
                  ? html`<div class="c-block">${explainedError(step.state === 'failed' ? 'platform_rejected' : 'retrying', step.last_error)}</div>`
                  : nothing}
              </li>`,
            )}
          </ul>`
        : nothing}
    </div>
  </li>`;
}

function auditEvent(audit: AuditEntry, at: string): TemplateResult {
  const name = audit.user ? audit.user.display_name || audit.user.username : t('someone');
  const title = tMaybe(`audit.${audit.action}`, { name }, t('auditOther', { action: audit.action, name }));
  return html`<li class="c-event c-event-audit">
    <div class="c-event-when"><time datetime=${at} title=${dateTimeLong(at)}>${dateTime(at)}</time></div>
    <div class="c-event-body">
      <p class="c-event-title"><strong>${title}</strong></p>
      ${audit.reason ? html`<p class="c-reason">${t('auditReason', { reason: audit.reason })}</p>` : nothing}
    </div>
  </li>`;
}

function timelineBody(data: DeviceTimeline): TemplateResult {
  const local = data.local;
  return html`<section class="c-record" aria-label=${t('timelineRecord')}>
      <h3>${t('timelineRecord')}</h3>
      ${local
        ? html`<dl class="facts">
            <dt>${t('timelineStatus')}</dt><dd>${statusName(local.status)}</dd>
            <dt>${t('timelineGroup')}</dt><dd class="mono">${local.group ?? t('unknownValue')}</dd>
            <dt>${t('timelineUpdated')}</dt><dd>${dateTime(local.updated_at)}</dd>
          </dl>`
        : html`<p class="sub">${t('timelineNoRecord')}</p>`}
      ${verificationFacts(data.verification ?? null)}
    </section>
    ${data.truncated ? notice('info', t('timelineTruncated')) : nothing}
    ${data.events.length === 0
      ? html`<p class="c-empty">${t('timelineEmpty')}</p>`
      : html`<ol class="c-timeline" data-testid="timeline">
          ${data.events.map((e) => (e.type === 'operation' ? operationEvent(e.operation, e.at) : auditEvent(e.audit, e.at)))}
        </ol>`}`;
}

/** Open the side panel for a device and load its timeline. */
export function showTimeline(host: Host, tuid: string): void {
  let data: DeviceTimeline | null = null;
  let error: string | null = null;
  const headingId = 'timeline-title';
  host.dialogs.open({
    kind: 'drawer',
    labelledBy: headingId,
    content: () => html`<div class="c-drawer-head">
        <div>
          <h2 id=${headingId}>${t('timelineTitle', { tuid })}</h2>
          <p class="sub">${data ? html`<strong title=${deviceTypeTitle(data.device_type) ?? nothing}>${deviceTypeName(data.device_type)}</strong> · ` : nothing}${t('timelineLead')}</p>
        </div>
        <button type="button" class="c-close" autofocus @click=${() => host.dialogs.close()} aria-label=${t('close')}>×</button>
      </div>
      <div class="c-drawer-body">
        ${error ? notice('error', error) : data ? timelineBody(data) : busy(t('loading'))}
      </div>`,
  });
  host.api.history.timeline(tuid).then(
    (answer) => {
      data = answer;
      host.redraw();
    },
    (failure: unknown) => {
      error = errorText(failure);
      host.redraw();
    },
  );
}
