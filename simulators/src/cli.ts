#!/usr/bin/env -S npx tsx
/**
 * `npm run sim -- [options]`: runs the simulated park against an MQTT broker. See docs/simulators.md.
 */
import { parseArgs } from 'node:util';
import { loadSite, SiteError, DEFAULT_SITE_PATH } from '@parkops/contract/site';
import { DEFAULT_TOPIC_PREFIX } from '@parkops/contract';
import { SimModbusServers } from './modbus-server.ts';
import { ChirpStackNetworkServer, demoPlan, planCsv } from './lorawan/network-server.ts';
import { MqttPublisher, PublisherError } from './publisher.ts';
import { planTime, parseTime, UsageError } from './cli-args.ts';
import { SimulationRunner, type Progress } from './runner.ts';
import { SCENARIOS, ScenarioError } from './scenarios.ts';
import { createSimulation, type Simulation } from './simulation.ts';
import type { SimMessage } from './types.ts';

const HELP = `ParkOps device simulators: the whole park (bays, gates, the B1 flood room, venues) over MQTT.

Usage: npm run sim -- [options]

Broker and site
  --mqtt <url>              broker (default mqtt://127.0.0.1:1883), e.g. mqtt://user:pass@127.0.0.1:1883
  --prefix <prefix>         topic prefix (default ${DEFAULT_TOPIC_PREFIX})
  --site <path>             site file (default: the bundled Jining Innovation Valley site)
  --per-device-connections  one MQTT connection per device, each with its own Last Will
  --max-in-flight <n>       QoS 1 publishes awaiting PUBACK at once (default 1000; ids are 16-bit)

LoRaWAN (docs/devices.md)
  --lorawan chirpstack      the last zone's bays, both level sensors and the first venue's counter
                            speak as a ChirpStack v4 network server: application/{id}/device/{devEui}/event/up
                            uplinks with real payload bytes; their bindings must exist in ParkOps
  --lorawan-mqtt <url>      the network server's broker for those uplinks (default: --mqtt)
  --lorawan-bindings        print those bindings as the import file for POST /api/devices/bindings.csv, and exit

What to simulate
  --scenario, -s <names>    scenarios, combined with + or , or repeated (default: the calendar decides)
  --seed <n>                same seed, same stream (default 1)
  --events-at <time>        when scenario happenings begin (default: 5 minutes after the start)
  --bad-share <0..1>        share of bay sensors bad-devices breaks (default 0.02)
  --timestamps epoch|iso    "ts" as epoch ms (default) or ISO 8601 with the site's offset

Time (stamps never run ahead of the wall clock: the contract rejects them)
  (none)                    live: real time from now, until Ctrl-C
  --speed <n>               accelerated: n simulated seconds per second; needs --from in the past
  --from <time>             simulated start: ISO time, epoch ms, "now" or relative (-30d, -6h, -90m)
  --to <time>               simulated end; with --from and no --speed: back-fill as fast as the broker takes it
  --duration <span>         end = start + span (30m, 4h, 2d)
  A back-fill that reaches "now" before its end carries on live.

Output
  --dry-run                 no broker: generate only and report the rate
  --print                   no broker: write messages to stdout as NDJSON
  --quiet                   no progress line
  -h, --help                this text

Scenarios
${SCENARIOS.map((s) => `  ${s.name.padEnd(16)}${wrap(s.summary, 18)}`).join('\n')}

Examples
  npm run sim                                              # live park on localhost
  npm run sim -- -s weekday+storm --from -4h --speed 60     # a storm in four minutes
  npm run sim -- --from -30d --to now                        # back-fill 30 days of history
  npm run sim -- -s bad-devices --mqtt mqtt://sim:secret@10.0.0.5:1883 --per-device-connections
  npm run sim -- --lorawan-bindings > bindings.csv                 # then import it on the Devices page
  npm run sim -- --lorawan chirpstack                              # part of the park as LoRaWAN devices
`;

