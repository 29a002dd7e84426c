import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CAP_BYTES } from '@parkops/contract/cap.ts';
import { describeProblems, parseCap, parseCapTime, type CapAlert } from './cap.ts';
import { buildCap, JINING_POLYGON, sample } from './testing.ts';

function ok(xml: string | Uint8Array): CapAlert {
  const r = parseCap(xml);
  if (!r.ok) throw new Error(describeProblems(r.problems));
  return r.alert;
}
function refused(xml: string | Uint8Array): string {
  const r = parseCap(xml);
  if (r.ok) throw new Error('accepted, expected a refusal');
  return describeProblems(r.problems);
}

describe('CAP 1.2 samples shaped like the specification examples', () => {
  it('reads Appendix A.2 (severe thunderstorm warning): polygon, geocodes, eventCode, expires', () => {
    const a = ok(sample('cap12-a2-severe-thunderstorm.xml'));
    expect(a).toMatchObject({ identifier: 'KSTO1055887203', sender: 'KSTO@NWS.NOAA.GOV', status: 'Actual', msgType: 'Alert', scope: 'Public', references: [] });
    expect(a.sent).toBe(Date.parse('2003-06-17T21:57:00Z'));
    const info = a.infos[0]!;
    expect(info).toMatchObject({ language: 'en-US', categories: ['Met'], event: 'SEVERE THUNDERSTORM', urgency: 'Immediate', severity: 'Severe', certainty: 'Observed', responseTypes: ['Shelter'] });
    expect(info.expires).toBe(Date.parse('2003-06-17T23:00:00Z'));
    expect(info.eventCodes).toEqual([{ valueName: 'SAME', value: 'SVR' }]);
    expect(info.areas[0]!.polygons[0]).toHaveLength(5);
    expect(info.areas[0]!.polygons[0]![0]).toEqual([38.47, -120.14]);
    expect(info.areas[0]!.geocodes.map((g) => g.value)).toEqual(['006109', '006009', '006003']);
  });

  it('reads Appendix A.3 (earthquake update): references triple, circle of radius 0, parameters', () => {
    const a = ok(sample('cap12-a3-earthquake-update.xml'));
    expect(a.msgType).toBe('Update');
    expect(a.references).toEqual([{ sender: 'trinet@caltech.edu', identifier: 'TRI13970876.1', sent: '2003-06-11T20:30:00-07:00' }]);
    expect(a.infos[0]!.areas[0]!.circles).toEqual([{ lat: 32.9525, lon: -115.5527, radiusKm: 0 }]);
    expect(a.infos[0]!.parameters).toContainEqual({ valueName: 'Magnitude', value: '3.4 Ml' });
    expect(a.infos[0]!.urgency).toBe('Past');
  });

  it('keeps both info blocks of a Chinese rainstorm warning (zh-CN and en-US)', () => {
    const a = ok(sample('cma-rainstorm-jining.xml'));
    expect(a.infos.map((i) => [i.language, i.event])).toEqual([
      ['zh-CN', '暴雨'],
      ['en-US', 'Rainstorm'],
    ]);
    expect(a.infos[0]!.headline).toBe('济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]');
    expect(a.infos[0]!.onset).toBe(Date.parse('2026-07-08T00:00:00Z'));
    expect(a.infos[1]!.instruction).toMatch(/backflow protection/);
  });

  it('reads a prefixed CAP namespace, skips elements of other namespaces, decodes entities and CDATA', () => {
    const xml = `<cap:alert xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
      <cap:identifier>P-1</cap:identifier><cap:sender>a@b</cap:sender><cap:sent>2026-07-08T05:30:00+08:00</cap:sent>
      <cap:status>Actual</cap:status><cap:msgType>Alert</cap:msgType><cap:scope>Public</cap:scope>
      <cap:info><cap:category>Met</cap:category><cap:event>&#x66B4;&#38632; &amp; flood</cap:event><cap:urgency>Expected</cap:urgency>
      <cap:severity>Minor</cap:severity><cap:certainty>Likely</cap:certainty><cap:description><![CDATA[<50 mm> & more]]></cap:description>
      <cap:area><cap:areaDesc>x</cap:areaDesc></cap:area></cap:info>
      <ds:Signature><ds:SignedInfo>ignored</ds:SignedInfo></ds:Signature></cap:alert>`;
    const a = ok(xml);
    expect(a.infos[0]!.event).toBe('暴雨 & flood');
    expect(a.infos[0]!.description).toBe('<50 mm> & more');
  });

  it('accepts a byte buffer with a UTF-8 byte-order mark', () => {
    const a = ok(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(buildCap())]));
    expect(a.identifier).toBe('JN-TEST-1');
  });
});

