/**
 * CAP 1.2 (OASIS Common Alerting Protocol, 2010) parsing and validation: bytes in, exactly one of a
 * typed alert or a list of problems out, each naming the element (an XPath-like path, 1-based) and
 * what is wrong. It never throws, so every input route can answer bad CAP with a reason.
 *
 * Checked, from the standard's data dictionary (section 3.2) and its XML schema:
 * - the root is `<alert>` in the CAP 1.2 namespace (any prefix); other namespaces' elements, such as
 *   an XML signature, are skipped; an element of the CAP namespace that CAP does not define is
 *   refused (a misspelt `<expries>` would otherwise be a warning that never expires);
 * - required elements and how often each may occur; enumerated values, case-sensitive;
 * - identifier and sender without spaces, commas, `<` or `&` (3.2.1);
 * - date-times with a zone offset (3.3.2). Two leniencies, on purpose: `Z` for UTC and fractional
 *   seconds, which the standard's pattern does not allow but which mean exactly one instant; a
 *   rainstorm warning refused over that detail would help no one. A time without a zone is refused;
 * - references as whitespace-separated `sender,identifier,sent` triples; an Update or Cancel must
 *   have them (without, it would change nothing and say so to no one);
 * - polygon: at least 4 `lat,lon` pairs (WGS 84), the first and last equal; circle: `lat,lon radius`
 *   with the radius in km; altitude and ceiling numbers, ceiling only with altitude.
 *
 * Safety: the document is at most MAX_CAP_BYTES of UTF-8; a DOCTYPE is refused before parsing (CAP
 * needs none, and DTD entity expansion is how "billion laughs" XML bombs work), so no entity other
 * than XML's five predefined ones and character references is ever expanded, and nothing is fetched.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  CAP_CATEGORIES,
  CAP_CERTAINTIES,
  CAP_MSG_TYPES,
  CAP_NAMESPACE,
  CAP_OLD_NAMESPACES,
  CAP_RESPONSE_TYPES,
  CAP_SCOPES,
  CAP_SEVERITIES,
  CAP_STATUS,
  CAP_URGENCIES,
  MAX_CAP_BYTES,
  type CapCategory,
  type CapCertainty,
  type CapMsgType,
  type CapNamedValue,
  type CapScope,
  type CapSeverity,
  type CapStatus,
  type CapUrgency,
} from '@parkops/contract/cap.ts';

export interface CapReference {
  sender: string;
  identifier: string;
  /** as written in the reference */
  sent: string;
}
export interface CapCircle {
  lat: number;
  lon: number;
  radiusKm: number;
}
/** [lat, lon] pairs, closed (first equals last). */
export type CapPolygon = Array<[number, number]>;

export interface CapArea {
  areaDesc: string;
  polygons: CapPolygon[];
  circles: CapCircle[];
  geocodes: CapNamedValue[];
  altitude?: number;
  ceiling?: number;
}

export interface CapInfo {
  language: string;
  categories: CapCategory[];
  event: string;
  responseTypes: string[];
  urgency: CapUrgency;
  severity: CapSeverity;
  certainty: CapCertainty;
  audience?: string;
  eventCodes: CapNamedValue[];
  /** epoch ms */
  effective?: number;
  onset?: number;
  expires?: number;
  senderName?: string;
  headline?: string;
  description?: string;
  instruction?: string;
  web?: string;
  contact?: string;
  parameters: CapNamedValue[];
  areas: CapArea[];
}

export interface CapAlert {
  identifier: string;
  sender: string;
  /** epoch ms */
  sent: number;
  status: CapStatus;
  msgType: CapMsgType;
  source?: string;
  scope: CapScope;
  restriction?: string;
  addresses?: string;
  codes: string[];
  note?: string;
  references: CapReference[];
  incidents?: string;
  infos: CapInfo[];
}

export interface CapProblem {
  /** e.g. `alert/info[2]/area[1]/polygon[1]`; `(document)` for problems with the bytes or the XML itself */
  path: string;
  reason: string;
}

/** What the input is: a CAP alert, or (for the feed poller) a feed that links to CAP alerts. */
export type CapParseResult =
  | { ok: true; alert: CapAlert }
  | { ok: false; problems: CapProblem[]; feed?: FeedLinks };

/** RSS 2.0 `item/link` or Atom `entry/link@href` URLs, in document order. */
export interface FeedLinks {
  kind: 'rss' | 'atom';
  links: string[];
}