function wrap(text: string, indent: number): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length + w.length + 1 > 100 - indent && line !== '') {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function progressLine(sim: Simulation, p: Progress): string {
  const pct = p.done === null ? '' : ` | ${(p.done * 100).toFixed(1)}%`;
  return `sim ${sim.local.iso(p.simNow).slice(0, 19).replace('T', ' ')} | sent ${fmtInt(p.sent)} | ${fmtInt(p.rate)} msg/s${pct}`;
}

/** Stops the run cleanly once it is under way; before that a signal just exits. */
let stopRun: (() => void) | null = null;

// First signal: stop cleanly (flush, announce offline, summary). A second one a second or more later
// exits at once; sooner it is the same Ctrl-C relayed twice (tsx relays signals to its child).
let firstSignalAt = 0;
function onSignal(): void {
  if (stopRun === null || (firstSignalAt > 0 && Date.now() - firstSignalAt > 1000)) process.exit(130);
  firstSignalAt ||= Date.now();
  stopRun();
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

async function main(): Promise<number> {
  // `--from -30d`: parseArgs takes a value starting with "-" for an option; join such pairs first.
  const argv = process.argv.slice(2);
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    if (/^--(from|to|events-at)$/.test(a) && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  const { values: v } = parseArgs({
    args,
    options: {
      mqtt: { type: 'string' },
      prefix: { type: 'string' },
      site: { type: 'string' },
      'per-device-connections': { type: 'boolean' },
      'max-in-flight': { type: 'string' },
      lorawan: { type: 'string' },
      'lorawan-mqtt': { type: 'string' },
      'lorawan-bindings': { type: 'boolean' },
      scenario: { type: 'string', short: 's', multiple: true },
      seed: { type: 'string' },
      'events-at': { type: 'string' },
      'bad-share': { type: 'string' },
      timestamps: { type: 'string' },
      speed: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      duration: { type: 'string' },
      'dry-run': { type: 'boolean' },
      print: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const now = Date.now();
  const time = planTime({ speed: v.speed, from: v.from, to: v.to, duration: v.duration }, now);
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: "${v.seed}" must be a whole number`);
  if (v.timestamps !== undefined && v.timestamps !== 'epoch' && v.timestamps !== 'iso') throw new UsageError('--timestamps must be epoch or iso');
  const badShare = v['bad-share'] === undefined ? undefined : Number(v['bad-share']);
  const maxInFlight = v['max-in-flight'] === undefined ? 1000 : Number(v['max-in-flight']);
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1 && maxInFlight <= 65_000)) throw new UsageError('--max-in-flight must be a whole number from 1 to 65000');
  const site = loadSite(v.site ?? DEFAULT_SITE_PATH);
  if (v['lorawan-bindings']) {
    process.stdout.write(planCsv(demoPlan(site)));
    return 0;
  }
  if (v.lorawan !== undefined && v.lorawan !== 'chirpstack') throw new UsageError('--lorawan: the simulators speak as chirpstack (The Things Stack is read by ParkOps, but not simulated)');
  const sim = createSimulation({
    site,
    scenarios: v.scenario ?? [],
    seed,
    startAt: time.from,
    prefix: v.prefix ?? DEFAULT_TOPIC_PREFIX,
    timestamps: (v.timestamps) ?? 'epoch',
    ...(badShare !== undefined ? { badShare } : {}),
    ...(v['events-at'] !== undefined ? { eventsAt: parseTime(v['events-at'], '--events-at', now) } : {}),
  });

  const err = process.stderr;
  const say = (line: string): void => {
    if (!v.quiet || v.print) err.write(`${line}\n`);
  };
  say(`${site.name}: ${site.bays.length} bays, ${site.gates.length} gates, ${site.rooms.length} flood rooms, ${site.venues.length} venues; ${sim.devices().length} devices`);
  say(`scenarios: ${sim.plan.names.length > 0 ? sim.plan.names.join(' + ') : '(calendar)'}; seed ${seed}; ${time.description}`);

  const ns = v.lorawan === 'chirpstack' ? new ChirpStackNetworkServer(site, demoPlan(site, new Set(sim.badBays.keys())), { seed }) : null;
  if (ns) say(`LoRaWAN: ${demoPlan(site).length} devices speak as ChirpStack v4 (bindings: npm run sim -- --lorawan-bindings)`);
  let publisher: MqttPublisher | null = null;
  let modbus: SimModbusServers | null = null;
  let uplinks: MqttPublisher | null = null;
  let sink: (m: SimMessage) => Promise<void> | undefined;
  if (v.print) {
    sink = (m) => {
      const ok = process.stdout.write(`${JSON.stringify(m)}\n`);
      return ok ? undefined : new Promise((r) => process.stdout.once('drain', () => r()));
    };
  } else if (v['dry-run']) {
    sink = () => undefined;
  } else {
    // Devices the site file puts on Modbus TCP speak only Modbus: served here when on this machine.
    modbus = new SimModbusServers(site);
    const mb = modbus;
    const devices = sim.devices().filter((d) => !mb.modbusIds.has(d.id) && !ns?.has(d.id));
    publisher = new MqttPublisher({ url: v.mqtt ?? 'mqtt://127.0.0.1:1883', devices, perDeviceConnections: v['per-device-connections'] ?? false, maxInFlight });
    say(`connecting to ${publisher.display}${v['per-device-connections'] ? ` with ${devices.length} connections` : ''} ...`);
    await publisher.connect();
    if (mb.needed) {
      await mb.start();
      say(`serving the site's Modbus TCP devices on ${mb.endpoints.join(', ')}`);
    }
    const pub = publisher;
    sink = (m) => (mb.consume(m) ? undefined : pub.publish(m));
    if (ns) {
      uplinks = new MqttPublisher({ url: v['lorawan-mqtt'] ?? v.mqtt ?? 'mqtt://127.0.0.1:1883', devices: [], maxInFlight, clientIdPrefix: `parkops-sim-chirpstack-${process.pid}` });
      await uplinks.connect();
    }
  }
  if (ns) {
    const inner = sink;
    const ups = uplinks;
    const prefix = v.prefix ?? DEFAULT_TOPIC_PREFIX;
    sink = (m) => {
      const waits = ns.translate(m).map((x) => (x.topic.startsWith(`${prefix}/`) || ups === null ? inner(x) : ups.publish(x)));
      const pending = waits.filter((w): w is Promise<void> => w !== undefined);
      return pending.length === 0 ? undefined : Promise.all(pending).then(() => undefined);
    };
  }

  const runner = new SimulationRunner({
    sim,
    sink,
    pace: v['dry-run'] && time.pace === 1 && Number.isFinite(time.until) ? 'max' : time.pace,
    until: time.until,
    progressEveryMs: err.isTTY ? 1000 : 10_000,
    onProgress: v.quiet || v.print ? undefined : (p) => err.write(err.isTTY ? `\r${progressLine(sim, p)}\x1b[K` : `${progressLine(sim, p)}\n`),
  });
  stopRun = () => runner.stop();

  const summary = await runner.run();
  if (err.isTTY && !v.quiet && !v.print) err.write('\n');
  if (publisher !== null) {
    // A pure back-fill (ending by the time it started) wrote history: its devices did not go offline
    // now, and announcing them so would raise "device silent" alerts on a system whose devices (or
    // built-in simulators) are live. A run that went live stops its devices, as a device does.
    const historyOnly = time.pace === 'max' && time.until <= now;
    say(historyOnly ? 'flushing ...' : 'flushing and announcing devices offline ...');
    await publisher.close(!historyOnly);
    await uplinks?.close(false);
  }
  await modbus?.stop();
  const s = sim.stats();
  const secs = summary.elapsedMs / 1000;
  const lines = [
    `simulated ${new Date(summary.from).toISOString()} .. ${new Date(summary.to).toISOString()}${summary.stoppedEarly ? ' (stopped early)' : ''}`,
    `messages ${fmtInt(summary.sent)} in ${secs.toFixed(1)} s = ${fmtInt(summary.ratePerSec)} msg/s`,
    `  by kind: ${Object.entries(s.byKind).map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ')}`,
    ...(Object.values(s.bad).some((n) => n > 0) ? [`  bad on purpose: ${Object.entries(s.bad).map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ')}`] : []),
    ...(s.wills > 0 ? [`  last wills: ${s.wills}`] : []),
    `parking: ${s.parking.occupied}/${s.parking.bays} occupied; ${fmtInt(s.parking.carsEntered)} entered, ${fmtInt(s.parking.carsExited)} exited, ${fmtInt(s.parking.turnedBack)} turned back`,
    ...s.flood.map((f) => `flood ${f.room}: level ${f.levelMm} mm, peak ${f.peakMm} mm, pumped ${fmtInt(f.pumpedL)} L; ${f.pumps.map((p) => `${p.id} ${p.starts} starts${p.fault !== 'none' ? ` (${p.fault})` : ''}`).join(', ')}`),
    `venues: ${s.venues.map((x) => `${x.venue} ${x.present} present`).join(', ')}`,
    ...(ns ? [`lorawan: ${fmtInt(ns.sent)} ChirpStack v4 uplinks`] : []),
  ];
  if (publisher !== null) {
    const p = publisher.stats();
    lines.push(`broker: ${fmtInt(p.acked)} acknowledged, ${fmtInt(p.failed)} failed${p.lastError ? ` (last error: ${p.lastError})` : ''}, ${p.connections} connection(s)`);
  }
  err.write(`${lines.join('\n')}\n`);
  return publisher !== null && publisher.stats().failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const known = e instanceof UsageError || e instanceof SiteError || e instanceof ScenarioError || e instanceof PublisherError || (e instanceof Error && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'));
    // A message, never a stack trace; usage mistakes get a pointer to --help.
    process.stderr.write(`parkops-sim: ${e instanceof Error ? e.message : String(e)}\n${known ? 'Try --help.\n' : ''}`);
    process.exit(2);
  },
);
