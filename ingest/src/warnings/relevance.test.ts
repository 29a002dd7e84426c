import { describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { parseCap, type CapAlert } from './cap.ts';
import { inForceAt, judge } from './relevance.ts';
import { buildCap, CALIFORNIA_POLYGON, JINING_POLYGON, sample, type CapOptions, type InfoOptions } from './testing.ts';

const site = loadSite();
const cap = (o: CapOptions): CapAlert => {
  const r = parseCap(buildCap(o));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.alert;
};
const one = (info: InfoOptions, o: CapOptions = {}) => judge(cap({ ...o, infos: [info] }), site);
const HOUR = 3_600_000;

describe('relevance: does a warning area cover the site (35.43 N, 116.66 E)?', () => {
  it('a polygon that contains the site does; one elsewhere does not', () => {
    expect(one({ polygon: JINING_POLYGON }).relevant).toBe(true);
    expect(one({ polygon: CALIFORNIA_POLYGON }).relevant).toBe(false);
  });
  it('a circle around the site does when the radius reaches it', () => {
    // The Jining city centre is about 6 km west of the site.
    expect(one({ circle: '35.41,116.59 10' }).relevant).toBe(true);
    expect(one({ circle: '35.41,116.59 3' }).relevant).toBe(false);
  });
  it('a geocode the site file lists does (valueName without case), another does not', () => {
    expect(one({ geocode: { valueName: 'GB/T 2260', value: '370871' } }).relevant).toBe(true);
    expect(one({ geocode: { valueName: 'gb/t 2260', value: '370800' } }).relevant).toBe(true);
    expect(one({ geocode: { valueName: 'GB/T 2260', value: '370100' } }).relevant).toBe(false);
    expect(one({ geocode: { valueName: 'SAME', value: '370871' } }).relevant).toBe(false);
  });
  it('the spec examples A.2 and A.3 (California) are not relevant; the Jining rainstorm warning is, in both languages', () => {
    for (const f of ['cap12-a2-severe-thunderstorm.xml', 'cap12-a3-earthquake-update.xml']) {
      const r = parseCap(sample(f));
      expect(r.ok && judge(r.alert, site).relevant).toBe(false);
    }
    const r = parseCap(sample('cma-rainstorm-jining.xml'));
    expect(r.ok).toBe(true);
    if (r.ok) expect(judge(r.alert, site)).toMatchObject({ relevant: true, storm: true, covers: [true, true], primary: 0 });
  });
});

describe('storm warnings: rainstorm or flood by category and event name (zh and en) or eventCode', () => {
  it.each([
    ['Rainstorm', true],
    ['Heavy Rain Warning', true],
    ['Flash Flood Warning', true],
    ['暴雨', true],
    ['暴雨橙色预警', true],
    ['洪水', true],
    ['城市内涝', true],
    ['Thunderstorm', false],
    ['大风', false],
    ['高温', false],
  ])('%s: %s', (event, storm) => {
    expect(one({ polygon: JINING_POLYGON, event }).storm).toBe(storm);
  });
  it('a covered storm event of another category (Health) is relevant but not a storm warning', () => {
    expect(one({ polygon: JINING_POLYGON, event: 'Flood-related illness', category: 'Health' })).toMatchObject({ relevant: true, storm: false });
  });
  it('a rainstorm warning elsewhere is not a storm warning for the site', () => {
    expect(one({ polygon: CALIFORNIA_POLYGON, event: 'Rainstorm' })).toMatchObject({ relevant: false, storm: false });
  });
  it('an eventCode the site file lists makes a storm warning whatever the name', () => {
    const withCode = { ...site, cap: { ...site.cap, stormEvents: { ...site.cap.stormEvents, eventCodes: [{ valueName: 'CMA', value: '11B03' }] } } };
    const a = cap({ infos: [{ polygon: JINING_POLYGON, event: 'Warning 11B03', eventCode: { valueName: 'CMA', value: '11B03' } }] });
    expect(judge(a, withCode).storm).toBe(true);
    const b = cap({ infos: [{ polygon: JINING_POLYGON, event: 'Warning', eventCode: { valueName: 'CMA', value: '11B03' } }] });
    expect(judge(b, site).storm).toBe(false);
    expect(judge(b, withCode).storm).toBe(true);
  });
  it('urgency Past, certainty Unlikely and a severity below minSeverity do not make storm mode; Unknown severity does', () => {
    expect(one({ polygon: JINING_POLYGON, urgency: 'Past' }).storm).toBe(false);
    expect(one({ polygon: JINING_POLYGON, certainty: 'Unlikely' }).storm).toBe(false);
    expect(one({ polygon: JINING_POLYGON, severity: 'Unknown' }).storm).toBe(true);
    const strict = { ...site, cap: { ...site.cap, minSeverity: 'Severe' as const } };
    expect(judge(cap({ infos: [{ polygon: JINING_POLYGON, severity: 'Moderate' }] }), strict).storm).toBe(false);
    expect(judge(cap({ infos: [{ polygon: JINING_POLYGON, severity: 'Extreme' }] }), strict).storm).toBe(true);
  });
});

describe('in force: from onset (or effective, or sent) until expires', () => {
  const sent = Date.parse('2026-07-08T05:30:00+08:00');
  it('uses onset and expires', () => {
    const j = one({ polygon: JINING_POLYGON, effective: '2026-07-08T05:30:00+08:00', onset: '2026-07-08T08:00:00+08:00', expires: '2026-07-08T20:00:00+08:00' });
    expect([j.from, j.until]).toEqual([sent + 2.5 * HOUR, sent + 14.5 * HOUR]);
    expect(inForceAt(j, sent + 2.5 * HOUR - 1)).toBe(false);
    expect(inForceAt(j, sent + 2.5 * HOUR)).toBe(true);
    expect(inForceAt(j, sent + 14.5 * HOUR - 1)).toBe(true);
    expect(inForceAt(j, sent + 14.5 * HOUR)).toBe(false);
  });
  it('falls back to effective, then sent; without expires it lasts defaultDurationHours (24)', () => {
    expect(one({ polygon: JINING_POLYGON, effective: '2026-07-08T06:00:00+08:00' }).from).toBe(sent + 0.5 * HOUR);
    const j = one({ polygon: JINING_POLYGON });
    expect([j.from, j.until]).toEqual([sent, sent + 24 * HOUR]);
  });
  it('a superseded warning is not in force', () => {
    const j = one({ polygon: JINING_POLYGON });
    expect(inForceAt({ ...j, supersededBy: 'w-x' }, sent + HOUR)).toBe(false);
  });
  it.each(['Test', 'Exercise', 'System', 'Draft'])('status %s is stored but never in force', (status) => {
    expect(one({ polygon: JINING_POLYGON }, { status })).toMatchObject({ relevant: true, storm: true, from: null, until: null });
  });
  it('a Cancel is never in force itself; an Update is', () => {
    const refs = 'sd-jining@cma.gov.cn,JN-TEST-1,2026-07-08T05:30:00+08:00';
    expect(one({ polygon: JINING_POLYGON }, { msgType: 'Cancel', identifier: 'C', references: refs }).from).toBeNull();
    expect(one({ polygon: JINING_POLYGON }, { msgType: 'Update', identifier: 'U', references: refs }).from).toBe(sent);
  });
  it('a warning that does not cover the site is never in force for it', () => {
    expect(one({ polygon: CALIFORNIA_POLYGON }).from).toBeNull();
  });
  it('the window of a storm warning is that of its storm blocks', () => {
    const j = judge(
      cap({
        infos: [
          { polygon: JINING_POLYGON, event: 'Thunderstorm', onset: '2026-07-08T06:00:00+08:00', expires: '2026-07-09T06:00:00+08:00' },
          { polygon: JINING_POLYGON, event: 'Rainstorm', onset: '2026-07-08T08:00:00+08:00', expires: '2026-07-08T12:00:00+08:00' },
        ],
      }),
      site,
    );
    expect(j).toMatchObject({ storm: true, primary: 1, from: sent + 2.5 * HOUR, until: sent + 6.5 * HOUR });
  });
});
