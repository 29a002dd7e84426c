/** Text for people in zh-CN and English, shared by the server and the dashboard (browser-safe). */
export { AlertText } from './alert-text.ts';
export { LocalTime } from './local-time.ts';
export { TEXT_LANGS, isTextLang, nameIn, type Named, type NameSource, type TextLang } from './types.ts';
