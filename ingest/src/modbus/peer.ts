/**
 * One Modbus TCP peer (a pump control panel, a level transmitter, a gateway): one connection, several
 * unit ids and devices behind it, polled on each device's `pollSec` by a loop of its own. Peers share
 * nothing, and every connect and request has a deadline, so a peer that hangs never stalls another.
 *
 * A peer that stops answering is not an alert of its own: its devices simply stop reporting, and the
 * alert engine's device-silent rule (`device.stale`) fires after each device's `staleAfterSec`, as for
 * an MQTT device that went quiet. The peer is retried with exponential backoff, capped, and with a
 * new connection every time (connection.ts says why).
 */
import type { HandleResult } from '../ingest.ts';
import type { Logger } from '../log.ts';
import { ConnectionFailure, ModbusConnection, ModbusException, RequestTimeout, describe } from './connection.ts';
import { ReportGate, payloadOf, pointsOf, type ModbusDevice } from './devices.ts';
import { devicesOf, planReads, pointValues, type ReadRequest } from './read-plan.ts';

/** Where polled readings go: the ingest's synchronous path (validation, durable commit, live state, alerts). */
export interface ReadingSink {
  handle(topic: string, payload: Uint8Array, receivedAt: number): HandleResult;
}

export interface PeerOptions {
  host: string;
  port: number;
  devices: ModbusDevice[];
  sink: ReadingSink;
  log: Logger;
  /** Deadline of a connect and of every request. */
  timeoutMs: number;
  /** First retry after a failure; each further failure doubles it up to `retryMaxMs`. */
  retryMinMs: number;
  retryMaxMs: number;
}

export type PeerState = 'connecting' | 'up' | 'down' | 'stopped';

export interface PeerStatus {
  peer: string;
  state: PeerState;
  devices: string[];
  /** Failures since the peer last answered. */
  failures: number;
  lastError: string | null;
  /** When it stopped answering (ISO), while it does not. */
  downSince: string | null;
}

/** Delay before retry number `failures` (1 = after the first failure): min × 2^(n-1), capped. */
export function retryDelay(failures: number, minMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30));
}

interface Polled {
  device: ModbusDevice;
  gate: ReportGate;
  nextPollAt: number;
  /** The device's last read or delivery problem, logged when it changes. */
  problem: string | null;
  /** Failed reads in a row while the peer answered. */
  failures: number;
}

export class ModbusPeer {
  readonly key: string;
  private state: PeerState = 'down';
  private failures = 0;
  private lastError: string | null = null;
  private downSince: number | null = null;
  private readonly polled: Polled[];
  private conn: ModbusConnection | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly log: Logger;
  /**
   * Units that answered, and have not since been silent while another unit answered. When nothing
   * answers in a poll, it is the whole peer that is down if one of these was asked (or no unit ever
   * answered); if only units outside it were asked, those units are gone and their devices back off
   * on their own, so a dead unit behind a gateway polled alone is not mistaken for a dead peer.
   */
  private readonly answeringUnits = new Set<number>();

