/**
 * ParkOps entry point: `npm start` (through scripts/start.mjs) and the Docker image run this.
 * A bad setting or site file stops start-up with one clear line naming it, and exit code 2. Once
 * started, a short summary for people goes to stderr (startup.ts); the JSON log stays on stdout.
 */
import { ConfigError, loadConfig } from './config.ts';
import { Controller } from './controller.ts';
import { createLogger } from './log.ts';
import { DEFAULT_SITE_PATH, loadSite, SiteError } from '@parkops/contract/site/index.ts';
import { startupBanner } from './startup.ts';

async function main(): Promise<void> {
  let config;
  let site;
  try {
    config = loadConfig();
    site = loadSite(config.PARKOPS_SITE ?? DEFAULT_SITE_PATH);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SiteError) {
      process.stderr.write(`ParkOps cannot start: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const controller = new Controller(config, site, log);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    controller.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  // Several processes on PostgreSQL: a leader that lost its lease has already stopped acting; it ends
  // here, and its supervisor (Docker's restart policy, systemd) starts it again as a standby with
  // fresh state. 75: EX_TEMPFAIL, "try again".
  controller.onDeposed = (why) => {
    log.error({ why }, 'no longer the leader: exiting so that a supervisor restarts this process as a standby');
    setTimeout(() => process.exit(75), 100).unref();
    void controller.stop().finally(() => process.exit(75));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  try {
    await controller.start();
    process.stderr.write(startupBanner({ config, firstAdmin: controller.auth.takeGeneratedPassword(), notes: controller.startupNotes() }));
  } catch (err) {
    // The generated password is stored only as a hash: if start-up failed after making it, say it now.
    const firstAdmin = controller.auth?.takeGeneratedPassword();
    if (firstAdmin) process.stderr.write(`ParkOps created user "${firstAdmin.username}" with password ${firstAdmin.password} (shown this once)\n`);
    process.stderr.write(`ParkOps cannot start: ${(err as Error).message}\n`);
    log.debug({ err }, 'start-up failed');
    await controller.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
