// The one translation engine both pages use: each page brings its own catalogues (English
// holds the keys, the others must have every one) and gets back `t` and friends.
// `{name}` placeholders are filled from params.

import type { Language } from '../core/settings';

export type { Language };
export type Params = Record<string, string | number>;

export const LANGUAGES: readonly Language[] = ['en', 'fi'];

/** Pick the language: the user's choice, else the browser's, else English. */
export function chooseLanguage(stored: string | null, browser: readonly string[]): Language {
  if (stored === 'en' || stored === 'fi') return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'fi' || base === 'en') return base;
  }
  return 'en';
}

/** Fill `{name}` placeholders in a text. */
export function fill(text: string, params: Params): string {
  return text.replace(/\{(\w+)\}/g, (_m, name: string) => String(params[name] ?? `{${name}}`));
}

export interface Translator<K extends string> {
  /** Translate a key, filling `{name}` placeholders. */
  t(key: K, params?: Params): string;
  /** Translate a key built at run time, or return the fallback when there is no such key. */
  tMaybe(key: string, params?: Params, fallback?: string): string;
  /** Tell whether a string is a known message key. */
  isKey(key: string): key is K;
  /** Use this language from now on. */
  setLanguage(next: Language): void;
  /** Return the current language. */
  currentLanguage(): Language;
  /** Return the locale for numbers and dates. */
  locale(): string;
}

/** Make a translator over one page's catalogues (`en` holds every key). */
export function createTranslator<K extends string>(catalogues: { en: Record<K, string> } & Record<Language, Record<K, string>>): Translator<K> {
  let language: Language = 'en';
  const isKey = (key: string): key is K => Object.prototype.hasOwnProperty.call(catalogues.en, key);
  const t = (key: K, params: Params = {}): string => fill(catalogues[language][key] ?? catalogues.en[key], params);
  return {
    t,
    tMaybe: (key, params = {}, fallback = key) => (isKey(key) ? t(key, params) : fallback),
    isKey,
    setLanguage(next) {
      language = next;
      if (typeof document !== 'undefined') document.documentElement.lang = next;
    },
    currentLanguage: () => language,
    locale: () => (language === 'fi' ? 'fi-FI' : 'en-GB'),
  };
}
