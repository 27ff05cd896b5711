// Errors in the technician's words: every failure the phone shows (server answers, platform
// refusals, an operation's error) is read by its code into a translated sentence that says what
// happened and what to do next; the raw server or platform text is kept, but only under
// "Details", for a supervisor or support.

import { html, nothing, type TemplateResult } from 'lit-html';
import { ApiError, NetworkError } from '../core/api';
import { t, tMaybe } from './i18n';

export interface Explained {
  /** The translated sentence: what happened and what to do. */
  text: string;
  /** The server's or platform's own words, when there are any. */
  raw: string | null;
}

/** Explain an error code (with the raw message beside it) in the user's language. */
export function explainCode(code: string | null | undefined, raw: string | null | undefined): Explained {
  const text = tMaybe(`err.${code ?? 'unknown'}`, {}, t('err.unknown'));
  return { text, raw: raw?.trim() || null };
}

/** Explain anything thrown by an API call. */
export function explainError(error: unknown): Explained {
  if (error instanceof NetworkError) return { text: t('networkError'), raw: null };
  if (error instanceof ApiError) return explainCode(error.code, error.message);
  return { text: t('err.unknown'), raw: error instanceof Error ? error.message : String(error) };
}

/** Render an explained error: the sentence, and the raw text folded under "Details". */
export function explainedView(explained: Explained, cls = 'reason'): TemplateResult {
  return html`<div class=${cls} data-testid="error-explained">
    <p class="explained-text">${explained.text}</p>
    ${explained.raw
      ? html`<details class="explained-details"><summary>${t('errorDetails')}</summary><p class="mono">${explained.raw}</p></details>`
      : nothing}
  </div>`;
}
