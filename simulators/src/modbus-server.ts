/**
 * The simulated flood room's pump control panel and level transmitter on Modbus TCP: for every level
 * sensor or pump whose site-file `modbus` block points at this machine (127.0.0.1, localhost, ::1),
 * a Modbus TCP server (modbus-serial's ServerTCP) on that port holds the registers its map names, and
 * the device's simulated readings are written into them instead of being published over MQTT. ParkOps'
 * poller then reads them as it would read a real panel.
 *
 * Devices with a `modbus` block elsewhere are real devices: the simulators send nothing for them.
 * A simulated dropout (the `offline` Last Will of the sensor-dropout scenario) makes the device's unit
 * stop answering until it comes back `online`, as a transmitter that lost power would.
 */
import modbusSerial from 'modbus-serial';
import type { FloodRoom, Site } from '@parkops/contract/site';
import type { BitPoint, NumberPoint } from '@parkops/contract/site/modbus-schema.ts';
import { encodeBit, encodeNumber, wordsOf } from '@parkops/contract/modbus/register-map.ts';
import type { SimMessage } from './types.ts';

const { ServerTCP } = modbusSerial;
type Server = InstanceType<typeof ServerTCP>;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

type Table = 'coil' | 'discrete-input' | 'input-register' | 'holding-register';
interface Unit {
  tables: Record<Table, Map<number, number | boolean>>;
  /** Devices of this unit that dropped out: while any has, the unit does not answer. */
  dropped: Set<string>;
}

interface Served {
  id: string;
  kind: 'level' | 'pump';
  host: string;
  port: number;
  unit: Unit;
  mm?: NumberPoint;
  running?: BitPoint;
  amps?: NumberPoint | undefined;
}

/** Every level sensor and pump of the site with a `modbus` block. */
function modbusDevicesOf(site: Site): Array<{ id: string; kind: 'level' | 'pump'; room: FloodRoom }> {
  return site.rooms.flatMap((room) => [
    ...room.levels.filter((l) => l.modbus).map((l) => ({ id: l.id, kind: 'level' as const, room })),
    ...room.pumps.filter((p) => p.modbus).map((p) => ({ id: p.id, kind: 'pump' as const, room })),
  ]);
}

export class SimModbusServers {
  /** Ids of every Modbus device of the site: the MQTT publisher sends nothing for them. */
  readonly modbusIds: ReadonlySet<string>;
  private readonly served = new Map<string, Served>();
  private readonly units = new Map<string, Unit>();
  private readonly servers: Server[] = [];

  constructor(site: Site) {
    this.modbusIds = new Set(modbusDevicesOf(site).map((d) => d.id));
    for (const room of site.rooms) {
      for (const l of room.levels) {
        if (l.modbus && LOOPBACK.has(l.modbus.host)) this.served.set(l.id, { id: l.id, kind: 'level', host: l.modbus.host, port: l.modbus.port, unit: this.unit(l.modbus.host, l.modbus.port, l.modbus.unitId), mm: l.modbus.mm });
      }
      for (const p of room.pumps) {
        if (p.modbus && LOOPBACK.has(p.modbus.host)) {
          this.served.set(p.id, { id: p.id, kind: 'pump', host: p.modbus.host, port: p.modbus.port, unit: this.unit(p.modbus.host, p.modbus.port, p.modbus.unitId), running: p.modbus.running, amps: p.modbus.amps });
        }
      }
    }
  }

  /** True when the site has Modbus devices this machine should serve. */
  get needed(): boolean {
    return this.served.size > 0;
  }

  /** `host:port` of each server. */
  get endpoints(): string[] {
    return [...new Set([...this.served.values()].map((s) => `${bindHost(s.host)}:${s.port}`))];
  }

