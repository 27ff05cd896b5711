// While batch scanning, the count and the last few labels sit right under the camera, so the
// technician sees each label land without scrolling (the full list stays further down).

import { html, nothing, type TemplateResult } from 'lit-html';
import type { AppState, BatchItem } from '../state';
import { t } from '../i18n';
import { statusName } from '../format';

/** How many of the newest labels the strip shows. */
export const STRIP_ITEMS = 3;

function outcome(item: BatchItem): string {
  return item.outcome === 'queued' ? t('batchQueued') : item.outcome === 'already' ? t('batchAlready') : t('batchNeedsLook', { status: statusName(item.status) });
}

/** Render the strip (nothing outside batch mode). */
export function batchStrip(s: AppState): TemplateResult {
  if (!s.settings.batchMode || s.route.name !== 'scan') return html``;
  const items = s.scan.items.slice(0, STRIP_ITEMS);
  return html`<div class="batch-strip" data-testid="batch-strip">
    <p class="batch-strip-count"><strong data-testid="batch-strip-count">${t('batchCount', { count: s.scan.items.length })}</strong></p>
    ${items.length
      ? html`<ol class="batch-strip-items">
          ${items.map(
            (item) => html`<li class="batch-strip-${item.outcome}">
              <span class="mono">${item.tuid}</span> <span class="batch-strip-outcome">${outcome(item)}</span>
            </li>`,
          )}
        </ol>`
      : nothing}
  </div>`;
}
