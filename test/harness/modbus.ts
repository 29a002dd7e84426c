/**
 * A real Modbus TCP server ParkOps did not write, for integration tests and the bench: Debian's
 * python3-pymodbus 3.0 running test/harness/modbus-server.py on a free 127.0.0.1 port.
 *
 *   const plc = await startModbusServer({ units: [1, 2] });
 *   await plc.set(1, 'hr', 0, [2500]);   // holding register 0 of unit 1
 *   await plc.set(1, 'co', 0, [true]);   // coil 0
 *   await plc.stop();    // the server goes away mid-run (SIGTERM): its port refuses connections
 *   await plc.start();   // back on the same port, with every value set so far (a PLC's process image)
 *   await plc.pause();   // SIGSTOP: connections stay open but nothing answers (a hung panel)
 *   await plc.resume();  // SIGCONT
 *   await plc.close();   // final
 *
 * Values are set over the script's stdin, one JSON line per command, each answered before `set`
 * resolves, so a test knows the register holds the value when it goes on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChildExitedError, freePort, stopChild, tieToThisProcess } from './ports.ts';

/** Debian's interpreter: the one python3-pymodbus is installed for (a pyenv `python3` on PATH lacks it). */
export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./modbus-server.py', import.meta.url));

export type Table = 'co' | 'di' | 'ir' | 'hr';

export interface ModbusServer {
  readonly port: number;
  readonly host: '127.0.0.1';
  readonly running: boolean;
  set(unit: number, table: Table, address: number, values: Array<number | boolean>): Promise<void>;
  get(unit: number, table: Table, address: number, count?: number): Promise<Array<number | boolean>>;
  /** Stops the server process (SIGTERM): connections close, the port refuses. */
  stop(): Promise<void>;
  /** Starts it again on the same port with every value set so far. */
  start(): Promise<void>;
  /** SIGSTOP: the process is frozen, its sockets stay open and nothing answers. */
  pause(): void;
  resume(): void;
  /** Final stop. */
  close(): Promise<void>;
  output(): string;
}

export interface ModbusServerOptions {
  /** Unit ids that exist; requests to others get exception 11. Default [1]. */
  units?: number[];
  port?: number;
}

export async function startModbusServer(opts: ModbusServerOptions = {}): Promise<ModbusServer> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: install python3-pymodbus (apt-get install python3-pymodbus python3-serial python3-serial-asyncio)`);
  const units = opts.units ?? [1];
  /** Everything set so far, replayed after a restart: `${unit}|${table}|${address}` -> value. */
  const image = new Map<string, number | boolean>();
  let port = opts.port ?? 0;
  let child: ChildProcess | undefined;
  let release = (): void => {};
  let out = '';
  let lines: string[] = [];
  let waiting: Array<(line: string) => void> = [];
  let queue: Promise<unknown> = Promise.resolve();

  const launch = async (): Promise<void> => {
    out = '';
    lines = [];
    waiting = [];
    const c = spawn(PYTHON, [SCRIPT, '--port', String(port), '--units', units.join(',')], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = c;
    release = tieToThisProcess(c);
    let buf = '';
    c.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = waiting.shift();
        if (w) w(line);
        else lines.push(line);
      }
    });
    c.stderr.on('data', (b: Buffer) => {
      out = (out + b.toString()).slice(-8000);
    });
    c.stdin.on('error', () => {
      // The process is gone; its exit is reported by the next command or launch.
    });
    const ready = await nextLine(c, 15_000);
    const parsed = JSON.parse(ready) as { ready?: boolean; port?: number };
    if (parsed.ready !== true) throw new Error(`modbus-server did not start: ${ready}\n${out}`);
  };

  const nextLine = (c: ChildProcess, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const early = lines.shift();
      if (early !== undefined) return resolve(early);
      const onExit = (): void => {
        clearTimeout(timer);
        reject(new ChildExitedError(`modbus-server exited (${c.exitCode ?? c.signalCode}):\n${out}`));
      };
      const timer = setTimeout(() => {
        c.off('exit', onExit);
        reject(new Error(`modbus-server did not answer within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      c.once('exit', onExit);
      waiting.push((line) => {
        clearTimeout(timer);
        c.off('exit', onExit);
        resolve(line);
      });
    });

  const command = (cmd: object): Promise<{ ok: boolean; error?: string; values?: Array<number | boolean> }> => {
    const run = async () => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) throw new Error('modbus-server is not running');
      c.stdin!.write(JSON.stringify(cmd) + '\n');
      const reply = JSON.parse(await nextLine(c, 10_000)) as { ok: boolean; error?: string; values?: Array<number | boolean> };
      if (!reply.ok) throw new Error(`modbus-server refused ${JSON.stringify(cmd)}: ${reply.error}`);
      return reply;
    };
    // One command at a time: replies are matched to commands by order.
    const p = queue.then(run, run);
    queue = p.catch(() => undefined);
    return p;
  };

  const halt = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.signalCode === null && c.exitCode === null) c.kill('SIGCONT');
    await stopChild(c, 'SIGTERM', 5000);
    release();
  };

  // A port picked free can be taken before the server binds it: retry with another.
  for (let attempt = 1; ; attempt++) {
    if (opts.port === undefined) port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      await halt();
      if (!(err instanceof ChildExitedError) || opts.port !== undefined || attempt >= 5) throw err;
    }
  }

  const server: ModbusServer = {
    get port() {
      return port;
    },
    host: '127.0.0.1',
    get running() {
      return child !== undefined;
    },
    async set(unit, table, address, values) {
      await command({ op: 'set', unit, table, address, values });
      values.forEach((v, i) => image.set(`${unit}|${table}|${address + i}`, v));
    },
    async get(unit, table, address, count = 1) {
      return (await command({ op: 'get', unit, table, address, count })).values ?? [];
    },
    async stop() {
      await halt();
    },
    async start() {
      if (child) return;
      // The freed port may take a moment to bind again; the script reuses the address, so retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          break;
        } catch (err) {
          await halt();
          if (!(err instanceof ChildExitedError) || attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      for (const [key, v] of image) {
        const [unit, table, address] = key.split('|');
        await command({ op: 'set', unit: Number(unit), table, address: Number(address), values: [v] });
      }
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async close() {
      await halt();
    },
    output: () => out,
  };
  return server;
}
