/**
 * One Modbus TCP connection to one peer, over modbus-serial's client, with the failure handling the
 * library leaves to its user:
 *
 * - Every connect and every request has its own deadline, whatever the library does.
 * - A connection is used once: after any connection-level failure it is destroyed and the peer builds
 *   a new one. modbus-serial's TCP port relays `close` only while its open flag is set, and an `error`
 *   (ECONNRESET) clears that flag first, so a reused client can sit "closed" without ever saying so:
 *   the failure node-red-contrib-modbus users see as clients stuck in "init" after a server drop.
 * - `error` and `close` fail the requests in flight at once instead of letting them wait out their
 *   timeout, and an `error` event never goes unheard (an EventEmitter without a listener would throw).
 */
import modbusSerial from 'modbus-serial';
import type { ModbusTable } from '@parkops/contract/site/modbus-schema.ts';

// A CommonJS package whose typings say `export default`: Node's default import is module.exports,
// which the package also exposes as its own `.default`, so this one line is right for both.
const ModbusRTU = modbusSerial.default;
type Client = InstanceType<typeof ModbusRTU>;

/** Names of the exception codes of the Modbus Application Protocol specification v1.1b3 section 7. */
const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** The device answered with a Modbus exception: the connection is fine, this device's read is not. */
export class ModbusException extends Error {
  constructor(
    readonly code: number,
    what: string,
  ) {
    super(`${what}: Modbus exception ${code} (${EXCEPTIONS[code] ?? 'unknown'})`);
  }
}

/** The connection is unusable (refused, reset, closed, a garbled frame). */
export class ConnectionFailure extends Error {}

/**
 * No answer in time. On its own it may be one unit behind a gateway that is gone (pymodbus and many
 * gateways stay silent for a unit they do not have); the peer decides, from whether anything else on
 * the connection answered, whether the unit or the whole peer is down.
 */
export class RequestTimeout extends ConnectionFailure {}

export class ModbusConnection {
  private readonly client: Client = new ModbusRTU();
  private failure: ConnectionFailure | null = null;
  private readonly inFlight = new Set<(err: ConnectionFailure) => void>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {
    this.client.on('error', (err: unknown) => this.lose(new ConnectionFailure(`connection error: ${describe(err)}`)));
    this.client.on('close', () => this.lose(new ConnectionFailure('connection closed by the peer')));
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  async open(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionFailure(`no connection within ${this.timeoutMs} ms`)), this.timeoutMs);
      // close() while connecting (ParkOps stopping): modbus-serial never settles a connect whose
      // socket was destroyed before it opened, so this does.
      this.inFlight.add(reject);
    });
    try {
      await Promise.race([
        this.client.connectTCP(this.host, { port: this.port }).catch((err: unknown) => {
          throw new ConnectionFailure(`cannot connect: ${describe(err)}`);
        }),
        deadline,
      ]);
    } catch (err) {
      this.close();
      throw err;
    } finally {
      clearTimeout(timer);
      this.inFlight.clear();
    }
    if (this.failure) throw this.failure;
    // The library's own per-request timeout too, so it forgets transactions that never got an answer.
    this.client.setTimeout(this.timeoutMs);
  }

  /** Reads `count` bits (coils, discrete inputs) or registers from `address` of unit `unitId`. */
  read(unitId: number, table: ModbusTable, address: number, count: number): Promise<ReadonlyArray<boolean | number>> {
    if (this.failure) return Promise.reject(this.failure);
    const what = `unit ${unitId} ${table} ${address}${count > 1 ? `..${address + count - 1}` : ''}`;
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null, data?: ReadonlyArray<boolean | number>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inFlight.delete(finish);
        if (err) reject(err);
        else resolve(data ?? []);
      };
      this.inFlight.add(finish);
      // A little after the library's own timeout, which is the one that normally fires.
      const timer = setTimeout(() => finish(new RequestTimeout(`${what}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs + 50);
      const cb = (err: unknown, res?: { data: ReadonlyArray<boolean | number> }): void => {
        if (err) return finish(classify(err, what, this.timeoutMs));
        const data = res?.data ?? [];
        if (data.length < count) return finish(new ConnectionFailure(`${what}: answer holds ${data.length} values, asked for ${count}`));
        finish(null, data.slice(0, count));
      };
      try {
        switch (table) {
          case 'coil':
            this.client.writeFC1(unitId, address, count, cb);
            break;
          case 'discrete-input':
            this.client.writeFC2(unitId, address, count, cb);
            break;
          case 'holding-register':
            this.client.writeFC3(unitId, address, count, cb);
            break;
          case 'input-register':
            this.client.writeFC4(unitId, address, count, cb);
            break;
        }
      } catch (err) {
        finish(new ConnectionFailure(`${what}: ${describe(err)}`));
      }
    });
  }

  /** Destroys the socket; requests in flight fail at once. */
  close(): void {
    this.lose(new ConnectionFailure('connection closed by ParkOps'));
    try {
      this.client.destroy(() => undefined);
    } catch {
      // already gone: nothing to release
    }
  }

  private lose(err: ConnectionFailure): void {
    this.failure ??= err;
    for (const finish of [...this.inFlight]) finish(this.failure);
  }
}

function classify(err: unknown, what: string, timeoutMs: number): Error {
  const e = err as { modbusCode?: unknown; errno?: unknown; name?: unknown };
  if (typeof e.modbusCode === 'number') return new ModbusException(e.modbusCode, what);
  if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError') return new RequestTimeout(`${what}: no answer within ${timeoutMs} ms`);
  return new ConnectionFailure(`${what}: ${describe(err)}`);
}

export function describe(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  const e = err as { message?: unknown; code?: unknown; errno?: unknown };
  if (typeof e?.message === 'string' && e.message) return e.message;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.errno === 'string') return e.errno;
  return String(err);
}
