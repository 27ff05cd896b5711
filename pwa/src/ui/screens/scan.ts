// Scan: the camera (single or continuous batch mode), typed IDs, and photo upload. The same
// screen scans the new device when replacing one.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ref } from 'lit-html/directives/ref.js';
import type { AppState, BatchAction } from '../state';
import type { Controller } from '../controller';
import { t } from '../i18n';
import { currentPlatform } from '../../core/platform';
import { deviceTypeName, statusName } from '../format';
import { icon } from '../icons';
import { batchStrip } from './batch-strip';
import { groupPrompt } from './scan-prompts';

const BATCH_ACTIONS: { value: BatchAction; label: (group: string | null) => string }[] = [
  { value: 'install', label: (group) => t('actionInstall', { group: group ?? '–' }) },
  { value: 'remove', label: () => t('actionRemove') },
  { value: 'quarantine', label: () => t('actionQuarantine') },
  { value: 'retire', label: () => t('actionRetire') },
];

function camera(s: AppState, c: Controller): TemplateResult {
  const scan = s.scan;
  return html`<div class="camera ${scan.cameraOn ? 'camera-on' : ''}">
      <video id="scan-video" muted playsinline aria-label=${t('scanLead')} ${ref(c.camera.videoRef)}></video>
      ${scan.cameraOn ? html`<div class="aim" aria-hidden="true"></div>` : html`<div class="camera-off">${icon('camera')}</div>`}
    </div>
    <div class="row">
      ${scan.cameraOn
        ? html`<button type="button" class="btn" data-testid="stop-camera" @click=${() => c.stopCamera(true)}>${t('cameraStop')}</button>`
        : html`<button type="button" class="btn btn-primary" ?disabled=${scan.starting} data-testid="start-camera"
            @click=${() => c.requestCamera()}>${scan.starting ? t('cameraStarting') : t('cameraStart')}</button>`}
      ${scan.cameraOn && scan.torchSupported
        ? html`<button type="button" class="btn" aria-pressed=${scan.torchOn} @click=${() => void c.camera.toggleTorch()}>
            ${icon('torch')}${scan.torchOn ? t('torchOff') : t('torchOn')}</button>`
        : nothing}
      ${scan.decoder ? html`<span class="note">${scan.decoder === 'native' ? t('cameraEngineNative') : t('cameraEngineWasm')}</span>` : nothing}
    </div>
    ${scan.error ? html`<p class="msg msg-error" role="alert">${scan.error}</p>` : nothing}`;
}

function batchControls(s: AppState, c: Controller): TemplateResult {
  return html`<div class="panel">
    <label class="switch">
      <input type="checkbox" role="switch" .checked=${s.settings.batchMode} data-testid="batch-mode"
        @change=${(e: Event) => void c.setBatch((e.target as HTMLInputElement).checked)} />
      <span>${t('batchMode')}</span>
    </label>
    ${s.settings.batchMode
      ? html`<p class="note">${t('batchHelp')}</p>
          <label for="batch-action">${t('batchAction')}</label>
          <select id="batch-action" data-testid="batch-action" @change=${(e: Event) => void c.setBatchAction((e.target as HTMLSelectElement).value as BatchAction)}>
            ${BATCH_ACTIONS.map(
              (a) => html`<option value=${a.value} ?selected=${s.settings.batchAction === a.value}>
                ${a.label(s.selectedGroup)}</option>`,
            )}
          </select>`
      : nothing}
  </div>`;
}

function batchList(s: AppState, c: Controller): TemplateResult {
  const items = s.scan.items;
  if (!s.settings.batchMode && items.length === 0) return html``;
  return html`<section aria-labelledby="batch-title">
    <div class="row row-between">
      <h2 id="batch-title" data-testid="batch-count">${t('batchCount', { count: items.length })}</h2>
      ${items.length ? html`<button type="button" class="btn btn-small" @click=${() => c.clearBatch()}>${t('batchClear')}</button>` : nothing}
    </div>
    <ul class="list batch">
      ${items.map(
        (item) => html`<li class="batch-${item.outcome} batch-item" data-testid="batch-item" data-tuid=${item.tuid}>
          <a class="list-button" href="#/device/${item.tuid}">
            <span class="mono">${item.tuid}</span>
            <span class="sub">${deviceTypeName(item.deviceType)} ·
              ${item.outcome === 'queued' ? t('batchQueued') : item.outcome === 'already' ? t('batchDoneByYou') : t('batchNeedsLook', { status: statusName(item.status) })}</span>
          </a>
          <button type="button" class="btn btn-small batch-remove" data-testid="batch-remove" aria-label=${t('batchRemove', { tuid: item.tuid })}
            @click=${() => void c.undoFlow.removeBatchItem(item.tuid)}>${item.outcome === 'queued' ? t('undo') : '✕'}</button>
        </li>`,
      )}
    </ul>
  </section>`;
}

