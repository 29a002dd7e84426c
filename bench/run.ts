/**
 * `npm run bench`: every figure beside its baseline from the same run, as a ratio with the absolute
 * numbers; writes docs/benchmarks.md. `-- --quick` for a one-minute version, `-- --soak 30m` adds a
 * soak at 1,000 msg/s, `-- --only=pg,ops --write` measures those sections and replaces only them in
 * docs/benchmarks.md (each says when and under what load it ran). Exits non-zero only when it could not
 * run, never because a goal was missed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runAlertBench, type LatencyResult } from './alerts.ts';
import { runFootprintBench, type FootprintResult } from './footprint.ts';
import { runIngestBench } from './ingest.ts';
import { runPushBench, type PushLatencyResult } from './push.ts';
import { machine } from './lib/machine.ts';
import { runModbusBench } from './modbus.ts';
import { DEFAULT_INGEST_WINDOW } from '../ingest/src/config.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const soakArg = args.indexOf('--soak');
const soakMinutes = soakArg >= 0 ? Number.parseInt(args[soakArg + 1] ?? '30', 10) : undefined;
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const writeSections = args.includes('--write');
const want = (s: string) => !only || only.includes(s);
const log = (s: string) => process.stdout.write(`${s}\n`);
const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;

type Row = [string, string, string];
const sections: Array<{ title: string; intro: string; header: Row; rows: Row[]; notes: string[] }> = [];
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const started = Date.now();
const m = machine();
log(`ParkOps benchmarks (${quick ? 'quick' : 'full'}) on ${m.cpu}, ${m.cores} cores`);

async function section(name: string, f: () => Promise<void>): Promise<void> {
  if (!want(name)) return;
  const t = Date.now();
  log(`- ${name}`);
  try {
    await f();
  } catch (err) {
    log(`  ${name} failed: ${(err as Error).stack ?? err}`);
    sections.push({ title: name, intro: `Could not run: ${(err as Error).message.split('\n')[0]}`, header: ['', '', ''], rows: [], notes: [] });
  }
  log(`  (${Math.round((Date.now() - t) / 1000)} s)`);
}

await section('ingest', async () => {
  const { results, ratios, maxInflight } = await runIngestBench({ quick, log });
  sections.push({
    title: 'Ingest rate',
    intro: `QoS 1 through Mosquitto ${m.mosquitto} on loopback with the shipped mosquitto.conf's limits (max_inflight_messages ${maxInflight}, queue sizes), a mixed site stream (80% bays, 10% levels, 4% pumps, 4% venues, 2% gates). For (a), (b) and (c) the stream is first queued in Mosquitto for the subscriber's persistent session, then the subscriber connects and drains it: rate = messages / (first to last stored, or received for the no-op), so the publisher on the same two cores does not set the pace. ParkOps acknowledges each message only after its durable commit (its own subscriber holds up to MQTT_INGEST_WINDOW = ${DEFAULT_INGEST_WINDOW} unacknowledged and commits them together, synchronous=FULL unless the row says NORMAL); the no-op acknowledges at once. (a), (a) NORMAL and (c) on one connection, and (e) and (e0), run ${quick ? 'once' : 'three times, interleaved,'} and keep their best round (the machine is shared). (d) Node-RED acknowledges on receipt, so it is fed live and timed until InfluxDB holds every point. (e) devices publish straight into the broker: four device connections, rate = messages / (first publish to last PUBACK); ParkOps' embedded broker commits before each PUBACK, bare aedes (same version, nothing behind authorizePublish) acknowledges at once.`,
    header: ['what', 'messages/s', 'detail'],
    rows: [
      ...results.map((r): Row => [r.name, fmt(r.rate), `${fmt(r.messages)} messages in ${fmt(r.ms / 1000, 2)} s${r.note ? `; ${r.note}` : ''}`]),
      ...ratios.map((r): Row => [`**${r.name}**`, `**${fmt(r.value, 2)}**`, r.goal ? `goal ${r.goal}: ${r.value >= Number(r.goal.replace('>=', '')) ? 'met' : 'missed'}` : '']),
    ],
    notes: [
      "What limits (a): `node --import tsx bench/profile-ingest.ts 100000 1` profiles ParkOps draining the same stream and prints the inclusive time of each stage. The MQTT side (framing, PUBLISH decoding, one PUBACK write per batch) is now a few per cent; the rest is the ingest itself: the SQLite transaction (the row inserts, the live-state and rollup rows, and the COMMIT's WAL writes of every B-tree page the batch touched), payload validation, and per-reading alert evaluation.",
      '',
    ],
  });
});

await section('alerts', async () => {
  const r: LatencyResult = await runAlertBench({ quick, log });
  sections.push({
    title: 'Alert latency',
    intro: `From the MQTT publish of a critical water level (both level sensors of a room) to the alert on \`park/alerts/#\` and on \`/api/stream\`, over ${r.tries} tries, with ${fmt(r.backgroundRate)} msg/s of background readings through Mosquitto. For comparison, Grafana's alert evaluation tick is 10 s at best (10,000 ms).`,
    header: ['path', 'p50 / p95 / p99 (ms)', 'max (ms)'],
    rows: [
      ['MQTT `park/alerts/#`', `${r.mqtt.p50} / ${r.mqtt.p95} / ${r.mqtt.p99}`, String(r.mqtt.max)],
      ['SSE `/api/stream`', `${r.sse.p50} / ${r.sse.p95} / ${r.sse.p99}`, String(r.sse.max)],
      ['**goal (MQTT): p50 < 50 ms, p99 < 50 ms (no worse under batched ingest)**', `**${r.mqtt.p50 < 50 && r.mqtt.p99 < 50 ? 'met' : 'missed'}**`, `vs Grafana's 10 s tick: ${fmt(10_000 / r.mqtt.p50, 0)}× sooner at p50`],
    ],
    notes: [],
  });
});

await section('modbus', async () => {
  const r = await runModbusBench({ quick, log });
  const base = r.rows[0]!;
  sections.push({
    title: 'Modbus register to dashboard',
    intro: `From writing a new level into a holding register of a real Modbus TCP server (Debian's python3-pymodbus, on loopback) until the sensor's \`level\` event arrives on \`/api/stream\`, over ${r.tries} changes per row, at two poll intervals. Changes land at pseudo-random phases of the poll cycle, so about half a poll interval is waiting for the next poll. Baseline in the same run and process: the same reading published over MQTT (embedded broker) until the same event. Each Modbus figure includes the register write itself (median ${fmt(r.setMs, 1)} ms).`,
    header: ['path', 'p50 / p95 (ms)', 'max (ms); ratio to the baseline at p50'],
    rows: r.rows.map((x): Row => [x.path, `${fmt(x.p50, 1)} / ${fmt(x.p95, 1)}`, `${fmt(x.max, 1)}${x.pollSec === null ? '' : `; ${fmt(x.p50 / base.p50, 1)}× the baseline, ${fmt(x.p50 / (x.pollSec * 500), 2)}× half the poll interval`}`]),
    notes: [],
  });
});

await section('push', async () => {
  const r: PushLatencyResult = await runPushBench({ quick, log });
  sections.push({
    title: 'Critical reading to phone push',
    intro: `From the MQTT publish of a critical water level (both level sensors of a room) to the Web Push request leaving ParkOps (its arrival at a local push service on loopback, which verifies the VAPID signature and decrypts each push, so only real pushes count), over ${r.tries} tries, with ${fmt(r.backgroundRate)} msg/s of background readings through Mosquitto. Baseline, same run: the alert on \`park/alerts/#\`. The push path adds the notifier's stored delivery, the RFC 8291 encryption, the VAPID token and the HTTP request. The push service's own delivery to the phone (FCM, Mozilla, Apple) comes on top and is outside ParkOps.`,
    header: ['path', 'p50 / p95 (ms)', 'max (ms)'],
    rows: [
      ['MQTT `park/alerts/#` (baseline)', `${r.mqtt.p50} / ${r.mqtt.p95}`, String(r.mqtt.max)],
      ['Web Push request leaves ParkOps', `${r.push.p50} / ${r.push.p95}`, String(r.push.max)],
      ['**push p50 / alert p50**', `**${fmt(r.ratio, 1)}×**`, ''],
    ],
    notes: [],
  });
});

await section('reports', async () => {
  const mod = (await import('./reports.ts').catch(() => null)) as { runReportsBench?: (o: { quick: boolean }) => Promise<{ rows: Array<{ name: string; value: number | string; unit: string; note?: string }> }> } | null;
  if (!mod?.runReportsBench) throw new Error('bench/reports.ts is not there');
  const r = await mod.runReportsBench({ quick });
  sections.push({
    title: 'Reports',
    intro: 'One year of the default site back-filled into the embedded SQLite store with its rollups, then the reports timed (median of several runs).',
    header: ['what', 'value', 'note'],
    rows: r.rows.map((x): Row => [x.name, `${typeof x.value === 'number' ? fmt(x.value, x.value < 10 ? 2 : 0) : x.value} ${x.unit}`, x.note ?? '']),
    notes: [],
  });
});

await section('dashboard', async () => {
  const mod = (await import('./dashboard.ts').catch(() => null)) as { runDashboardBench?: (o: { quick: boolean }) => Promise<{ rows: Array<[string, string, string]> }> } | null;
  if (!mod?.runDashboardBench) throw new Error('bench/dashboard.ts is not there');
  const r = await mod.runDashboardBench({ quick });
  sections.push({ title: 'Dashboard', intro: `Debian Chromium ${m.chromium}, headless, driven by playwright-core against ParkOps started as \`npm start\` does (simulators off).`, header: ['what', 'value', 'baseline / note'], rows: r.rows, notes: [] });
});

await section('ops', async () => {
  const { runOpsBench } = await import('./ops.ts');
  const r = await runOpsBench({ quick, log });
  sections.push({
    title: 'Retention, backups and size',
    intro: `\`${command}\` (bench/ops.ts). (1) Two simulated years into the embedded SQLite store with its rollups, retention off (baseline) and on (PARKOPS_RETENTION_DAYS=400), on a scaled site (see the note); full-site figures projected from the bytes measured. (2) The Ingest pipeline on the two-year database, with and without the retention service pruning the 330 days past retention, same stream, same run. (3) Backing up one year of that data, against a plain file copy.`,
    header: ['what', 'value', 'baseline / note'],
    rows: r.rows.map((x): Row => [x.name, x.value, x.note]),
    notes: r.notes,
  });
});

await section('pg', async () => {
  const { runPgBench } = await import('./pg.ts');
  const r = await runPgBench({ quick, log });
  const sorted = [...r.failoversMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  sections.push({
    title: 'Several processes on PostgreSQL',
    intro: `PostgreSQL 15 (a fresh cluster from the test harness, fsync on, loopback) and Mosquitto ${m.mosquitto}. (a) The same queued site stream of ${fmt(r.messages)} QoS 1 messages drained by one ParkOps process, acknowledging each after its durable commit: on SQLite (the embedded default, baseline) and on PostgreSQL. (b) Three processes on one database; the leader SIGKILLed five times, timed from the kill until another process answers \`"role": "leader"\` (lease 10 s, renewed every 2.5 s: a takeover waits for the dead leader's lease to run out).`,
    header: ['what', 'value', 'ratio / note'],
    rows: [
      ['(a) ingest on SQLite (baseline)', `${fmt(r.sqliteRate)} msg/s`, ''],
      ['(a) ingest on PostgreSQL', `${fmt(r.pgRate)} msg/s`, `${fmt(r.pgRate / r.sqliteRate, 2)}× SQLite`],
      ['(b) failover after SIGKILL of the leader, median of 5', `${fmt(median / 1000, 1)} s`, 'contract: within 15 s'],
      ['(b) failover, worst of 5', `${fmt(sorted.at(-1)! / 1000, 1)} s`, `all: ${r.failoversMs.map((t) => fmt(t / 1000, 1)).join(', ')} s`],
    ],
    notes: ['Each message is its own PostgreSQL transaction (MQTT.js hands over one message at a time per connection): BEGIN, the fence check on the lease row, the reading, live state, COMMIT with its WAL flush.', ''],
  });
});

await section('footprint', async () => {
  const f: FootprintResult = await runFootprintBench({ quick, soakMinutes, log });
  const rows: Row[] = [
    ['bare Node.js express server (baseline)', `${f.bareExpressMB} MB`, ''],
    ['ParkOps with Node-RED, idle', `${f.idleMB} MB`, `${fmt(f.idleMB / f.bareExpressMB, 1)}× the baseline`],
    [`ParkOps with Node-RED, at ${fmt(f.loadRate)} msg/s (peak)`, `${f.loadedMB} MB`, `${fmt(f.loadedMB / f.bareExpressMB, 1)}× the baseline`],
    ['ParkOps start to ready (incl. Node-RED)', `${fmt(f.nodeRedStartMs ?? NaN)} ms`, 'tsx compile included'],
  ];
  for (const s of f.soak ?? []) rows.push([`soak at 1,000 msg/s, minute ${s.minute}`, `${s.rssMB} MB`, '']);
  sections.push({ title: 'Footprint', intro: 'Resident set size of the ParkOps process (read from its /metrics).', header: ['what', 'RSS', 'ratio'], rows, notes: [] });
});

const took = Math.round((Date.now() - started) / 1000);
const md = [
  '# ParkOps benchmarks',
  '',
  `Written by \`${command}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${took} s. Every figure is measured beside its baseline in the same run; the machines are shared and noisy, so read the ratios first.`,
  '',
  '## Machine',
  '',
  `| | |`,
  `|---|---|`,
  `| CPU | ${m.cpu} |`,
  `| cores | ${m.cores} |`,
  `| memory | ${m.memoryGiB} GiB |`,
  `| Node.js | ${m.node} |`,
  `| Mosquitto | ${m.mosquitto} |`,
  `| InfluxDB | ${m.influxd} |`,
  `| Chromium | ${m.chromium} |`,
  `| load average at start | ${m.load} |`,
  // Other work on the machine slows both sides of a ratio, but not always alike: the end shows how busy it got.
  `| load average at end | ${machine().load} |`,
  '',
  ...sections.flatMap((s) => [
    `## ${s.title}`,
    '',
    s.intro,
    '',
    ...(s.rows.length > 0 ? [`| ${s.header.join(' | ')} |`, `|${s.header.map(() => '---').join('|')}|`, ...s.rows.map((r) => `| ${r.join(' | ')} |`), ''] : []),
    ...s.notes,
  ]),
].join('\n');

const out = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
// A full run replaces docs/benchmarks.md; `--only=... --write` replaces just its sections; otherwise print.
const partial = only !== undefined || quick;
if (!partial) writeFileSync(out, md + '\n');
else if (writeSections && only !== undefined && !quick) writeFileSync(out, replaceSections(readFileSync(out, 'utf8'), sections, m.load, machine().load) + '\n');
log(md);
log(`\n${!partial ? `wrote ${out}` : writeSections && !quick ? `replaced ${sections.map((x) => x.title).join(', ')} in ${out}` : 'printed only (--quick and --only do not replace docs/benchmarks.md; add --write to --only)'} in ${took} s`);

/** The document with each measured section put in place of the one of the same title (or added at the end). */
function replaceSections(doc: string, fresh: typeof sections, loadStart: string, loadEnd: string): string {
  const blocks = doc.trimEnd().split(/\n(?=## )/).map((b) => b.trimEnd());
  const when = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  for (const s of fresh) {
    const text = [
      `## ${s.title}`,
      '',
      `*This section alone: \`${command}\` on ${when}, on the machine above; load average ${loadStart} at its start, ${loadEnd} at its end.*`,
      '',
      s.intro,
      '',
      ...(s.rows.length > 0 ? [`| ${s.header.join(' | ')} |`, `|${s.header.map(() => '---').join('|')}|`, ...s.rows.map((r) => `| ${r.join(' | ')} |`), ''] : []),
      ...s.notes,
    ].join('\n').trimEnd();
    const at = blocks.findIndex((b) => b.startsWith(`## ${s.title}\n`));
    if (at >= 0) blocks[at] = text;
    else blocks.push(text);
  }
  return blocks.join('\n\n');
}
process.exit(0);