  constructor(private readonly opts: PeerOptions) {
    this.key = opts.devices[0]?.peer ?? `${opts.host}:${opts.port}`;
    this.log = opts.log.child({ peer: this.key });
    this.polled = opts.devices.map((device) => ({ device, gate: new ReportGate(device.intervalMs), nextPollAt: 0, problem: null, failures: 0 }));
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    this.conn?.close();
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  status(): PeerStatus {
    return {
      peer: this.key,
      state: this.state,
      devices: this.polled.map((p) => p.device.id),
      failures: this.failures,
      lastError: this.lastError,
      downSince: this.downSince === null ? null : new Date(this.downSince).toISOString(),
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.conn || this.conn.failed) {
          this.conn?.close();
          this.state = 'connecting';
          const conn = new ModbusConnection(this.opts.host, this.opts.port, this.opts.timeoutMs);
          this.conn = conn;
          await conn.open();
        }
        await this.cycle(this.conn);
        if (this.stopped) break;
        this.state = 'up';
        await this.sleep(Math.max(0, Math.min(...this.polled.map((p) => p.nextPollAt)) - Date.now()));
      } catch (err) {
        if (this.stopped) break;
        this.conn?.close();
        this.conn = null;
        this.failed(err);
        await this.sleep(retryDelay(this.failures, this.opts.retryMinMs, this.opts.retryMaxMs));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /**
   * Reads the due devices, then hands each device's reading to ingest when it changed or its heartbeat
   * is due. A unit that does not answer fails its own devices (they back off like a peer); the peer
   * itself is down only when nothing answered and a unit that used to answer was asked too
   * (`answeringUnits`).
   */
  private async cycle(conn: ModbusConnection): Promise<void> {
    const now = Date.now();
    const due = this.polled.filter((p) => p.nextPollAt <= now);
    for (const p of due) {
      p.nextPollAt += p.device.pollMs;
      // Late (a slow peer, a retry): poll again a whole interval from now rather than in a burst.
      if (p.nextPollAt <= now) p.nextPollAt = now + p.device.pollMs;
    }
    if (due.length === 0) return;
    const values = new Map<string, ReadonlyArray<boolean | number>>();
    const answeredAt = new Map<string, number>();
    const failed = new Map<string, string>();
    const silentUnits = new Map<number, string>();
    const answeredUnits = new Set<number>();
    // Assigned in the request callbacks below, so it must not narrow to null here.
    let lastTimeout = null as RequestTimeout | null;

    /** One read; false when it failed in a way that concerns only its devices. */
    const read = async (req: ReadRequest): Promise<boolean> => {
      const silent = silentUnits.get(req.unitId);
      if (silent !== undefined) {
        for (const d of devicesOf(req)) failed.set(d, silent);
        return true;
      }
      try {
        const data = await conn.read(req.unitId, req.table, req.address, req.count);
        answeredUnits.add(req.unitId);
        const at = Date.now();
        for (const point of req.points) {
          values.set(point.key, pointValues(req, point, data));
          answeredAt.set(point.device, Math.max(answeredAt.get(point.device) ?? 0, at));
        }
        return true;
      } catch (err) {
        if (err instanceof RequestTimeout) {
          lastTimeout = err;
          silentUnits.set(req.unitId, err.message);
          for (const d of devicesOf(req)) failed.set(d, err.message);
          return true;
        }
        if (!(err instanceof ModbusException)) throw err;
        answeredUnits.add(req.unitId);
        if (devicesOf(req).size > 1) return false;
        for (const d of devicesOf(req)) failed.set(d, err.message);
        return true;
      }
    };

    for (const req of planReads(due.flatMap((p) => pointsOf(p.device)))) {
      if (await read(req)) continue;
      // A merged read spans several devices and got an exception: read each device's part alone,
      // so one device's bad register does not silence its neighbours on the same unit.
      for (const d of devicesOf(req)) {
        for (const part of planReads(req.points.filter((p) => p.device === d))) {
          if (!(await read(part))) throw new Error('a single-device read cannot need splitting');
        }
      }
    }
    const at = Date.now();
    if (answeredUnits.size === 0 && lastTimeout !== null) {
      const silent = [...silentUnits.keys()];
      if (this.answeringUnits.size === 0 || silent.some((u) => this.answeringUnits.has(u))) throw lastTimeout;
    }
    if (answeredUnits.size > 0) {
      for (const u of silentUnits.keys()) this.answeringUnits.delete(u);
      for (const u of answeredUnits) this.answeringUnits.add(u);
      this.answered(at);
    }
    for (const p of due) {
      const problem = failed.get(p.device.id);
      if (problem !== undefined) {
        p.failures++;
        p.gate.forget();
        // A unit that is gone or a register it refuses: back off like a peer, not every poll.
        p.nextPollAt = at + Math.max(p.device.pollMs, retryDelay(p.failures, this.opts.retryMinMs, this.opts.retryMaxMs));
        this.problem(p, `read failed: ${problem}`);
        continue;
      }
      p.failures = 0;
      this.deliver(p, values, answeredAt.get(p.device.id) ?? at);
    }
  }

  private deliver(p: Polled, values: ReadonlyMap<string, ReadonlyArray<boolean | number>>, at: number): void {
    let payload: string;
    try {
      payload = payloadOf(p.device, values);
    } catch (err) {
      this.problem(p, `cannot decode: ${describe(err)}`);
      return;
    }
    if (!p.gate.due(payload, at)) {
      this.problem(p, null);
      return;
    }
    let result: HandleResult;
    try {
      result = this.opts.sink.handle(p.device.topic, Buffer.from(payload), at);
    } catch (err) {
      // Not marked as sent: the next poll offers it again.
      this.problem(p, `not stored: ${describe(err)}`);
      return;
    }
    p.gate.sent(payload, at);
    if (result === 'rejected') this.problem(p, `ingest rejected ${payload} (the reason is on the rejected topic); check the scale, offset and type of its register map`);
    else this.problem(p, null);
  }

  private problem(p: Polled, problem: string | null): void {
    if (problem === p.problem) return;
    if (problem === null) this.log.info({ device: p.device.id }, 'modbus device reads again');
    else this.log.warn({ device: p.device.id, problem }, 'modbus device problem; it reports nothing until this clears');
    p.problem = problem;
  }

  private answered(now: number): void {
    if (this.failures > 0) {
      this.log.info({ failures: this.failures, downMs: this.downSince === null ? null : now - this.downSince }, 'modbus peer answers again');
      // Its devices backed off while the peer was down; they are due again now.
      for (const p of this.polled) {
        p.failures = 0;
        p.nextPollAt = Math.min(p.nextPollAt, now);
        p.gate.forget();
      }
    }
    this.failures = 0;
    this.lastError = null;
    this.downSince = null;
  }

  private failed(err: unknown): void {
    this.failures++;
    this.state = 'down';
    this.lastError = err instanceof ConnectionFailure ? err.message : describe(err);
    this.downSince ??= Date.now();
    const retryMs = retryDelay(this.failures, this.opts.retryMinMs, this.opts.retryMaxMs);
    if (this.failures === 1) {
      this.log.warn(
        { error: this.lastError, devices: this.polled.map((p) => p.device.id), retryMs, retryMaxMs: this.opts.retryMaxMs },
        'modbus peer not answering; its devices report nothing (they turn stale after their staleAfterSec) while it is retried with backoff',
      );
    } else {
      this.log.debug({ error: this.lastError, failures: this.failures, retryMs }, 'modbus peer still not answering');
    }
    if (!(err instanceof ConnectionFailure) && !(err instanceof ModbusException)) this.log.error({ err }, 'modbus poll failed unexpectedly');
  }
}
