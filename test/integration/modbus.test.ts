/**
 * Modbus TCP pump panels and level transmitters, end to end: ParkOps started as `npm start` runs it
 * (child process, SQLite, embedded broker) polls two real Modbus TCP servers ParkOps did not write
 * (Debian's python3-pymodbus 3.0, test/harness/modbus.ts). Register changes arrive as readings and
 * alerts; a stopped or frozen server makes its devices stale while the other server's devices keep
 * reporting; the server back on the same port makes them report again, with no restart of ParkOps.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSiteFile } from '../../ingest/src/alerts/testing.ts';
import type { Alert, FloodResponse } from '@parkops/contract/index.ts';
import { startModbusServer, type ModbusServer } from '../harness/modbus.ts';
import { ChildExitedError } from '../harness/ports.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi, type Api } from '../support/api.ts';
import { eventually } from '../support/mqtt.ts';

/** Pumps report every 2 s (heartbeat) and are stale after 6 s; the panels are polled every 200 ms. */
const INTERVAL_SEC = 2;
const POLL_SEC = 0.2;

function siteFile(pumps: ModbusServer, levels: ModbusServer): object {
  const at = (s: ModbusServer, unitId: number) => ({ host: '127.0.0.1', port: s.port, unitId, pollSec: POLL_SEC });
  const pump = { capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: INTERVAL_SEC };
  return testSiteFile({
    bands: { warnMm: 300, alarmMm: 500, criticalMm: 700, floorMm: 900, deadbandMm: 25, holdSec: 1, clearHoldSec: 1 },
    levels: [
      // A radar transmitter: int16 tenths of a mm. L3 sits right behind it on the same unit, so one
      // read would cover both, but its uint32 runs past the server's last register (9999).
      { id: 'L1', name: 'Radar', intervalSec: INTERVAL_SEC, modbus: { ...at(levels, 1), mm: { table: 'holding-register', address: 9998, type: 'int16', scale: 0.1 } } },
      { id: 'L2', name: 'Pressure', intervalSec: INTERVAL_SEC, modbus: { ...at(levels, 2), mm: { table: 'input-register', address: 10, type: 'float32', wordOrder: 'low-first' } } },
      { id: 'L3', name: 'Misconfigured', intervalSec: INTERVAL_SEC, modbus: { ...at(levels, 1), mm: { table: 'holding-register', address: 9999, type: 'uint32' } } },
      // Unit 3 does not exist on that server, which then answers nothing at all, like a gateway whose RS-485 device is gone.
      { id: 'L4', name: 'Dead unit', intervalSec: INTERVAL_SEC, modbus: { ...at(levels, 3), mm: { table: 'holding-register', address: 0 } } },
    ],
    pumps: [
      // One panel: P1's run feedback on a coil, P2's as bit 3 of a status word; both currents in hundredths of an ampere.
      { id: 'P1', name: 'Duty pump', role: 'duty', startMm: 250, stopMm: 80, ...pump, modbus: { ...at(pumps, 1), running: { table: 'coil', address: 0 }, amps: { table: 'holding-register', address: 0, scale: 0.01 } } },
      { id: 'P2', name: 'Standby pump', role: 'standby', startMm: 450, stopMm: 150, ...pump, modbus: { ...at(pumps, 1), running: { table: 'holding-register', address: 5, bit: 3 }, amps: { table: 'holding-register', address: 1, scale: 0.01 } } },
    ],
  });
}

