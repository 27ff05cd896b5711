// The technician app's words: the shared engine (src/i18n/engine.ts) over the app's own
// catalogues (src/ui/catalogue/).

import { createTranslator } from '../i18n/engine';
import { en, type MessageKey } from './catalogue/en';
import { fi } from './catalogue/fi';

export type { MessageKey };
export { chooseLanguage, type Language } from '../i18n/engine';

const translator = createTranslator<MessageKey>({ en, fi });

export const { t, tMaybe, isKey, setLanguage, currentLanguage, locale } = translator;
