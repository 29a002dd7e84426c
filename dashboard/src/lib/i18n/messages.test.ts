import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { en, MESSAGES, zhCN, LANGS } from './messages.ts';
import { pickLang, translate } from './index.svelte.ts';

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(svelte|ts)$/.test(f) && !f.endsWith('.test.ts') ? [p] : [];
  });
}

describe('messages', () => {
  it('has every key in both languages, none empty', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    for (const lang of LANGS) for (const [k, v] of Object.entries(MESSAGES[lang])) expect(v.trim(), `${lang} ${k}`).not.toBe('');
  });

  it('uses the same placeholders in both languages', () => {
    for (const k of Object.keys(en) as (keyof typeof en)[]) expect(placeholders(zhCN[k]), k).toEqual(placeholders(en[k]));
  });

  it('knows every literal key the source passes to t()', () => {
    const src = fileURLToPath(new URL('../..', import.meta.url));
    const used = new Set<string>();
    for (const f of sourceFiles(src)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z][\w.-]*)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((k) => !(k in en));
    expect(missing).toEqual([]);
  });

  it('fills placeholders and picks the language from browser preferences', () => {
    expect(translate('en', 'age.minutes', { n: 3 })).toBe('3 min ago');
    expect(translate('zh-CN', 'banner.title', { n: 2 })).toBe('防汛告警：2 条待确认');
    expect(pickLang('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh-CN');
    expect(pickLang('zh-TW')).toBe('zh-CN');
    expect(pickLang(['en-GB', 'zh-CN'])).toBe('en');
    expect(pickLang('fr-FR,de')).toBe('en');
    expect(pickLang(null)).toBe('en');
  });
});