/** The problems as one line for an HTTP 400 or a park/rejected notice. */
export function describeProblems(problems: readonly CapProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.reason}`);
  if (problems.length > 5) shown.push(`and ${problems.length - 5} more`);
  return `not valid CAP 1.2: ${shown.join('; ')}`;
}

// ------------------------------------------------------------------------------------------------
// XML to a namespace-resolved element tree

interface RawNode {
  name: string;
  attrs: Record<string, string>;
  children: RawNode[];
  text: string;
}
interface Element {
  uri: string | null;
  local: string;
  /** prefix:local as written */
  qname: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // Also decodes character references (&#x66B4;): fast-xml-parser ties them to this switch. The
  // HTML names it adds (&nbsp;) are harmless; DTD entities never get here (refused above).
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toRaw(nodes: OrderedNode[]): { elements: RawNode[]; text: string } {
  const elements: RawNode[] = [];
  let text = '';
  for (const node of nodes) {
    for (const key of Object.keys(node)) {
      if (key === ':@') continue;
      if (key === '#text') {
        text += String(node[key]);
        continue;
      }
      const inner = toRaw((node[key] as OrderedNode[] | undefined) ?? []);
      elements.push({ name: key, attrs: node[':@'] ?? {}, children: inner.elements, text: inner.text });
    }
  }
  return { elements, text };
}

class NamespaceError extends Error {}

function resolve(node: RawNode, scope: ReadonlyMap<string, string>): Element {
  let inScope = scope;
  for (const [k, v] of Object.entries(node.attrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (inScope === scope) inScope = new Map(scope);
      (inScope as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), v);
    }
  }
  const colon = node.name.indexOf(':');
  const prefix = colon < 0 ? '' : node.name.slice(0, colon);
  const local = colon < 0 ? node.name : node.name.slice(colon + 1);
  const uri = inScope.get(prefix);
  if (uri === undefined && prefix !== '') throw new NamespaceError(`<${node.name}>: the namespace prefix "${prefix}" is not declared`);
  return { uri: uri === undefined || uri === '' ? null : uri, local, qname: node.name, attrs: node.attrs, text: node.text, children: node.children.map((c) => resolve(c, inScope)) };
}

// ------------------------------------------------------------------------------------------------
// Checks

/** Problems found while reading; stops counting at 20 (a garbage document need not list all). */
class Problems {
  readonly list: CapProblem[] = [];
  add(path: string, reason: string): void {
    if (this.list.length < 20) this.list.push({ path, reason });
  }
}

const CAP_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

/** A CAP date-time (3.3.2) to epoch ms, or a reason. */
export function parseCapTime(s: string): number | string {
  const m = CAP_TIME.exec(s);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?$/.test(s)) return `"${s.slice(0, 40)}" has no time zone offset; write it like 2026-07-01T08:00:00+08:00`;
    return `"${s.slice(0, 40)}" is not a date-time like 2026-07-01T08:00:00+08:00`;
  }
  const [, y, mo, d, h, mi, sec, , , sign, oh, om] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(sec);
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return `"${s}" is not a calendar date`;
  if (hour > 23 || minute > 59 || second > 59) return `"${s}" is not a time of day`;
  if (sign !== undefined && (Number(oh) > 14 || Number(om) > 59)) return `"${s}" has an offset beyond ±14:00`;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : `"${s}" is not a valid date-time`;
}

type Spec = { min: number; max: number };
const ONE: Spec = { min: 1, max: 1 };
const OPT: Spec = { min: 0, max: 1 };
const MANY: Spec = { min: 0, max: Infinity };
const SOME: Spec = { min: 1, max: Infinity };

const ALERT_CHILDREN: Record<string, Spec> = {
  identifier: ONE, sender: ONE, sent: ONE, status: ONE, msgType: ONE, source: OPT, scope: ONE, restriction: OPT,
  addresses: OPT, code: MANY, note: OPT, references: OPT, incidents: OPT, info: MANY,
};
const INFO_CHILDREN: Record<string, Spec> = {
  language: OPT, category: SOME, event: ONE, responseType: MANY, urgency: ONE, severity: ONE, certainty: ONE, audience: OPT,
  eventCode: MANY, effective: OPT, onset: OPT, expires: OPT, senderName: OPT, headline: OPT, description: OPT, instruction: OPT,
  web: OPT, contact: OPT, parameter: MANY, resource: MANY, area: MANY,
};
const AREA_CHILDREN: Record<string, Spec> = { areaDesc: ONE, polygon: MANY, circle: MANY, geocode: MANY, altitude: OPT, ceiling: OPT };
const NAMED_VALUE_CHILDREN: Record<string, Spec> = { valueName: ONE, value: ONE };
const RESOURCE_CHILDREN: Record<string, Spec> = { resourceDesc: ONE, mimeType: ONE, size: OPT, uri: OPT, derefUri: OPT, digest: OPT };

/** The CAP children of an element grouped by name, after checking names and counts against the spec. */
function children(el: Element, path: string, spec: Record<string, Spec>, problems: Problems): Map<string, Array<{ el: Element; path: string }>> {
  const out = new Map<string, Array<{ el: Element; path: string }>>();
  for (const c of el.children) {
    // Elements of other namespaces (an XML signature, a sender's extension) are not CAP's business.
    if (c.uri !== CAP_NAMESPACE) continue;
    if (!Object.hasOwn(spec, c.local)) {
      problems.add(`${path}/${c.local}`, `not an element of a CAP 1.2 <${el.local}>`);
      continue;
    }
    const list = out.get(c.local) ?? [];
    list.push({ el: c, path: `${path}/${c.local}` });
    out.set(c.local, list);
  }
  for (const [name, s] of Object.entries(spec)) {
    const n = out.get(name)?.length ?? 0;
    if (n < s.min) problems.add(`${path}/${name}`, s.min === 1 && s.max === 1 ? 'is required' : 'at least one is required');
    if (n > s.max) problems.add(`${path}/${name}`, `may occur only once (found ${n})`);
  }
  // Index repeated elements XPath-style, 1-based, when there is more than one.
  for (const list of out.values()) if (list.length > 1) list.forEach((x, i) => (x.path = `${x.path}[${i + 1}]`));
  return out;
}

function text(item: { el: Element; path: string } | undefined, problems: Problems): string | undefined {
  if (!item) return undefined;
  if (item.el.children.some((c) => c.uri === CAP_NAMESPACE)) {
    problems.add(item.path, 'must be text, not elements');
    return undefined;
  }
  const t = item.el.text.trim();
  if (t === '') {
    problems.add(item.path, 'is empty');
    return undefined;
  }
  return t;
}

function enumValue<T extends string>(item: { el: Element; path: string } | undefined, allowed: readonly T[], problems: Problems): T | undefined {
  const t = text(item, problems);
  if (t === undefined || item === undefined) return undefined;
  if ((allowed as readonly string[]).includes(t)) return t as T;
  problems.add(item.path, `"${t.slice(0, 40)}" is not one of ${allowed.join(', ')}`);
  return undefined;
}

function timeValue(item: { el: Element; path: string } | undefined, problems: Problems): number | undefined {
  const t = text(item, problems);
  if (t === undefined || item === undefined) return undefined;
  const ms = parseCapTime(t);
  if (typeof ms === 'string') {
    problems.add(item.path, ms);
    return undefined;
  }
  return ms;
}

const RESTRICTED = /[\s,<&]/;
function tokenValue(item: { el: Element; path: string } | undefined, problems: Problems): string | undefined {
  const t = text(item, problems);
  if (t === undefined || item === undefined) return undefined;
  if (RESTRICTED.test(t)) {
    problems.add(item.path, 'must not contain spaces, commas, "<" or "&" (CAP 1.2 section 3.2.1)');
    return undefined;
  }
  return t;
}

function namedValue(item: { el: Element; path: string }, problems: Problems): CapNamedValue | undefined {
  const c = children(item.el, item.path, NAMED_VALUE_CHILDREN, problems);
  const valueName = text(c.get('valueName')?.[0], problems);
  const value = text(c.get('value')?.[0], problems);
  return valueName !== undefined && value !== undefined ? { valueName, value } : undefined;
}

function numberValue(item: { el: Element; path: string } | undefined, problems: Problems): number | undefined {
  const t = text(item, problems);
  if (t === undefined || item === undefined) return undefined;
  const n = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(n)) {
    problems.add(item.path, `"${t.slice(0, 40)}" is not a number`);
    return undefined;
  }
  return n;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** "lat,lon" in WGS 84, or a reason. */
function point(s: string): [number, number] | string {
  const parts = s.split(',');
  if (parts.length !== 2 || !DECIMAL.test(parts[0]!) || !DECIMAL.test(parts[1]!)) return `"${s.slice(0, 40)}" is not a "latitude,longitude" pair`;
  const lat = Number(parts[0]), lon = Number(parts[1]);
  if (lat < -90 || lat > 90) return `latitude ${lat} is outside -90..90`;
  if (lon < -180 || lon > 180) return `longitude ${lon} is outside -180..180`;
  return [lat, lon];
}

function polygon(t: string, path: string, problems: Problems): CapPolygon | undefined {
  const pairs = t.split(/\s+/);
  const pts: CapPolygon = [];
  for (const p of pairs) {
    const pt = point(p);
    if (typeof pt === 'string') {
      problems.add(path, pt);
      return undefined;
    }
    pts.push(pt);
  }
  if (pts.length < 4) {
    problems.add(path, `has ${pts.length} point${pts.length === 1 ? '' : 's'}; a polygon needs at least 4 "lat,lon" pairs, the first and last the same`);
    return undefined;
  }
  const [a, z] = [pts[0]!, pts[pts.length - 1]!];
  if (a[0] !== z[0] || a[1] !== z[1]) {
    problems.add(path, `is not closed: the first point (${a.join(',')}) and the last (${z.join(',')}) must be the same`);
    return undefined;
  }
  return pts;
}

function circle(t: string, path: string, problems: Problems): CapCircle | undefined {
  const parts = t.split(/\s+/);
  if (parts.length !== 2) {
    problems.add(path, `"${t.slice(0, 60)}" is not "latitude,longitude radius" (radius in km)`);
    return undefined;
  }
  const pt = point(parts[0]!);
  if (typeof pt === 'string') {
    problems.add(path, pt);
    return undefined;
  }
  const r = DECIMAL.test(parts[1]!) ? Number(parts[1]) : NaN;
  if (!(r >= 0)) {
    problems.add(path, `radius "${parts[1]!.slice(0, 20)}" is not a number of kilometres >= 0`);
    return undefined;
  }
  return { lat: pt[0], lon: pt[1], radiusKm: r };
}

function references(item: { el: Element; path: string } | undefined, problems: Problems): CapReference[] {
  const t = text(item, problems);
  if (t === undefined || item === undefined) return [];
  const out: CapReference[] = [];
  for (const triple of t.split(/\s+/)) {
    const parts = triple.split(',');
    if (parts.length !== 3 || parts.some((p) => p === '')) {
      problems.add(item.path, `"${triple.slice(0, 80)}" is not a "sender,identifier,sent" triple`);
      continue;
    }
    const [sender, identifier, sent] = parts as [string, string, string];
    const ms = parseCapTime(sent);
    if (typeof ms === 'string') {
      problems.add(item.path, `in "${triple.slice(0, 80)}": sent ${ms}`);
      continue;
    }
    out.push({ sender, identifier, sent });
  }
  return out;
}

function area(item: { el: Element; path: string }, problems: Problems): CapArea {
  const c = children(item.el, item.path, AREA_CHILDREN, problems);
  const polygons: CapPolygon[] = [];
  for (const p of c.get('polygon') ?? []) {
    const t = text(p, problems);
    const poly = t === undefined ? undefined : polygon(t, p.path, problems);
    if (poly) polygons.push(poly);
  }
  const circles: CapCircle[] = [];
  for (const p of c.get('circle') ?? []) {
    const t = text(p, problems);
    const circ = t === undefined ? undefined : circle(t, p.path, problems);
    if (circ) circles.push(circ);
  }
  const geocodes = (c.get('geocode') ?? []).map((g) => namedValue(g, problems)).filter((g): g is CapNamedValue => g !== undefined);
  const altitude = numberValue(c.get('altitude')?.[0], problems);
  const ceiling = numberValue(c.get('ceiling')?.[0], problems);
  if (c.has('ceiling') && !c.has('altitude')) problems.add(`${item.path}/ceiling`, 'may only be given with an altitude');
  return {
    areaDesc: text(c.get('areaDesc')?.[0], problems) ?? '',
    polygons,
    circles,
    geocodes,
    ...(altitude !== undefined ? { altitude } : {}),
    ...(ceiling !== undefined ? { ceiling } : {}),
  };
}

const LANGUAGE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

function info(item: { el: Element; path: string }, problems: Problems): CapInfo {
  const c = children(item.el, item.path, INFO_CHILDREN, problems);
  const opt = (name: string): string | undefined => text(c.get(name)?.[0], problems);
  const language = opt('language') ?? 'en-US';
  if (!LANGUAGE.test(language)) problems.add(`${item.path}/language`, `"${language.slice(0, 40)}" is not an RFC 3066 language tag such as zh-CN or en-US`);
  const categories = (c.get('category') ?? []).map((x) => enumValue(x, CAP_CATEGORIES, problems)).filter((x): x is CapCategory => x !== undefined);
  const responseTypes: string[] = [];
  for (const x of c.get('responseType') ?? []) {
    const r = enumValue(x, CAP_RESPONSE_TYPES, problems);
    if (r !== undefined) responseTypes.push(r);
  }
  for (const r of c.get('resource') ?? []) {
    const rc = children(r.el, r.path, RESOURCE_CHILDREN, problems);
    text(rc.get('resourceDesc')?.[0], problems);
    text(rc.get('mimeType')?.[0], problems);
  }
  const effective = timeValue(c.get('effective')?.[0], problems);
  const onset = timeValue(c.get('onset')?.[0], problems);
  const expires = timeValue(c.get('expires')?.[0], problems);
  const start = onset ?? effective;
  if (start !== undefined && expires !== undefined && expires <= start) problems.add(`${item.path}/expires`, `is not after the ${onset !== undefined ? 'onset' : 'effective time'}`);
  const fields = {
    audience: opt('audience'),
    senderName: opt('senderName'),
    headline: opt('headline'),
    description: opt('description'),
    instruction: opt('instruction'),
    web: opt('web'),
    contact: opt('contact'),
  };
  return {
    language,
    categories,
    event: opt('event') ?? '',
    responseTypes,
    urgency: enumValue(c.get('urgency')?.[0], CAP_URGENCIES, problems) ?? 'Unknown',
    severity: enumValue(c.get('severity')?.[0], CAP_SEVERITIES, problems) ?? 'Unknown',
    certainty: enumValue(c.get('certainty')?.[0], CAP_CERTAINTIES, problems) ?? 'Unknown',
    eventCodes: (c.get('eventCode') ?? []).map((x) => namedValue(x, problems)).filter((x): x is CapNamedValue => x !== undefined),
    ...(effective !== undefined ? { effective } : {}),
    ...(onset !== undefined ? { onset } : {}),
    ...(expires !== undefined ? { expires } : {}),
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    parameters: (c.get('parameter') ?? []).map((x) => namedValue(x, problems)).filter((x): x is CapNamedValue => x !== undefined),
    areas: (c.get('area') ?? []).map((a) => area(a, problems)),
  };
}

function alert(root: Element, problems: Problems): CapAlert | undefined {
  const path = 'alert';
  const c = children(root, path, ALERT_CHILDREN, problems);
  const opt = (name: string): string | undefined => text(c.get(name)?.[0], problems);
  const identifier = tokenValue(c.get('identifier')?.[0], problems);
  const sender = tokenValue(c.get('sender')?.[0], problems);
  const sent = timeValue(c.get('sent')?.[0], problems);
  const status = enumValue(c.get('status')?.[0], CAP_STATUS, problems);
  const msgType = enumValue(c.get('msgType')?.[0], CAP_MSG_TYPES, problems);
  const scope = enumValue(c.get('scope')?.[0], CAP_SCOPES, problems);
  const refs = references(c.get('references')?.[0], problems);
  if ((msgType === 'Update' || msgType === 'Cancel') && !c.has('references')) {
    problems.add(`${path}/references`, `is required for an ${msgType}: it names the message(s) the ${msgType.toLowerCase()} is for`);
  }
  const infos = (c.get('info') ?? []).map((i) => info(i, problems));
  if (problems.list.length > 0 || identifier === undefined || sender === undefined || sent === undefined || status === undefined || msgType === undefined || scope === undefined) {
    return undefined;
  }
  const fields = { source: opt('source'), restriction: opt('restriction'), addresses: opt('addresses'), note: opt('note'), incidents: opt('incidents') };
  return {
    identifier,
    sender,
    sent,
    status,
    msgType,
    scope,
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    codes: (c.get('code') ?? []).map((x) => text(x, problems)).filter((x): x is string => x !== undefined),
    references: refs,
    infos,
  };
}

const ATOM = 'http://www.w3.org/2005/Atom';

/** Links of an RSS 2.0 or Atom feed (for the feed poller); undefined when the root is neither. */
function feedLinks(root: Element): FeedLinks | undefined {
  if (root.local === 'rss' && root.uri === null) {
    const links: string[] = [];
    for (const channel of root.children.filter((c) => c.local === 'channel' && c.uri === null)) {
      for (const item of channel.children.filter((c) => c.local === 'item' && c.uri === null)) {
        const link = item.children.find((c) => c.local === 'link' && c.uri === null)?.text.trim();
        if (link) links.push(link);
      }
    }
    return { kind: 'rss', links };
  }
  if (root.local === 'feed' && root.uri === ATOM) {
    const links: string[] = [];
    for (const entry of root.children.filter((c) => c.local === 'entry' && c.uri === ATOM)) {
      const ls = entry.children.filter((c) => c.local === 'link' && c.uri === ATOM);
      // Prefer a link typed as CAP, then rel=alternate (Atom's default rel), then the first.
      const pick = ls.find((l) => /cap\+xml/i.test(l.attrs.type ?? '')) ?? ls.find((l) => (l.attrs.rel ?? 'alternate') === 'alternate') ?? ls[0];
      const href = pick?.attrs.href;
      if (href) links.push(href);
    }
    return { kind: 'atom', links };
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses and validates one CAP 1.2 document. Never throws. */
export function parseCap(input: Uint8Array | string): CapParseResult {
  try {
    return parseUnsafe(input);
  } catch (err) {
    // Defence in depth: the parser is written not to throw; if it does, the input is still refused.
    return { ok: false, problems: [{ path: '(document)', reason: `could not be read (${err instanceof Error ? err.name : 'error'})` }] };
  }
}

function parseUnsafe(input: Uint8Array | string): CapParseResult {
  const doc = (reason: string): CapParseResult => ({ ok: false, problems: [{ path: '(document)', reason }] });
  const bytes = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (bytes > MAX_CAP_BYTES) return doc(`${bytes} bytes; the limit is ${MAX_CAP_BYTES}`);
  let xml: string;
  if (typeof input === 'string') xml = input;
  else {
    try {
      xml = utf8.decode(input);
    } catch {
      return doc('is not UTF-8 text');
    }
  }
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  if (xml.trim() === '') return doc('is empty; send a CAP 1.2 <alert> as XML');
  const decl = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/i.exec(xml);
  if (decl && !/^utf-?8$/i.test(decl[1]!)) return doc(`declares encoding "${decl[1]!.slice(0, 20)}"; only UTF-8 is accepted`);
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) return doc('has a DOCTYPE or entity declaration; CAP needs none, and they are refused so no entity is ever expanded');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return doc(`is not well-formed XML: line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);

  let tree: OrderedNode[];
  try {
    tree = parser.parse(xml) as OrderedNode[];
  } catch (err) {
    // The validator let through something the parser cannot read (seen: a processing instruction `<?'xml ...?>`).
    return doc(`is not well-formed XML (${err instanceof Error ? err.message.slice(0, 160) : 'unreadable'})`);
  }
  const raw = toRaw(tree).elements;
  if (raw.length !== 1) return doc(raw.length === 0 ? 'has no root element' : 'has more than one root element');
  let root: Element;
  try {
    root = resolve(raw[0]!, new Map());
  } catch (err) {
    if (err instanceof NamespaceError) return doc(err.message);
    throw err;
  }
  if (root.local !== 'alert' || root.uri !== CAP_NAMESPACE) {
    const feed = feedLinks(root);
    if (feed) return { ok: false, problems: [{ path: '(document)', reason: `is an ${feed.kind === 'rss' ? 'RSS' : 'Atom'} feed, not a CAP alert` }], feed };
    if (root.local === 'alert' && root.uri !== null && CAP_OLD_NAMESPACES[root.uri]) {
      return doc(`is ${CAP_OLD_NAMESPACES[root.uri]} (${root.uri}); ParkOps accepts CAP 1.2 (${CAP_NAMESPACE})`);
    }
    if (root.local === 'alert') return doc(`<alert> is in namespace ${root.uri === null ? '(none)' : `"${root.uri.slice(0, 80)}"`}; CAP 1.2 is ${CAP_NAMESPACE}`);
    return doc(`the root element is <${root.qname.slice(0, 60)}>, not a CAP 1.2 <alert> (${CAP_NAMESPACE})`);
  }
  const problems = new Problems();
  const a = alert(root, problems);
  if (!a) return { ok: false, problems: problems.list.length > 0 ? problems.list : [{ path: 'alert', reason: 'is not a valid CAP alert' }] };
  return { ok: true, alert: a };
}
