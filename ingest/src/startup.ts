/**
 * What a person sees in the terminal once ParkOps has started: where the dashboard is, the first admin's
 * generated password (this once; it never goes into the JSON log), the editor, the simulators, where the
 * data lives and how to stop. Written to stderr; the JSON log stays on stdout for machines.
 */
import type { Config } from './config.ts';

export interface StartupFacts {
  config: Pick<Config, 'HOST' | 'PORT' | 'PARKOPS_NODE_RED' | 'PARKOPS_SIMULATE' | 'PARKOPS_SIM_SPEED' | 'PARKOPS_SIM_CATCH_UP_HOURS' | 'PARKOPS_SIM_SCENARIOS' | 'LOG_LEVEL' | 'dataDir'>;
  /** set only on the first start without PARKOPS_ADMIN_PASSWORD */
  firstAdmin?: { username: string; password: string } | undefined;
  /** what to set up next (e.g. no notification channel yet), one line each */
  notes?: string[] | undefined;
}

/** The address a person on this machine types: a wildcard bind is reached as localhost. */
export function dashboardUrl(config: Pick<Config, 'HOST' | 'PORT'>): string {
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  return `http://${host}:${config.PORT}`;
}

export function startupBanner({ config, firstAdmin, notes = [] }: StartupFacts): string {
  const url = dashboardUrl(config);
  const rows: Array<[string, string]> = [['Dashboard', url]];
  if (firstAdmin) {
    rows.push(['Sign in', `user "${firstAdmin.username}", password ${firstAdmin.password}`]);
    rows.push(['', 'shown this once: you choose your own password at the first sign-in']);
  }
  if (config.PARKOPS_NODE_RED) rows.push(['Node-RED', `${url}/flows (administrators, with their dashboard sign-in)`]);
  if (config.PARKOPS_SIMULATE) {
    const scenarios = config.PARKOPS_SIM_SCENARIOS ? `, scenarios ${config.PARKOPS_SIM_SCENARIOS}` : '';
    const pace =
      config.PARKOPS_SIM_SPEED > 1
        ? `${config.PARKOPS_SIM_SPEED}× real time from ${config.PARKOPS_SIM_CATCH_UP_HOURS} h ago until now (about ${catchUp(config)}), then live`
        : 'live';
    rows.push(['Simulators', `on, ${pace}${scenarios} (PARKOPS_SIMULATE=false for real devices)`]);
  }
  rows.push(['Data', config.dataDir]);
  rows.push(['Log', `JSON on stdout, level ${config.LOG_LEVEL} (LOG_LEVEL=info or debug for more)`]);
  rows.push(['Stop', 'Ctrl+C']);
  const width = 'Simulators'.length;
  const next = notes.map((n) => `\n  ${n}`).join('');
  return `\n  ParkOps is running\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n${next}${next ? '\n' : ''}\n`;
}

/** How long the accelerated catch-up takes in real time: lead / (speed - 1). */
function catchUp(config: Pick<Config, 'PARKOPS_SIM_SPEED' | 'PARKOPS_SIM_CATCH_UP_HOURS'>): string {
  const minutes = (config.PARKOPS_SIM_CATCH_UP_HOURS * 60) / (config.PARKOPS_SIM_SPEED - 1);
  return minutes >= 1 ? `${Math.round(minutes)} min` : `${Math.max(1, Math.round(minutes * 60))} s`;
}
