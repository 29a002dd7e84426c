/**
 * Loopback ports and child-process hygiene for the test harness (mosquitto.ts, influxd.ts).
 *
 * Servers in tests bind 127.0.0.1 only, on a port the kernel picked as free a moment before. That
 * leaves a small window in which another process could take the port; the server harnesses detect a
 * failed bind (the child exits) and retry with a fresh port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** A TCP port that was free on 127.0.0.1 when this resolved. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: the kernel returned no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Resolves true once a TCP connection to 127.0.0.1:port succeeds. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `ready` every 50 ms until it resolves true. Fails early with the child's output when the
 * child exits first (bad config, port taken), or after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  ready: () => Promise<boolean>,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new ChildExitedError(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${output()}`);
    await sleep(50);
  }
}

export class ChildExitedError extends Error {}

/** Waits for the child to exit; SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Makes sure a server child never outlives the test process, however that process ends.
 *
 * - A normal exit (vitest finishing a worker) runs the `exit` hook: SIGKILL the child.
 * - A hard kill of the test process (SIGKILL, a crashed worker) runs no JavaScript at all, so a
 *   watchdog `sh` holds the read end of a pipe whose only writer is this process. When this
 *   process dies the kernel closes the pipe, `cat` sees EOF and the watchdog kills the server.
 *
 * Returns a release function to call once the child has been stopped on purpose.
 */
export function tieToThisProcess(child: ChildProcess): () => void {
  const pid = child.pid;
  if (pid === undefined) return () => {};
  const watchdog = spawn('sh', ['-c', `cat >/dev/null; kill -KILL ${pid} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  // The pipe must not keep the event loop alive either.
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.stdin?.on('error', () => {});
  const onExit = () => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', onExit);
    // Kill the watchdog, never let it see EOF once the server is gone: it would signal a pid that
    // may have been reused by then.
    watchdog.kill('SIGKILL');
  };
  // A server that exits by itself (crash, bad config) releases its watchdog at once too.
  child.once('exit', release);
  return release;
}

/** Temp folders to remove when the test process exits normally, even if a test forgot stop(). */
const tempDirs = new Set<string>();
let exitHookInstalled = false;
export function removeOnExit(dir: string, rm: (dir: string) => void): () => void {
  tempDirs.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of tempDirs) {
        try {
          rm(d);
        } catch {
          // best effort at exit
        }
      }
    });
  }
  return () => {
    tempDirs.delete(dir);
    rm(dir);
  };
}