describe('bad or foreign CAP is refused, naming the element and the reason', () => {
  const replace = (from: string | RegExp, to: string): string => buildCap().replace(from, to);

  it.each([
    ['not XML at all', 'rainstorm tomorrow', /\(document\): is not well-formed XML: line 1/],
    ['XML that is not closed', '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</alert>', /not well-formed XML: line 1, column \d+/],
    ['an empty body', '', /\(document\): is empty/],
    ['another root element', '<weather><rain/></weather>', /root element is <weather>, not a CAP 1.2 <alert>/],
    ['the wrong namespace', replace('urn:oasis:names:tc:emergency:cap:1.2', 'urn:example:alerts'), /<alert> is in namespace "urn:example:alerts"; CAP 1.2 is urn:oasis/],
    ['no namespace', replace(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', ''), /<alert> is in namespace \(none\)/],
    ['CAP 1.1', replace('cap:1.2', 'cap:1.1'), /is CAP 1\.1 .* ParkOps accepts CAP 1\.2/],
    ['an undeclared prefix', '<x:alert/>', /namespace prefix "x" is not declared/],
    ['a missing identifier', replace(/ {2}<identifier>.*<\/identifier>\n/, ''), /alert\/identifier: is required/],
    ['a missing sender', replace(/ {2}<sender>.*<\/sender>\n/, ''), /alert\/sender: is required/],
    ['a missing scope', replace(/ {2}<scope>.*<\/scope>\n/, ''), /alert\/scope: is required/],
    ['a missing event', replace(/ {4}<event>.*<\/event>\n/, ''), /alert\/info\/event: is required/],
    ['a missing category', replace(/ {4}<category>.*<\/category>\n/, ''), /alert\/info\/category: at least one is required/],
    ['a missing severity', replace(/ {4}<severity>.*<\/severity>\n/, ''), /alert\/info\/severity: is required/],
    ['a missing areaDesc', replace(/ {6}<areaDesc>.*<\/areaDesc>\n/, ''), /alert\/info\/area\/areaDesc: is required/],
    ['two identifiers', replace('<identifier>JN-TEST-1</identifier>', '<identifier>a</identifier><identifier>b</identifier>'), /alert\/identifier: may occur only once/],
    ['a space in the identifier', replace('JN-TEST-1', 'JN TEST 1'), /alert\/identifier: must not contain spaces, commas/],
    ['a status of another case', replace('<status>Actual</status>', '<status>actual</status>'), /alert\/status: "actual" is not one of Actual, Exercise, System, Test, Draft/],
    ['an unknown msgType', replace('<msgType>Alert</msgType>', '<msgType>Warning</msgType>'), /alert\/msgType: "Warning" is not one of/],
    ['an unknown category', replace('<category>Met</category>', '<category>Weather</category>'), /alert\/info\/category: "Weather" is not one of Geo, Met/],
    ['a date without offset', replace('2026-07-08T05:30:00+08:00', '2026-07-08T05:30:00'), /alert\/sent: "2026-07-08T05:30:00" has no time zone offset/],
    ['a date that is not a date', replace('2026-07-08T05:30:00+08:00', '8 July 2026 05:30'), /alert\/sent: "8 July 2026 05:30" is not a date-time/],
    ['a month 13', replace('2026-07-08T05:30:00+08:00', '2026-13-08T05:30:00+08:00'), /alert\/sent: .* is not a calendar date/],
    ['expires before onset', buildCap({ infos: [{ polygon: JINING_POLYGON, onset: '2026-07-08T09:00:00+08:00', expires: '2026-07-08T08:00:00+08:00' }] }), /alert\/info\/expires: is not after the onset/],
    ['an open polygon', buildCap({ infos: [{ polygon: '35.3,116.5 35.3,116.8 35.5,116.8 35.5,116.5' }] }), /alert\/info\/area\/polygon: is not closed: the first point \(35\.3,116\.5\) and the last \(35\.5,116\.5\)/],
    ['a polygon of three points', buildCap({ infos: [{ polygon: '35.3,116.5 35.3,116.8 35.3,116.5' }] }), /polygon: has 3 points; a polygon needs at least 4/],
    ['a polygon with a bad pair', buildCap({ infos: [{ polygon: '35.3;116.5 35.3,116.8 35.5,116.8 35.3;116.5' }] }), /polygon: "35\.3;116\.5" is not a "latitude,longitude" pair/],
    ['a latitude out of range', buildCap({ infos: [{ polygon: '95,116.5 35.3,116.8 35.5,116.8 95,116.5' }] }), /polygon: latitude 95 is outside -90\.\.90/],
    ['a circle without radius', buildCap({ infos: [{ circle: '35.43,116.66' }] }), /area\/circle: "35\.43,116\.66" is not "latitude,longitude radius"/],
    ['a negative radius', buildCap({ infos: [{ circle: '35.43,116.66 -3' }] }), /circle: radius "-3" is not a number of kilometres >= 0/],
    ['a misspelt element', replace('<headline>', '<expries>2026-07-08T20:00:00+08:00</expries><headline>'), /alert\/info\/expries: not an element of a CAP 1\.2 <info>/],
    ['a malformed reference', buildCap({ msgType: 'Cancel', references: 'sd-jining@cma.gov.cn,JN-TEST-1' }), /alert\/references: "sd-jining@cma.gov.cn,JN-TEST-1" is not a "sender,identifier,sent" triple/],
    ['a reference with a bad time', buildCap({ msgType: 'Cancel', references: 'a@b,X,yesterday' }), /alert\/references: in "a@b,X,yesterday": sent "yesterday" is not a date-time/],
    ['a Cancel without references', buildCap({ msgType: 'Cancel' }), /alert\/references: is required for an Cancel/],
    ['a geocode without value', replace('<areaDesc>Jining</areaDesc>', '<areaDesc>Jining</areaDesc><geocode><valueName>GB/T 2260</valueName></geocode>'), /alert\/info\/area\/geocode\/value: is required/],
    ['a ceiling without altitude', replace('<areaDesc>Jining</areaDesc>', '<areaDesc>Jining</areaDesc><ceiling>100</ceiling>'), /area\/ceiling: may only be given with an altitude/],
    ['an empty event', replace(/<event>.*<\/event>/, '<event> </event>'), /alert\/info\/event: is empty/],
    ['a bad language tag', buildCap({ infos: [{ polygon: JINING_POLYGON, language: 'zh_CN' }] }), /info\/language: "zh_CN" is not an RFC 3066 language tag/],
    ['a DOCTYPE with entities (XML bomb)', '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><alert>&lol2;</alert>', /DOCTYPE or entity declaration; CAP needs none/],
    ['an external entity', '<!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert>&x;</alert>', /DOCTYPE or entity declaration/],
    ['a declared encoding other than UTF-8', buildCap().replace('encoding="UTF-8"', 'encoding="GB2312"'), /declares encoding "GB2312"; only UTF-8 is accepted/],
    ['an RSS feed posted as a warning', '<rss version="2.0"><channel><item><link>http://127.0.0.1/a.xml</link></item></channel></rss>', /is an RSS feed, not a CAP alert/],
  ])('%s', (_label, xml, reason) => {
    expect(refused(xml)).toMatch(reason);
  });

  it('an info block index is named when there are several', () => {
    const xml = buildCap({ infos: [{ polygon: JINING_POLYGON }, { polygon: JINING_POLYGON, severity: 'Big' }] });
    expect(refused(xml)).toMatch(/alert\/info\[2\]\/severity: "Big" is not one of Extreme, Severe/);
  });

  it('refuses bytes that are not UTF-8, and documents over the size limit', () => {
    expect(refused(Buffer.from([0x3c, 0x61, 0xff, 0xfe, 0x3e]))).toMatch(/\(document\): is not UTF-8 text/);
    const big = buildCap({ infos: [{ polygon: JINING_POLYGON, description: 'x'.repeat(MAX_CAP_BYTES) }] });
    expect(refused(big)).toMatch(new RegExp(`bytes; the limit is ${MAX_CAP_BYTES}`));
  });

  it('names at most five problems in the one-line reason, and says how many more', () => {
    const r = parseCap('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path)).toEqual(['alert/identifier', 'alert/sender', 'alert/sent', 'alert/status', 'alert/msgType', 'alert/scope']);
    expect(describeProblems(r.problems)).toMatch(/; and 1 more$/);
  });

  it('never throws, whatever the bytes (fast-check)', () => {
    const good = buildCap();
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.string({ maxLength: 2000 }), fc.tuple(fc.nat(good.length), fc.string({ maxLength: 20 })).map(([i, s]) => good.slice(0, i) + s + good.slice(i))), (input) => {
        const r = parseCap(input);
        if (!r.ok) {
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) expect(p.reason.length).toBeGreaterThan(0);
          expect(describeProblems(r.problems)).not.toMatch(/could not be read/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('CAP date-times', () => {
  it('take the numeric offset, "-00:00", and (leniently) Z and fractional seconds', () => {
    expect(parseCapTime('2002-05-24T16:49:00-07:00')).toBe(Date.parse('2002-05-24T23:49:00Z'));
    expect(parseCapTime('2002-05-24T16:49:00-00:00')).toBe(Date.parse('2002-05-24T16:49:00Z'));
    expect(parseCapTime('2002-05-24T16:49:00Z')).toBe(Date.parse('2002-05-24T16:49:00Z'));
    expect(parseCapTime('2002-05-24T16:49:00.5+08:00')).toBe(Date.parse('2002-05-24T08:49:00.500Z'));
  });
  it('refuse other shapes with a reason', () => {
    expect(parseCapTime('2002-05-24 16:49:00+08:00')).toMatch(/is not a date-time/);
    expect(parseCapTime('2002-02-30T16:49:00+08:00')).toMatch(/is not a calendar date/);
    expect(parseCapTime('2002-05-24T24:00:00+08:00')).toMatch(/is not a time of day/);
    expect(parseCapTime('2002-05-24T16:49:00+15:00')).toMatch(/offset beyond/);
  });
});
