/**
 * The behaviour suite every TimeSeriesStore passes (STYLE.md: one suite per interface, as MQTT.js
 * `abstract_client.ts`): store-sqlite.test.ts runs it on the embedded SQLite store,
 * store-influx.test.ts on a real influxd started by the harness.
 *
 * Timestamps are fixed in the past (January 2026), so back-fill and bucket boundaries are exact and
 * nothing depends on the wall clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '@parkops/contract/index.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import type { TimeSeriesStore } from '../../ingest/src/store/types.ts';

export interface StoreUnderTest {
  store: TimeSeriesStore;
  /** Resolves when everything written so far is readable (InfluxDB: the outbox has drained). */
  settle(): Promise<void>;
  /** Stops the store and closes its files; `reopen()` starts a new store on the same data. */
  close(): Promise<void>;
  reopen(): Promise<StoreUnderTest>;
}

export const site = loadSite();

const H = 3_600_000;
const M = 60_000;
/** Monday 2026-01-05 00:00 UTC */
const T0 = Date.UTC(2026, 0, 5);
const DAY = 24 * H;

const bay = site.bays[0]!;
const gate = site.gates[0]!;
const room = site.rooms[0]!;
const level = room.levels[0]!;
const pump = room.pumps[0]!;
const venue = site.venues[0]!;

const subjects = {
  bay: `parking/bays/${bay.id}`,
  gate: `parking/gates/${gate.id}`,
  level: `flood/${room.id}/levels/${level.id}`,
  pump: `flood/${room.id}/pumps/${pump.id}`,
  venue: `venues/${venue.id}/counts`,
  status: `devices/${bay.id}/status`,
};

const bayReading = (ts: number, occupied: boolean, battery?: number): Reading => ({ kind: 'bay', subject: subjects.bay, ts, bayId: bay.id, zoneId: bay.zone, occupied, battery });
const levelReading = (ts: number, mm: number): Reading => ({ kind: 'level', subject: subjects.level, ts, roomId: room.id, sensorId: level.id, mm });
const pumpReading = (ts: number, running: boolean, amps?: number): Reading => ({ kind: 'pump', subject: subjects.pump, ts, roomId: room.id, pumpId: pump.id, running, amps });
const scan = (ts: number, event: 'entry' | 'exit', pass: string, gateId = gate.id): Reading => ({ kind: 'gate', subject: `parking/gates/${gateId}`, ts, gateId, event, pass });

const everything = (): Reading[] => [
  bayReading(T0 + 1 * M, true, 87.5),
  bayReading(T0 + 2 * M, false),
  scan(T0 + 3 * M, 'entry', 'QR-0001'),
  levelReading(T0 + 4 * M, 12.25),
  levelReading(T0 + 5 * M, -3),
  pumpReading(T0 + 6 * M, true, 4.5),
  pumpReading(T0 + 7 * M, false),
  { kind: 'venue', subject: subjects.venue, ts: T0 + 8 * M, venueId: venue.id, in: 12, out: 3, occupancy: 9 },
  { kind: 'venue', subject: subjects.venue, ts: T0 + 9 * M, venueId: venue.id, in: 0, out: 0 },
  { kind: 'status', subject: subjects.status, ts: T0 + 10 * M, deviceId: bay.id, online: false },
  { kind: 'status', subject: subjects.status, ts: T0 + 11 * M, deviceId: bay.id, online: true },
];

const all = { from: T0 - 30 * DAY, to: T0 + 30 * DAY };

