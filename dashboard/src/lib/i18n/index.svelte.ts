/**
 * The UI language: zh-CN or en, first from the `parkops_lang` cookie, then from the browser's
 * Accept-Language / navigator.languages, switchable at run time. Every string on screen comes
 * from `messages.ts`, so both languages always cover the same keys (checked by a test).
 */
import { MESSAGES, type Lang, type MessageKey } from './messages.ts';

export { LANGS, type Lang, type MessageKey } from './messages.ts';

export const LANG_COOKIE = 'parkops_lang';

/** Pick a supported language from an Accept-Language header or navigator.languages. */
export function pickLang(preferences: readonly string[] | string | null | undefined): Lang {
  const list = typeof preferences === 'string'
    ? preferences.split(',').map((p) => p.split(';')[0]!.trim())
    : preferences ?? [];
  for (const p of list) {
    const l = p.toLowerCase();
    if (l.startsWith('zh')) return 'zh-CN';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

export function translate(lang: Lang, key: MessageKey, params?: Record<string, string | number>): string {
  const text: string = MESSAGES[lang][key] ?? MESSAGES.en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

class I18n {
  lang = $state<Lang>('en');
  /** Bound so it can be passed around as a plain function. */
  t = (key: MessageKey, params?: Record<string, string | number>): string => translate(this.lang, key, params);

  set(lang: Lang): void {
    this.lang = lang;
    if (typeof document !== 'undefined') {
      document.documentElement.lang = lang;
      document.cookie = `${LANG_COOKIE}=${lang}; path=/; max-age=31536000; samesite=lax`;
    }
  }
}

export const i18n = new I18n();
