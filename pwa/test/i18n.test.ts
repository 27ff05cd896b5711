import { describe, expect, it } from 'vitest';
import { chooseLanguage, createTranslator, fill } from '../src/i18n/engine';
import { en as appEn } from '../src/ui/catalogue/en';
import { fi as appFi } from '../src/ui/catalogue/fi';
import { en as consoleEn } from '../src/console/catalogue/en';
import { fi as consoleFi } from '../src/console/catalogue/fi';

describe('the translation engine', () => {
  const tr = createTranslator<'hello' | 'bye'>({ en: { hello: 'Hello {name}', bye: 'Bye' }, fi: { hello: 'Hei {name}', bye: '' } });

  it('translates into the chosen language and fills placeholders', () => {
    tr.setLanguage('en');
    expect(tr.t('hello', { name: 'Ari' })).toBe('Hello Ari');
    tr.setLanguage('fi');
    expect(tr.currentLanguage()).toBe('fi');
    expect(tr.t('hello', { name: 'Ari' })).toBe('Hei Ari');
    expect(tr.locale()).toBe('fi-FI');
  });

  it('leaves a placeholder without a value visible', () => {
    expect(fill('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it('tells keys from other strings, and falls back for unknown ones', () => {
    expect(tr.isKey('hello')).toBe(true);
    expect(tr.isKey('toString')).toBe(false);
    expect(tr.tMaybe('nope', {}, 'fallback')).toBe('fallback');
    expect(tr.tMaybe('nope')).toBe('nope');
  });

  it('chooses the stored language, else the browser’s, else English', () => {
    expect(chooseLanguage('fi', ['en-US'])).toBe('fi');
    expect(chooseLanguage(null, ['sv-SE', 'fi-FI'])).toBe('fi');
    expect(chooseLanguage('de', ['de-DE'])).toBe('en');
  });
});

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
}

describe.each([
  ['technician app', appEn as Record<string, string>, appFi as Record<string, string>],
  ['console', consoleEn as Record<string, string>, consoleFi as Record<string, string>],
])('the %s catalogues', (_name, en, fi) => {
  it('have the same keys', () => {
    expect(Object.keys(fi).sort()).toEqual(Object.keys(en).sort());
  });

  it('use the same placeholders in each language', () => {
    const differ = Object.keys(en).filter((key) => JSON.stringify([...new Set(placeholders(en[key]!))]) !== JSON.stringify([...new Set(placeholders(fi[key] ?? ''))]));
    expect(differ).toEqual([]);
  });

  it('leave no Finnish text empty', () => {
    expect(Object.keys(fi).filter((key) => !fi[key]!.trim())).toEqual([]);
  });
});
