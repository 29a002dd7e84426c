/**
 * The simulators' Modbus side: the pump panel and level transmitter they serve for the site's loopback
 * Modbus devices, read with ParkOps' own Modbus client; then the whole demo path as `npm start` runs
 * it with the bundled Modbus site variant (ports moved to free ones), simulated devices to dashboard.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloodResponse } from '@parkops/contract/index.ts';
import { Topics } from '@parkops/contract/topics.ts';
import { ModbusConnection, RequestTimeout } from '../../ingest/src/modbus/connection.ts';
import { modbusDevices, payloadOf, pointsOf } from '../../ingest/src/modbus/devices.ts';
import { planReads, pointValues } from '../../ingest/src/modbus/read-plan.ts';
import { loadSite, type Site } from '@parkops/contract/site/index.ts';
import { SimModbusServers } from '../../simulators/src/modbus-server.ts';
import type { SimMessage } from '../../simulators/src/types.ts';
import { freePort } from '../harness/ports.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi } from '../support/api.ts';
import { eventually } from '../support/mqtt.ts';

const VARIANT = fileURLToPath(new URL('../../contract/src/site/jining-innovation-valley-modbus.json', import.meta.url));

/** The bundled Modbus variant with its two Modbus ports (5020, 5021) moved to free ones. */
async function variantOnFreePorts(dir: string): Promise<{ path: string; ports: [number, number] }> {
  const ports: [number, number] = [await freePort(), await freePort()];
  const text = readFileSync(VARIANT, 'utf8').replaceAll('"port": 5020', `"port": ${ports[0]}`).replaceAll('"port": 5021', `"port": ${ports[1]}`);
  const path = join(dir, 'site.json');
  writeFileSync(path, text);
  return { path, ports };
}

const msg = (device: string, kind: SimMessage['kind'], payload: string): SimMessage => ({ topic: `x/${device}`, payload, qos: 1, retain: false, at: Date.now(), kind, device });

describe('the simulators’ Modbus TCP servers', () => {
  let dir: string;
  let site: Site;
  let servers: SimModbusServers;
  const conns: ModbusConnection[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkops-sim-modbus-'));
    site = loadSite((await variantOnFreePorts(dir)).path);
    servers = new SimModbusServers(site);
    await servers.start();
  });
  afterAll(async () => {
    for (const c of conns) c.close();
    await servers?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Reads a device the way the poller does, and returns its section-1 payload. */
  const poll = async (id: string): Promise<string> => {
    const d = modbusDevices(site, new Topics('park')).find((x) => x.id === id)!;
    const conn = new ModbusConnection(d.host, d.port, 500);
    conns.push(conn);
    await conn.open();
    const values = new Map<string, ReadonlyArray<boolean | number>>();
    for (const req of planReads(pointsOf(d))) {
      const data = await conn.read(req.unitId, req.table, req.address, req.count);
      for (const p of req.points) values.set(p.key, pointValues(req, p, data));
    }
    conn.close();
    return payloadOf(d, values);
  };

  it('holds what the simulated devices report, in the registers their maps name', async () => {
    expect(servers.consume(msg('P1', 'pump', '{"running":true,"amps":5.6,"ts":1}'))).toBe(true);
    expect(servers.consume(msg('P2', 'pump', '{"running":false,"amps":0,"ts":1}'))).toBe(true);
    expect(servers.consume(msg('L2', 'level', '{"mm":312.7,"ts":1}'))).toBe(true);
    expect(await poll('P1')).toBe('{"running":true,"amps":5.6}');
    expect(await poll('P2')).toBe('{"running":false,"amps":0}');
    // float32, low word first: 312.7 to the 7 digits a float32 holds.
    expect(await poll('L2')).toBe('{"mm":312.7}');
  });

  it('leaves devices that are not on Modbus to MQTT', () => {
    expect(servers.consume(msg('L1', 'level', '{"mm":1}'))).toBe(false);
    expect(servers.consume(msg('A-001', 'bay', '{"occupied":true}'))).toBe(false);
    expect([...servers.modbusIds].sort()).toEqual(['L2', 'P1', 'P2']);
  });

  it('a dropped-out transmitter stops answering until it is back online', async () => {
    servers.consume(msg('L2', 'status', 'offline'));
    await expect(poll('L2')).rejects.toBeInstanceOf(RequestTimeout);
    // The pump panel is another server: not affected.
    expect(await poll('P1')).toBe('{"running":true,"amps":5.6}');
    servers.consume(msg('L2', 'status', 'online'));
    servers.consume(msg('L2', 'level', '{"mm":300,"ts":2}'));
    expect(await poll('L2')).toBe('{"mm":300}');
  });
});

describe('npm start with the bundled Modbus site variant', () => {
  let dir: string;
  let sys: ParkOpsProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkops-sim-modbus-sys-'));
    const { path } = await variantOnFreePorts(dir);
    sys = await startParkOps({ env: { PARKOPS_SITE: path, PARKOPS_SIMULATE: 'true', PARKOPS_NODE_RED: 'false', LOG_LEVEL: 'info' } });
  });
  afterAll(async () => {
    await sys?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the simulated pump panel and pressure transmitter, polled over Modbus TCP, on the dashboard API', async () => {
    const api = await adminApi(sys);
    const room = await eventually(
      async () => {
        const r = (await api.get<FloodResponse>('/api/flood')).body.rooms[0]!;
        const fresh = [...r.levels, ...r.pumps].filter((d) => !d.stale && d.ts !== null).map((d) => d.id);
        return ['L1', 'L2', 'P1', 'P2'].every((id) => fresh.includes(id)) ? r : undefined;
      },
      30_000,
      'all four flood-room devices reporting',
    );
    const l1 = room.levels.find((l) => l.id === 'L1')!;
    const l2 = room.levels.find((l) => l.id === 'L2')!;
    // The radar on MQTT and the transmitter on Modbus read the same simulated water, a few mm apart.
    expect(Math.abs(l1.mm! - l2.mm!)).toBeLessThan(30);
    expect(room.pumps.every((p) => typeof p.running === 'boolean' && typeof p.amps === 'number')).toBe(true);
    expect(sys.output()).toContain('serving the Modbus TCP devices of the site');
    expect(sys.output()).toContain('modbus polling started');
    expect(sys.output()).not.toContain('modbus peer not answering');
  });
});
