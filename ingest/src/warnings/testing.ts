/**
 * Test helpers: CAP 1.2 documents built like the examples of the CAP 1.2 specification (Appendix A),
 * for the bundled Jining site unless told otherwise. Not used by production code.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));
export const sample = (name: string): string => readFileSync(`${TESTDATA}${name}`, 'utf8');

/** A box around the bundled site (35.43 N, 116.66 E). */
export const JINING_POLYGON = '35.30,116.50 35.30,116.85 35.55,116.85 35.55,116.50 35.30,116.50';
/** The polygon of CAP 1.2 Appendix A.2, in California. */
export const CALIFORNIA_POLYGON = '38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14';

export interface CapOptions {
  identifier?: string;
  sender?: string;
  sent?: string;
  status?: string;
  msgType?: string;
  references?: string;
  infos?: InfoOptions[];
}
export interface InfoOptions {
  language?: string;
  category?: string;
  event?: string;
  urgency?: string;
  severity?: string;
  certainty?: string;
  effective?: string;
  onset?: string;
  expires?: string;
  headline?: string;
  description?: string;
  areaDesc?: string;
  polygon?: string;
  circle?: string;
  geocode?: { valueName: string; value: string };
  eventCode?: { valueName: string; value: string };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const el = (name: string, v: string | undefined, indent = '    '): string => (v === undefined ? '' : `${indent}<${name}>${esc(v)}</${name}>\n`);

function info(o: InfoOptions): string {
  const area =
    `    <area>\n${el('areaDesc', o.areaDesc ?? 'Jining', '      ')}${el('polygon', o.polygon, '      ')}${el('circle', o.circle, '      ')}` +
    (o.geocode ? `      <geocode><valueName>${esc(o.geocode.valueName)}</valueName><value>${esc(o.geocode.value)}</value></geocode>\n` : '') +
    '    </area>\n';
  return (
    '  <info>\n' +
    el('language', o.language) +
    el('category', o.category ?? 'Met') +
    el('event', o.event ?? 'Rainstorm') +
    el('urgency', o.urgency ?? 'Expected') +
    el('severity', o.severity ?? 'Moderate') +
    el('certainty', o.certainty ?? 'Likely') +
    (o.eventCode ? `    <eventCode><valueName>${esc(o.eventCode.valueName)}</valueName><value>${esc(o.eventCode.value)}</value></eventCode>\n` : '') +
    el('effective', o.effective) +
    el('onset', o.onset) +
    el('expires', o.expires) +
    el('headline', o.headline ?? 'Yellow rainstorm warning') +
    el('description', o.description) +
    area +
    '  </info>\n'
  );
}

/** A CAP 1.2 alert; by default an Actual yellow rainstorm warning whose polygon covers the site. */
export function buildCap(o: CapOptions = {}): string {
  const infos = o.infos ?? [{ polygon: JINING_POLYGON }];
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">\n' +
    el('identifier', o.identifier ?? 'JN-TEST-1', '  ') +
    el('sender', o.sender ?? 'sd-jining@cma.gov.cn', '  ') +
    el('sent', o.sent ?? '2026-07-08T05:30:00+08:00', '  ') +
    el('status', o.status ?? 'Actual', '  ') +
    el('msgType', o.msgType ?? 'Alert', '  ') +
    el('scope', 'Public', '  ') +
    el('references', o.references, '  ') +
    infos.map(info).join('') +
    '</alert>\n'
  );
}

/** An ISO time with the site's +08:00 offset, `minutes` after `base` (epoch ms). */
export function at(base: number, minutes: number): string {
  const d = new Date(base + minutes * 60_000 + 8 * 3_600_000);
  return `${d.toISOString().slice(0, 19)}+08:00`;
}
