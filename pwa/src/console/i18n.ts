// The console's words: the shared engine (src/i18n/engine.ts) over the console's own catalogues
// (src/console/catalogue/), kept apart so the console loads none of the technician app's words
// and the technician app none of these. The console remembers its language in localStorage.

import { createTranslator, type Language } from '../i18n/engine';
import { en, type MessageKey } from './catalogue/en';
import { fi } from './catalogue/fi';

export type { MessageKey, Language };
export { chooseLanguage } from '../i18n/engine';

const STORAGE_KEY = 'fieldhand.console.language';
const translator = createTranslator<MessageKey>({ en, fi });

export const { t, tMaybe, isKey, currentLanguage, locale } = translator;

/** Return the language this browser chose for the console before, if any. */
export function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** Use this language from now on (and remember it for the next visit when `remember`). */
export function setLanguage(next: Language, remember = false): void {
  translator.setLanguage(next);
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // private mode: the choice lasts for this page only
    }
  }
}