export function storeSuite(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`TimeSeriesStore behaviour: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const start = async () => (current = await open());
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    it('writes every reading kind and reads it back, oldest first', async () => {
      const s = await start();
      const written = everything();
      for (const r of written) expect(await s.store.write(r)).toBe(true);
      await s.settle();
      for (const subject of Object.values(subjects)) {
        const expected = written.filter((r) => r.subject === subject);
        expect(await s.store.readings(subject, all), subject).toEqual(expected);
      }
      expect(await s.store.counts()).toEqual({ bay: 2, gate: 1, level: 2, pump: 2, venue: 2, status: 2 });
      // The range is [from, to): a reading at `to` is outside, one at `from` inside.
      expect(await s.store.readings(subjects.bay, { from: T0 + 2 * M, to: T0 + 3 * M })).toEqual([written[1]]);
      expect(await s.store.readings(subjects.bay, { from: T0, to: T0 + 2 * M })).toEqual([written[0]]);
      expect(await s.store.readings('parking/bays/no-such-bay', all)).toEqual([]);
    });

    it('stores a redelivered reading (same subject and ts) once', async () => {
      const s = await start();
      const r = levelReading(T0 + H, 40);
      expect(await s.store.write(r)).toBe(true);
      expect(await s.store.write({ ...r })).toBe(false);
      await s.settle();
      expect(await s.store.write({ ...r })).toBe(false);
      // Same ts on another subject is a different reading.
      expect(await s.store.write(pumpReading(T0 + H, true, 1))).toBe(true);
      await s.settle();
      expect(await s.store.readings(subjects.level, all)).toEqual([r]);
      expect((await s.store.counts()).level).toBe(1);
    });

    it('stores back-filled readings older than what it already has', async () => {
      const s = await start();
      const late = levelReading(T0 + 3 * H, 30);
      const earlier = levelReading(T0 + 1 * H, 10);
      const middle = levelReading(T0 + 2 * H, 20);
      expect(await s.store.write(late)).toBe(true);
      await s.settle();
      expect(await s.store.write(earlier)).toBe(true);
      expect(await s.store.write(middle)).toBe(true);
      await s.settle();
      expect(await s.store.readings(subjects.level, all)).toEqual([earlier, middle, late]);
    });

    it('aggregates a series by 15m, 1h and 1d buckets, leaving empty buckets out', async () => {
      const s = await start();
      // 00:05 10, 00:10 20, 00:20 30 | gap 00:30-02:00 | 02:00 100 | next day 01:00 7
      const points: Array<[number, number]> = [
        [T0 + 5 * M, 10],
        [T0 + 10 * M, 20],
        [T0 + 20 * M, 30],
        [T0 + 2 * H, 100],
        [T0 + DAY + H, 7],
      ];
      for (const [ts, mm] of points) await s.store.write(levelReading(ts, mm));
      // Outside the queried range: must not leak into the first or last bucket.
      await s.store.write(levelReading(T0 - 1, 999));
      await s.store.write(levelReading(T0 + 2 * DAY, 999));
      await s.settle();
      const range = { from: T0, to: T0 + 2 * DAY };

      expect(await s.store.series(subjects.level, 'mm', range, 15 * M)).toEqual([
        { t: T0, avg: 15, min: 10, max: 20, last: 20, count: 2 },
        { t: T0 + 15 * M, avg: 30, min: 30, max: 30, last: 30, count: 1 },
        { t: T0 + 2 * H, avg: 100, min: 100, max: 100, last: 100, count: 1 },
        { t: T0 + DAY + H, avg: 7, min: 7, max: 7, last: 7, count: 1 },
      ]);
      expect(await s.store.series(subjects.level, 'mm', range, H)).toEqual([
        { t: T0, avg: 20, min: 10, max: 30, last: 30, count: 3 },
        { t: T0 + 2 * H, avg: 100, min: 100, max: 100, last: 100, count: 1 },
        { t: T0 + DAY + H, avg: 7, min: 7, max: 7, last: 7, count: 1 },
      ]);
      expect(await s.store.series(subjects.level, 'mm', range, DAY)).toEqual([
        { t: T0, avg: 40, min: 10, max: 100, last: 100, count: 4 },
        { t: T0 + DAY, avg: 7, min: 7, max: 7, last: 7, count: 1 },
      ]);
      expect(await s.store.series(subjects.level, 'mm', { from: T0 + 3 * H, to: T0 + DAY }, H)).toEqual([]);
    });

    it('aggregates booleans as a 0..1 share', async () => {
      const s = await start();
      await s.store.write(pumpReading(T0 + 1 * M, true, 5));
      await s.store.write(pumpReading(T0 + 2 * M, false));
      await s.store.write(pumpReading(T0 + 3 * M, true, 7));
      await s.store.write(pumpReading(T0 + 4 * M, false));
      await s.settle();
      const range = { from: T0, to: T0 + H };
      expect(await s.store.series(subjects.pump, 'running', range, H)).toEqual([{ t: T0, avg: 0.5, min: 0, max: 1, last: 0, count: 4 }]);
      // Readings without amps are not zeros.
      expect(await s.store.series(subjects.pump, 'amps', range, H)).toEqual([{ t: T0, avg: 6, min: 5, max: 7, last: 7, count: 2 }]);
      // A field of another kind on this subject has no series.
      expect(await s.store.series(subjects.pump, 'mm', range, H)).toEqual([]);
    });

    it('returns paired sessions overlapping a range, ordered by entry', async () => {
      const s = await start();
      const other = site.gates[1]?.id ?? gate.id;
      const at = (h: number) => T0 + h * H;
      const scans = [
        scan(at(6), 'entry', 'P3'),
        scan(at(7), 'exit', 'P3', other),
        scan(at(8), 'entry', 'P1'),
        scan(at(9), 'entry', 'P2'),
        scan(at(9.5), 'exit', 'NOENTRY', other),
        scan(at(10), 'exit', 'P1', other),
        scan(at(10.5), 'entry', 'P1'), // the same pass again: a second session
        scan(at(11.5), 'entry', 'P4'),
        scan(at(12.5), 'entry', 'P5'),
        scan(at(13), 'exit', 'P4', other),
        scan(at(14), 'exit', 'P5', other),
      ];
      for (const r of scans) await s.store.write(r);
      await s.settle();
      const iso = (ms: number) => new Date(ms).toISOString();
      expect(await s.store.sessions({ from: at(8.5), to: at(12) })).toEqual([
        { pass: 'P1', gateIn: gate.id, entryAt: iso(at(8)), gateOut: other, exitAt: iso(at(10)), minutes: 120 },
        { pass: 'P2', gateIn: gate.id, entryAt: iso(at(9)) },
        { pass: 'P1', gateIn: gate.id, entryAt: iso(at(10.5)) },
        { pass: 'P4', gateIn: gate.id, entryAt: iso(at(11.5)), gateOut: other, exitAt: iso(at(13)), minutes: 90 },
      ]);
      // A session still open a day later is still reported; one closed before the range is not.
      expect((await s.store.sessions({ from: at(30), to: at(31) })).map((x) => x.pass)).toEqual(['P2', 'P1']);
      expect(await s.store.sessions({ from: at(0), to: at(5) })).toEqual([]);
    });

    it('keeps its data across a restart', async () => {
      let s = await start();
      const written = everything();
      for (const r of written) await s.store.write(r);
      await s.settle();
      s = current = await s.reopen();
      expect(await s.store.readings(subjects.level, all)).toEqual(written.filter((r) => r.subject === subjects.level));
      expect(await s.store.counts()).toEqual({ bay: 2, gate: 1, level: 2, pump: 2, venue: 2, status: 2 });
      // Redeliveries after the restart are still recognised.
      expect(await s.store.write(written[3]!)).toBe(false);
      expect(await s.store.write(levelReading(T0 + 2 * H, 1))).toBe(true);
      await s.settle();
      expect((await s.store.counts()).level).toBe(3);
    });
  });
}
