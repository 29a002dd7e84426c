import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SITE_PATH, loadSite, parseSite, SiteError } from './index.ts';
import jining from './jining-innovation-valley.json' with { type: 'json' };

const clone = (): Record<string, any> => JSON.parse(JSON.stringify(jining));

describe('the bundled Jining Innovation Valley site', () => {
  const site = loadSite();
  it('has 600 bays in zones, entry and exit gates', () => {
    expect(site.bays).toHaveLength(600);
    expect(site.zones.length).toBeGreaterThan(1);
    expect(site.gates.some((g) => g.direction === 'entry')).toBe(true);
    expect(site.gates.some((g) => g.direction === 'exit')).toBe(true);
    expect(site.bay('B-001')).toEqual({ id: 'B-001', zone: 'B', index: 0 });
  });
  it('models the Chuangqi B1 power room with two level sensors and duty and standby pumps', () => {
    const room = site.room('b1-power')!;
    expect(room.levels.map((l) => l.id)).toEqual(['L1', 'L2']);
    expect(room.pumps.map((p) => p.role)).toEqual(['duty', 'standby']);
    expect(room.bands.warnMm).toBeLessThan(room.bands.alarmMm);
    expect(room.levels[0]!.staleAfterSec).toBe(30);
  });
  it('has the gym, fitness plaza and culture plaza with their areas', () => {
    expect(site.venues.map((v) => [v.id, v.areaM2])).toEqual([
      ['gym', 220],
      ['fitness-plaza', 150],
      ['culture-plaza', 10000],
    ]);
    expect(site.device('gym-counter')?.kind).toBe('venue');
  });
});

describe('a bad site file stops start-up with a message naming the field', () => {
  it.each([
    ['a bay id with a space', (s: Record<string, any>) => (s.parking.zones[1].bays = ['B 1']), /parking\.zones\[1\]\.bays/],
    ['a missing capacity', (s: Record<string, any>) => delete s.venues[2].capacity, /venues\[2\]\.capacity/],
    ['an unknown time zone', (s: Record<string, any>) => (s.timezone = 'Mars/Olympus'), /timezone: must be an IANA time zone/],
    ['bands out of order', (s: Record<string, any>) => (s.flood.rooms[0].bands.alarmMm = 100), /flood\.rooms\[0\]\.bands: thresholds must rise/],
    ['a pump stopping above its start', (s: Record<string, any>) => (s.flood.rooms[0].pumps[0].stopMm = 900), /flood\.rooms\[0\]\.pumps\[0\]: stopMm/],
    ['a duplicate id', (s: Record<string, any>) => (s.venues[0].id = 'L1'), /venues\[0\]: id "L1" is already used by flood\.rooms\[0\]\.levels\[0\]/],
  ])('%s', (_name, mutate, message) => {
    const s = clone();
    mutate(s);
    expect(() => parseSite(s)).toThrow(SiteError);
    expect(() => parseSite(s)).toThrow(message);
  });
  it('names the file when it is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'site-'));
    writeFileSync(join(dir, 'site.json'), '{ "id": ');
    expect(() => loadSite(join(dir, 'site.json'))).toThrow(/site file .*site\.json is not valid JSON/);
    expect(() => loadSite(join(dir, 'missing.json'))).toThrow(/cannot read site file .*missing\.json: ENOENT/);
  });
  it('the default path is the bundled file', () => {
    expect(DEFAULT_SITE_PATH).toMatch(/jining-innovation-valley\.json$/);
  });
});

describe('Chinese names in the bundled site files', () => {
  /** Every `name`, `text` and `building` in a site file, with whether its Chinese form sits beside it. */
  const missingZh = (v: unknown, path = ''): string[] => {
    if (Array.isArray(v)) return v.flatMap((x, i) => missingZh(x, `${path}[${i}]`));
    if (v === null || typeof v !== 'object') return [];
    const o = v as Record<string, unknown>;
    const out: string[] = [];
    for (const [k, zh] of [['name', 'nameZh'], ['text', 'textZh'], ['building', 'buildingZh']] as const) {
      if (typeof o[k] === 'string' && !(typeof o[zh] === 'string' && /\p{Script=Han}/u.test(o[zh]))) out.push(`${path}.${k}`);
    }
    for (const [k, x] of Object.entries(o)) out.push(...missingZh(x, `${path}.${k}`));
    return out;
  };

  it('gives every name, checklist text and building a Chinese form, and writes messages in Chinese', async () => {
    const modbus = (await import('./jining-innovation-valley-modbus.json', { with: { type: 'json' } })).default;
    for (const file of [jining, modbus]) {
      expect(missingZh(file)).toEqual([]);
      expect(file.language).toBe('zh-CN');
      expect(parseSite(file).language).toBe('zh-CN');
    }
    // The check itself finds a missing one.
    const bad = clone();
    delete bad.flood.rooms[0].pumps[1].nameZh;
    expect(missingZh(bad)).toEqual(['.flood.rooms[0].pumps[1].name']);
  });

  it('defaults to English messages, and refuses a language it cannot write', () => {
    const c = clone();
    delete c.language;
    expect(parseSite(c).language).toBe('en');
    expect(() => parseSite({ ...clone(), language: 'fr' })).toThrow(/language: must be zh-CN or en/);
  });
});