describe('Modbus TCP devices', () => {
  let panel: ModbusServer;
  let transmitters: ModbusServer;
  let sys: ParkOpsProcess;
  let api: Api;
  let dir: string;

  const flood = async () => (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!;
  const pumpView = async (id: string) => (await flood()).pumps.find((p) => p.id === id)!;
  const levelView = async (id: string) => (await flood()).levels.find((l) => l.id === id)!;
  const activeAlerts = async () => (await api.get<Alert[]>('/api/alerts?state=active')).body;
  const openAlert = (rule: string, subject: string) => async () => (await activeAlerts()).find((a) => a.rule === rule && a.subject === subject && a.state !== 'resolved');
  type PumpRow = { ts: number; running: number; amps: number };
  const rows = (sql: string, ...args: unknown[]): PumpRow[] => {
    const db = new Database(join(sys.dataDir, 'parkops.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...args) as PumpRow[];
    } finally {
      db.close();
    }
  };
  const pumpRows = (id: string) => rows(`SELECT r.ts, r.running, r.amps FROM pump_readings r JOIN series s ON s.id = r.series_id WHERE s.subject = ? ORDER BY r.ts`, `flood/b1/pumps/${id}`);
  const peerUp = async (s: ModbusServer): Promise<number | undefined> => {
    const text = (await api.get<string>('/metrics')).body;
    const m = new RegExp(`parkops_modbus_peer_up\\{peer="127\\.0\\.0\\.1:${s.port}"\\} (\\d)`).exec(String(text));
    return m ? Number(m[1]) : undefined;
  };

  beforeAll(async () => {
    [panel, transmitters] = await Promise.all([startModbusServer({ units: [1] }), startModbusServer({ units: [1, 2] })]);
    dir = mkdtempSync(join(tmpdir(), 'parkops-modbus-'));
    const sitePath = join(dir, 'site.json');
    writeFileSync(sitePath, JSON.stringify(siteFile(panel, transmitters)));
    sys = await startParkOps({ env: { PARKOPS_SITE: sitePath, PARKOPS_NODE_RED: 'false', PARKOPS_MODBUS_TIMEOUT_MS: '400', PARKOPS_MODBUS_RETRY_MAX_SEC: '1', LOG_LEVEL: 'info' } });
    api = await adminApi(sys);
  });

  afterAll(async () => {
    await sys?.stop();
    await Promise.all([panel?.close(), transmitters?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns register changes into readings: coil and status-word bit for running, scaled currents, int16 and float32 levels', async () => {
    await panel.set(1, 'co', 0, [true]);
    await panel.set(1, 'hr', 0, [512, 430]); // 5.12 A, 4.30 A: one read of registers 0..1
    await panel.set(1, 'hr', 5, [0b1000]);
    await transmitters.set(1, 'hr', 9998, [1234]); // 123.4 mm
    await transmitters.set(2, 'ir', 10, [0x4000, 0x4316]); // 150.25 as float32 0x43164000, low word first

    await eventually(async () => {
      const [p1, p2] = [await pumpView('P1'), await pumpView('P2')];
      return p1.running === true && p1.amps === 5.12 && p2.running === true && p2.amps === 4.3;
    }, 15_000, 'the pumps as the panel says');
    await eventually(async () => (await levelView('L1')).mm === 123.4 && (await levelView('L2')).mm === 150.25, 15_000, 'the levels');
    expect(await pumpView('P1')).toMatchObject({ running: true, amps: 5.12, stale: false });

    // The same pump stops: the coil change is a reading of its own.
    await panel.set(1, 'co', 0, [false]);
    await panel.set(1, 'hr', 0, [0]);
    await eventually(async () => (await pumpView('P1')).running === false, 15_000, 'P1 stopped');
    expect((await pumpView('P1')).amps).toBe(0);
  });

  it('reads the neighbours of a device whose register the server refuses, and names the refused one', async () => {
    // L1 and L3 would be one read of 9998..10000; the server answers exception 2 for it, so ParkOps
    // reads them one by one: L1 reports, L3 does not, and the log says why.
    await eventually(() => /"device":"L3".*illegal data address/.test(sys.output()), 15_000, 'the L3 problem in the log');
    expect(await levelView('L1')).toMatchObject({ mm: 123.4, stale: false });
    expect((await levelView('L3')).mm).toBeNull();
    expect(await eventually(openAlert('device.stale', 'flood/b1/levels/L3'), 15_000, 'L3 stale')).toMatchObject({ severity: 'warning' });
  });

  it('a unit that never answers silences only its own device, not the other units on the same connection', async () => {
    await eventually(() => /"device":"L4".*unit 3 holding-register 0: no answer within 400 ms/.test(sys.output()), 15_000, 'the L4 problem in the log');
    await eventually(openAlert('device.stale', 'flood/b1/levels/L4'), 15_000, 'L4 stale');
    await transmitters.set(1, 'hr', 9998, [1250]);
    await eventually(async () => (await levelView('L1')).mm === 125, 15_000, 'L1 beside the dead unit');
    expect(await levelView('L2')).toMatchObject({ mm: 150.25, stale: false });
    expect(await peerUp(transmitters)).toBe(1);
  });

  it('opens the level alert when the level registers cross the warning band', async () => {
    await transmitters.set(1, 'hr', 9998, [3500]); // 350.0 mm
    await transmitters.set(2, 'ir', 10, [0x4000, 0x43b4]); // 360.5 mm
    const alert = await eventually(openAlert('flood.level', 'flood/b1/levels'), 20_000, 'the warning band alert');
    expect(alert).toMatchObject({ severity: 'warning', state: 'firing' });
    // The room's level is its highest fresh sensor (docs/alerts.md, "Judging a room").
    expect(alert.value).toBe(360.5);
  });

  it('stores an unchanged pump only as a heartbeat every intervalSec, and every change at once', async () => {
    const before = pumpRows('P2');
    await new Promise((r) => setTimeout(r, 5 * INTERVAL_SEC * 1000));
    const after = pumpRows('P2');
    const window = after.filter((r) => r.ts > before[before.length - 1]!.ts);
    // 50 polls in 10 s, P2 unchanged all along: a heartbeat every 2 s at most.
    expect(window.length).toBeGreaterThanOrEqual(2);
    expect(window.length).toBeLessThanOrEqual(6);
    expect(window.every((r) => r.running === 1 && r.amps === 4.3)).toBe(true);
    const all = [before[before.length - 1]!, ...window];
    for (let i = 1; i < all.length; i++) expect(all[i]!.ts - all[i - 1]!.ts).toBeGreaterThanOrEqual(INTERVAL_SEC * 1000);

    await panel.set(1, 'hr', 1, [455]);
    await eventually(() => pumpRows('P2').some((r) => r.amps === 4.55), 15_000, 'the changed current stored');
  });

  it('a server that stops makes its pumps stale while the other server’s levels keep reporting', async () => {
    await panel.stop();
    const p1 = await eventually(openAlert('device.stale', 'flood/b1/pumps/P1'), 30_000, 'P1 stale');
    expect(p1.message).toContain('pump P1 silent since');
    await eventually(openAlert('device.stale', 'flood/b1/pumps/P2'), 30_000, 'P2 stale');
    expect(await pumpView('P1')).toMatchObject({ stale: true });

    // The transmitters' server is polled as before.
    await transmitters.set(1, 'hr', 9998, [3555]);
    await eventually(async () => (await levelView('L1')).mm === 355.5, 15_000, 'L1 while the panel is down');
    expect(await levelView('L1')).toMatchObject({ stale: false });
    expect(await openAlert('device.stale', 'flood/b1/levels/L1')()).toBeUndefined();
    expect(await peerUp(panel)).toBe(0);
    expect(await peerUp(transmitters)).toBe(1);
  });

  it('the server back on the same port: the pumps report again without a restart (no client stuck in "init")', async () => {
    await panel.start();
    await panel.set(1, 'co', 0, [true]);
    await panel.set(1, 'hr', 0, [615]);
    await eventually(async () => {
      const p = await pumpView('P1');
      return p.running === true && p.amps === 6.15 && !p.stale;
    }, 30_000, 'P1 reporting again');
    for (const id of ['P1', 'P2']) await eventually(async () => (await openAlert('device.stale', `flood/b1/pumps/${id}`)()) === undefined, 15_000, `${id} stale alert resolved`);
    expect(await peerUp(panel)).toBe(1);
  });

  it('a frozen server (connections open, no answers) times out, and the other server is not held up', async () => {
    const frozenAt = Date.now();
    panel.pause();
    try {
      const stale = await eventually(openAlert('device.stale', 'flood/b1/pumps/P2'), 30_000, 'P2 stale while the panel is frozen');
      expect(Date.parse(stale.startedAt)).toBeGreaterThanOrEqual(frozenAt);
      await transmitters.set(1, 'hr', 9998, [3600]);
      await eventually(async () => (await levelView('L1')).mm === 360, 15_000, 'L1 while the panel is frozen');
    } finally {
      panel.resume();
    }
    await panel.set(1, 'hr', 5, [0]);
    await eventually(async () => {
      const p = await pumpView('P2');
      return p.running === false && !p.stale;
    }, 30_000, 'P2 reporting again after the freeze');
  });
});

describe('a register map that does not fit the device kind', () => {
  it.each([
    ['running on a level sensor', { mm: { table: 'holding-register', address: 0 }, running: { table: 'coil', address: 0 } }, "flood.rooms[0].levels[0].modbus.running: running is a pump's running signal; a level sensor's register map gives mm only"],
    ['no level register for a level sensor', {}, "flood.rooms[0].levels[0].modbus.mm: a level sensor's register map needs mm"],
  ])('%s stops start-up with a message naming it', async (_what, map, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-modbus-bad-'));
    try {
      const sitePath = join(dir, 'site.json');
      writeFileSync(sitePath, JSON.stringify(testSiteFile({ levels: [{ id: 'L1', name: 'Level 1', modbus: { host: '127.0.0.1', port: 1502, ...map } }, { id: 'L2', name: 'Level 2' }] })));
      const err = await startParkOps({ env: { PARKOPS_SITE: sitePath, PARKOPS_NODE_RED: 'false' } }).then(
        async (sys) => {
          await sys.stop();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ChildExitedError);
      expect((err as Error).message).toContain(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