  /** Listens on every port the site's loopback Modbus devices name. Rejects naming the port that failed. */
  async start(): Promise<void> {
    for (const endpoint of this.endpoints) {
      const cut = endpoint.lastIndexOf(':');
      const host = endpoint.slice(0, cut);
      const port = Number(endpoint.slice(cut + 1));
      const server = await new Promise<Server>((resolve, reject) => {
        const s = new ServerTCP(this.vector(host, port), { host, port });
        s.on('serverError', (err: Error | null) => reject(new Error(`simulators: cannot serve Modbus TCP on ${endpoint}: ${err?.message ?? 'unknown error'}`)));
        s.on('initialized', () => resolve(s));
      });
      // A client dropping its socket, or asking for a unit that dropped out, is not the simulator's failure.
      server.on('socketError', () => undefined);
      server.on('error', () => undefined);
      this.servers.push(server);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  /**
   * Takes a simulated device message: a Modbus device's reading goes into its registers, its status
   * (dropout) changes whether its unit answers, and true says it is not for MQTT.
   */
  consume(msg: SimMessage): boolean {
    if (!this.modbusIds.has(msg.device)) return false;
    const s = this.served.get(msg.device);
    if (!s) return true;
    if (msg.kind === 'status') {
      if (msg.payload === 'offline') s.unit.dropped.add(s.id);
      else s.unit.dropped.delete(s.id);
      return true;
    }
    let data: { mm?: unknown; running?: unknown; amps?: unknown };
    try {
      data = JSON.parse(msg.payload) as typeof data;
    } catch {
      return true;
    }
    if (s.kind === 'level' && s.mm && typeof data.mm === 'number') this.writeNumber(s.unit, s.mm, data.mm);
    if (s.kind === 'pump' && s.running && typeof data.running === 'boolean') {
      const current = s.unit.tables[s.running.table].get(s.running.address);
      s.unit.tables[s.running.table].set(s.running.address, encodeBit(s.running, data.running, typeof current === 'number' ? current : 0));
      if (s.amps && typeof data.amps === 'number') this.writeNumber(s.unit, s.amps, data.amps);
    }
    return true;
  }

  private writeNumber(unit: Unit, point: NumberPoint, value: number): void {
    const words = encodeNumber(point, value);
    for (let i = 0; i < wordsOf(point.type); i++) unit.tables[point.table].set(point.address + i, words[i]!);
  }

  private unit(host: string, port: number, unitId: number): Unit {
    const key = `${bindHost(host)}:${port}|${unitId}`;
    let u = this.units.get(key);
    if (!u) {
      u = { tables: { coil: new Map(), 'discrete-input': new Map(), 'input-register': new Map(), 'holding-register': new Map() }, dropped: new Set() };
      this.units.set(key, u);
    }
    return u;
  }

  /** Register reads for one server. A unit it does not have, or one that dropped out, never answers. */
  private vector(host: string, port: number) {
    const lookup = (unitId: number): Unit | undefined => {
      const u = this.units.get(`${host}:${port}|${unitId}`);
      return u && u.dropped.size === 0 ? u : undefined;
    };
    const never = new Promise<never>(() => undefined);
    const bit =
      (table: 'coil' | 'discrete-input') =>
      (addr: number, unitId: number): Promise<boolean> => {
        const u = lookup(unitId);
        if (!u) return never;
        const v = u.tables[table].get(addr);
        return Promise.resolve(v === true || (typeof v === 'number' && v !== 0));
      };
    const word = (table: 'input-register' | 'holding-register') => ({
      one: (addr: number, unitId: number): Promise<number> => {
        const u = lookup(unitId);
        if (!u) return never;
        return Promise.resolve(Number(u.tables[table].get(addr) ?? 0));
      },
      // The callback form (ServerTCP tells the forms apart by arity): the only one that can leave a
      // multi-register read unanswered.
      many: (addr: number, length: number, unitId: number, cb: (err: Error | null, values: number[]) => void): void => {
        const u = lookup(unitId);
        if (!u) return;
        cb(
          null,
          Array.from({ length }, (_, i) => Number(u.tables[table].get(addr + i) ?? 0)),
        );
      },
    });
    const input = word('input-register');
    const holding = word('holding-register');
    return {
      getCoil: bit('coil'),
      getDiscreteInput: bit('discrete-input'),
      getInputRegister: input.one,
      getMultipleInputRegisters: input.many,
      getHoldingRegister: holding.one,
      getMultipleHoldingRegisters: holding.many,
    };
  }
}

function bindHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}
