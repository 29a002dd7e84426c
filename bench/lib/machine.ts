/** What the figures were measured on. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

function version(cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    return re.exec(out)?.[1] ?? out.trim().split('\n')[0] ?? 'unknown';
  } catch (err) {
    const out = String((err as { stdout?: string; stderr?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
    return re.exec(out)?.[1] ?? 'not installed';
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  mosquitto: string;
  influxd: string;
  chromium: string;
  load: string;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    mosquitto: version('/usr/sbin/mosquitto', ['-h'], /mosquitto version (\S+)/),
    influxd: version('/usr/bin/influxd', ['version'], /InfluxDB v?(\S+)/),
    chromium: version('/usr/bin/chromium', ['--version'], /Chromium (\S+)/),
    load: version('cat', ['/proc/loadavg'], /^(\S+ \S+ \S+)/),
  };
}