function manual(s: AppState, c: Controller): TemplateResult {
  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('tuid') as HTMLInputElement;
    if (c.manualEntry(input.value)) form.reset();
  };
  return html`<details class="panel" ?open=${!s.scan.cameraOn}>
    <summary>${t('manualTitle')}</summary>
    <form class="form" @submit=${submit}>
      <label for="manual-tuid">${currentPlatform().key === 'thingsee' ? t('manualLabel') : t('manualLabelOther', { name: currentPlatform().device_id.name })}</label>
      <input id="manual-tuid" name="tuid" autocomplete="off" autocapitalize="characters" spellcheck="false" required
        data-testid="manual-tuid" />
      <button class="btn btn-primary" type="submit">${t('manualSubmit')}</button>
    </form>
  </details>`;
}

function photo(s: AppState, c: Controller): TemplateResult {
  const online = s.sync.online === true && !s.session.expired;
  return html`<details class="panel">
    <summary>${t('photoTitle')}</summary>
    ${online
      ? html`<label class="btn file-button">
          ${icon('camera')}<span>${t('photoButton')}</span>
          <input type="file" accept="image/jpeg,image/png,image/webp" capture="environment" class="visually-hidden"
            ?disabled=${s.scan.photoBusy}
            @change=${(e: Event) => {
              const input = e.target as HTMLInputElement;
              const file = input.files?.[0];
              if (file) void c.decodePhoto(file);
              input.value = '';
            }} />
        </label>`
      : html`<p class="note">${t('photoOffline')}</p>`}
    ${s.scan.photoCodes.length
      ? html`<ul class="list">
          ${s.scan.photoCodes.map(
            (code) => html`<li><button type="button" class="list-button" @click=${() => void c.handleCodes([code.text])}>
              <span class="mono">${code.tuid ?? code.text}</span>${code.error ? html`<span class="sub">${code.error}</span>` : nothing}
            </button></li>`,
          )}
        </ul>`
      : nothing}
  </details>`;
}

function replacePanel(s: AppState, c: Controller): TemplateResult {
  const r = s.replace;
  if (!r?.newTuid) return html``;
  return html`<section class="panel panel-strong" aria-labelledby="replace-title">
    <h2 id="replace-title">${t('replaceTitle')}</h2>
    <dl class="facts">
      <dt>${t('replaceOld')}</dt><dd class="mono">${r.oldTuid}</dd>
      <dt>${t('replaceNew')}</dt><dd class="mono" data-testid="replace-new">${r.newTuid}</dd>
      <dt>${t('deviceType')}</dt><dd>${deviceTypeName(r.newType)}</dd>
    </dl>
    ${r.oldDevice?.group ? nothing : html`<p class="note">${t('replaceNoGroup')}</p>`}
    <fieldset class="choice">
      <legend>${t('replaceOldBecomes')}</legend>
      ${(['uninstalled', 'retired'] as const).map(
        (status) => html`<label><input type="radio" name="old-status" value=${status} .checked=${r.oldStatus === status}
          @change=${() => c.replace.setReplaceOldStatus(status)} /> ${statusName(status)}</label>`,
      )}
    </fieldset>
    <div class="row">
      <button type="button" class="btn" @click=${() => c.replace.rescanReplacement()}>${t('replaceRescan')}</button>
      <button type="button" class="btn btn-primary" data-testid="confirm-replace" @click=${() => void c.replace.confirmReplace()}>${t('replaceConfirm')}</button>
    </div>
  </section>`;
}

export function scanScreen(s: AppState, c: Controller): TemplateResult {
  const replacing = s.route.name === 'replace' ? s.route.tuid : null;
  const message = s.scan.message;
  return html`<section class="screen" aria-labelledby="scan-title">
    <h1 id="scan-title" tabindex="-1">${replacing ? t('scanReplaceTitle') : t('scanTitle')}</h1>
    ${s.scan.cameraOn && !replacing ? nothing : html`<p class="lead">${replacing ? t('scanReplaceLead', { tuid: replacing }) : t('scanLead')}</p>`}
    ${replacing ? nothing : groupPrompt(s, c)}
    ${replacing && s.replace?.newTuid ? replacePanel(s, c) : camera(s, c)}
    <div aria-live="assertive" class="scan-message" data-testid="scan-message">
      ${message
        ? html`<p class="msg msg-${message.kind}">${message.text}${message.action
            ? html` <button type="button" class="btn btn-small msg-action" data-testid=${message.action.testId}
                @click=${message.action.run}>${message.action.label}</button>`
            : nothing}</p>`
        : nothing}
    </div>
    ${replacing ? nothing : batchStrip(s)}
    ${replacing ? nothing : batchControls(s, c)}
    ${replacing ? nothing : batchList(s, c)}
    ${replacing && s.replace?.newTuid ? nothing : manual(s, c)}
    ${replacing && s.replace?.newTuid ? nothing : photo(s, c)}
  </section>`;
}
