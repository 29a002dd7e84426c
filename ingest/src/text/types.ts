/** What the text renderers need to know: the languages, and names as the site file gives them. */
export const TEXT_LANGS = ['zh-CN', 'en'] as const;
export type TextLang = (typeof TEXT_LANGS)[number];

/** Anything the site file names: English `name`, Chinese `nameZh`. */
export interface Named {
  name: string;
  nameZh?: string | undefined;
}

/** Looks up site names. The server reads the site file; the dashboard the live snapshot. */
export interface NameSource {
  room(id: string): Named | undefined;
  /** A level sensor or pump of a room. */
  device(roomId: string, id: string): Named | undefined;
  zone(id: string): Named | undefined;
  venue(id: string): Named | undefined;
}

/** The name in `lang`: Chinese falls back to English, and both to the id. */
export function nameIn(lang: TextLang, n: Named | undefined, fallback: string): string {
  if (!n) return fallback;
  return lang === 'zh-CN' && n.nameZh ? n.nameZh : n.name;
}

export function isTextLang(v: unknown): v is TextLang {
  return v === 'zh-CN' || v === 'en';
}
