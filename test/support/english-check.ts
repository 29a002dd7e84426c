/**
 * "No English left on a zh-CN page": the Latin words in a text that are not on a short allow-list of
 * units, ids printed on devices, protocol and brand names. Used by the end-to-end tests on every zh-CN
 * page they visit (`expectNoEnglish`) and by the renderer's unit tests on every zh-CN message.
 *
 * Strict on purpose: a word is allowed only when it is
 * - a unit (mm, A, V, dB ...),
 * - an id as printed on a device or a pass: a few capitals and digits (L1, P2, B-001, PASS-1003), a zone
 *   letter (A), a DevEUI (16 hex digits), or a setting's name (PARKOPS_WEBHOOK_URL),
 * - a protocol, format or product name that has no Chinese form in use (HTTPS, CSV, ParkOps, Node-RED,
 *   DevEUI, LoRaWAN ...),
 * - or passed by the test as data typed in by people (user names, notes).
 */
import type { Page } from 'playwright-core';

export const ALLOWED_WORDS = new Set([
  // units
  'mm', 'cm', 'm', 'km', 'A', 'V', 'mV', 'dB', 'dBm', 'KB', 'MB', 'L', 'RSSI', 'SNR',
  // product, protocol and format names
  'ParkOps', 'Node-RED', 'HTTP', 'HTTPS', 'API', 'CSV', 'JSON', 'PDF', 'MQTT', 'DevEUI', 'LoRaWAN', 'ChirpStack', 'Modbus', 'TCP',
  'VAPID', 'Web', 'Push', 'iPhone', 'iPad', 'iOS', 'Android', 'Chrome', 'CAP', 'Things', 'Stack',
  // the language selector names each language in itself
  'English',
]);

/**
 * Ids as printed on devices and passes (L1, P2, B-001, PASS-1003), a zone letter, a DevEUI, and the
 * names of settings an administrator types exactly as written (PARKOPS_WEBHOOK_URL).
 */
const ID = /^(?:[A-Z]{1,5}-?\d{1,6}|[A-Z]|[0-9A-F]{16}|PARKOPS_[A-Z0-9_]+)$/;

/** Latin words: a letter, then letters, digits and _, joined by - . or ' (so "Node-RED" and "zhang.wei" are one word). */
const WORD = /[A-Za-z][A-Za-z0-9_]*(?:[-.'][A-Za-z0-9_]+)*/g;

/** The Latin words of `text` that are neither allowed nor in `extra`. */
export function englishWords(text: string, extra: Iterable<string> = []): string[] {
  const more = new Set(extra);
  const out: string[] = [];
  for (const m of text.matchAll(WORD)) {
    const w = m[0];
    if (ALLOWED_WORDS.has(w) || ID.test(w) || more.has(w)) continue;
    out.push(w);
  }
  return out;
}

/**
 * Every piece of text a person sees or hears on the page now: visible text nodes, placeholders,
 * titles, aria-labels, alt texts, the options of selects, and the document title. Browser-side code is
 * a string: the test project is compiled without the DOM library.
 */
export async function pageTexts(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const out = [document.title];
    const visible = (el) => el && (typeof el.checkVisibility !== 'function' || el.checkVisibility({ visibilityProperty: true, opacityProperty: false }));
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest('script, style, noscript, template')) continue;
      // SvelteKit's route announcer holds the title it read out at the last navigation; after a switch of
      // language in place it still holds the old one until the next (document.title itself is checked).
      if (el.closest('#svelte-announcer')) continue;
      // The options of a closed select are not rendered but are what a tap shows.
      if (!el.closest('option') && !visible(el)) continue;
      const t = n.textContent.trim();
      if (t) out.push(t);
    }
    for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
      if (!visible(el) && !el.closest('.sr-only')) continue;
      for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
        const v = el.getAttribute(a);
        if (v && v.trim()) out.push(v.trim());
      }
    }
    return out;
  })()`);
}

/** Fails, naming each English word and where it stands, when the page shows English a zh-CN reader would meet. */
export async function expectNoEnglish(page: Page, what: string, extra: Iterable<string> = []): Promise<void> {
  const lang = await page.evaluate<string>('document.documentElement.lang');
  if (lang !== 'zh-CN') throw new Error(`${what}: the page is in ${lang}, not zh-CN`);
  const allow = [...extra];
  const found = (await pageTexts(page)).flatMap((t) => englishWords(t, allow).map((w) => `"${w}" in "${t.slice(0, 120)}"`));
  if (found.length > 0) throw new Error(`${what}: English on a zh-CN page (${new URL(page.url()).pathname}):\n  ${[...new Set(found)].join('\n  ')}`);
}
