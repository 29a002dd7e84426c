/**
 * Several ParkOps processes as one system on PostgreSQL (CONTRACT.md section 7), with real parts: a
 * PostgreSQL 15 cluster and the project's Mosquitto, both started by the harness, and three ParkOps
 * processes on the same database and broker. While a numbered QoS 1 stream of bay readings runs and
 * the water in a flood room rises through its bands:
 *
 * - the leader is SIGKILLed five times; each time another process must lead within 15 s (the times
 *   are printed), and the open alerts keep their ids and states;
 * - an acknowledgement made on a standby is applied by the leader and survives the next failover;
 * - the leader is cut off from PostgreSQL (its role may not log in, its connections are terminated):
 *   it must stop acting (end its process) before its lease runs out on the database's clock;
 * - PostgreSQL restarts (immediate shutdown, recovery from WAL) under load.
 *
 * At the end every reading the broker acknowledged to the publisher is stored exactly once, and no
 * alert was opened twice. Each process connects as its own database role (members of `parkops`,
 * acting as it), only so that the test can cut one of them off; the URL is otherwise the same.
 *
 * A process that lost its lease exits (code 75) by design; this test restarts it, as Docker's restart
 * policy or systemd would.
 */
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { loadSite } from '@parkops/contract/site/index.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { adminApi, type Api } from '../support/api.ts';
import { connect, eventually } from '../support/mqtt.ts';
import { compareStored, numberedStream, ranges, sleep, startProjectMosquitto, type ProjectMosquitto } from './support.ts';

const site = loadSite();
const bays = site.bays.map((b) => b.id);
const room = site.rooms[0]!;
const KILLS = 5;
const RATE = 100; // msg/s: well inside what one process on PostgreSQL drains on a busy 2-core machine
const TOTAL = 1_000_000; // more than is ever sent: the stream is paused once the faults are over

interface AlertView {
  id: string;
  rule: string;
  subject: string;
  state: string;
  severity: string;
}

interface Member {
  name: string;
  role: string;
  proc: ParkOpsProcess;
  /** Exits we caused (SIGKILL) or expect (cut off): the supervisor leaves those to the test. */
  held: boolean;
  restarts: number;
  /** The restart the test started after killing it, until it is done. */
  restarting?: Promise<void>;
}

describe('chaos: three ParkOps processes on PostgreSQL, one leader', () => {
  let server: PostgresServer | undefined;
  let mosq: ProjectMosquitto | undefined;
  const members: Member[] = [];
  let supervisor: NodeJS.Timeout | undefined;
  let terminator: NodeJS.Timeout | undefined;
  afterAll(async () => {
    if (supervisor) clearInterval(supervisor);
    if (terminator) clearInterval(terminator);
    await Promise.all(members.map((m) => m.proc.stop().catch(() => undefined)));
    await mosq?.stop();
    await server?.stop();
  });

  it('fails over within 15 s five times, loses and doubles nothing, keeps the alerts, fences a leader cut off from the database, rides out a PostgreSQL restart', async (ctx) => {
    const log: string[] = [];
    const note = (s: string): void => void log.push(`${new Date().toISOString().slice(11, 23)} ${s}`);
    ctx.onTestFailed(() => {
      console.log(log.join('\n'));
      for (const m of members) {
        const lines = m.proc.output().split('\n').filter((l) => !/not permitted to log in/.test(l));
        console.log(`--- ${m.name} (${m.proc.child.exitCode ?? m.proc.child.signalCode ?? 'running'}):\n${lines.slice(-40).join('\n').slice(-8000)}`);
      }
    });
    server = await startPostgres();
    mosq = await startProjectMosquitto();
    const password = new URL(server.url).password;
    const urlAs = (role: string): string => server!.url.replace('//parkops:', `//${role}:`);
    const admin = new pg.Pool({ connectionString: server.adminUrl.replace(/\/postgres$/, '/parkops'), max: 2 });
    // Its idle connections die with the PostgreSQL restart below; the pool makes new ones.
    admin.on('error', () => undefined);
    try {
      for (const n of [1, 2, 3]) {
        // Acting as `parkops` (SET ROLE at every login): the tables are the same whichever process made them.
        server.admin(`CREATE ROLE parkops_p${n} LOGIN PASSWORD '${password}' IN ROLE parkops`);
        server.admin(`ALTER ROLE parkops_p${n} SET role = 'parkops'`);
      }
      const env = (n: number) => ({ MQTT_URL: mosq!.urlFor('parkops-ingest'), PARKOPS_DATABASE_URL: urlAs(`parkops_p${n}`), PARKOPS_NODE_RED: 'false', LOG_LEVEL: 'info' });
      for (const n of [1, 2, 3]) members.push({ name: `p${n}`, role: `parkops_p${n}`, proc: await startParkOps({ env: env(n) }), held: false, restarts: 0 });
      // The restart policy: a process that exited on its own (lost lease: code 75) is started again.
      supervisor = setInterval(() => {
        for (const m of members) {
          const c = m.proc.child;
          if (m.held || (c.exitCode === null && c.signalCode === null)) continue;
          m.held = true;
          note(`${m.name} exited (${c.exitCode ?? c.signalCode}); restarting it`);
          m.restarts++;
          void m.proc.restart().then(
            () => void (m.held = false),
            (err: unknown) => note(`${m.name} failed to restart: ${(err as Error).message}`),
          );
        }
      }, 200);

      const roleOf = async (m: Member): Promise<string | undefined> => {
        if (m.proc.child.exitCode !== null || m.proc.child.signalCode !== null) return undefined;
        try {
          const res = await fetch(`${m.proc.baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
          return ((await res.json()) as { role?: string }).role;
        } catch {
          return undefined;
        }
      };
      const leaders = async (): Promise<Member[]> => {
        const roles = await Promise.all(members.map(roleOf));
        return members.filter((_, i) => roles[i] === 'leader');
      };
      const theLeader = async (except?: Member): Promise<Member> =>
        eventually(
          async () => {
            const l = (await leaders()).filter((m) => m !== except);
            return l.length === 1 ? l[0] : undefined;
          },
          30_000,
          'one leader',
        );
      let leader = await theLeader();
      const roles = await Promise.all(members.map(roleOf));
      expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
      expect(roles.filter((r) => r === 'standby')).toHaveLength(2);
      note(`leader: ${leader.name}; roles ${roles.join(', ')}`);

      const apis = new Map<Member, Api>();
      const apiOf = async (m: Member): Promise<Api> => {
        let a = apis.get(m);
        if (!a) apis.set(m, (a = await adminApi(m.proc)));
        return a;
      };
      const standby = async (): Promise<Member> => eventually(async () => {
        for (const m of members) if ((await roleOf(m)) === 'standby') return m;
        return undefined;
      }, 30_000, 'a standby');
      /** The flood room's level alerts as a standby serves them (from the database). */
      const tracked = async (): Promise<AlertView[]> => {
        for (let attempt = 0; ; attempt++) {
          const m = await standby();
          try {
            let res = await (await apiOf(m)).get<AlertView[]>('/api/alerts?state=active');
            if (res.status === 401) {
              apis.delete(m);
              res = await (await apiOf(m)).get<AlertView[]>('/api/alerts?state=active');
            }
            if (res.status !== 200) throw new Error(`GET /api/alerts answered ${res.status}`);
            return res.body
              .filter((a) => a.subject.startsWith(`flood/${room.id}/`))
              .map(({ id, rule, subject, state, severity }) => ({ id, rule, subject, state, severity }))
              .sort((a, b) => a.id.localeCompare(b.id));
          } catch (err) {
            apis.delete(m);
            if (attempt > 5) throw err;
            await sleep(300);
          }
        }
      };

      // The storm: the room's sensors report a level that rises one band at a time, kept fresh.
      const flood = await connect(mosq.urlFor('flood-devices'), { clientId: 'chaos-pg-flood', clean: false, reconnectPeriod: 100 });
      const b = room.bands;
      const steps = [b.warnMm + 20, b.alarmMm + 20, b.criticalMm + 20, b.criticalMm + 150];
      let step = 0;
      const publishLevels = (): void => {
        for (const l of room.levels) flood.publish(`park/flood/${room.id}/levels/${l.id}`, JSON.stringify({ mm: steps[step], ts: Date.now() }), { qos: 1 });
      };
      publishLevels();
      const levelTicker = setInterval(publishLevels, 3_000);

      const base = Date.now() - 6 * 3_600_000;
      const stream = await numberedStream({
        url: mosq.urlFor('parking-devices'),
        clientId: 'chaos-pg-publisher',
        total: TOTAL,
        rate: RATE,
        message: (i) => ({ topic: `park/parking/bays/${bays[i % bays.length]}`, payload: JSON.stringify({ occupied: i % 3 === 0, ts: base + i }) }),
      });

      // A warning band holds 30 s before it fires (site default holdSec).
      const first = await eventually(async () => (await tracked()).find((a) => a.rule === 'flood.level'), 60_000, 'a flood.level alert');
      note(`storm: ${first.id} ${first.severity} at ${steps[0]} mm`);

      const failovers: number[] = [];
      const alertChecks: string[] = [];
      let acked: string | undefined;
      for (let k = 1; k <= KILLS; k++) {
        await sleep(1_500);
        if (k === 2) {
          // Acknowledged on a standby: the leader applies it; it must survive the following failovers.
          const s = await standby();
          const target = (await tracked()).find((a) => a.state === 'firing')!;
          const res = await (await apiOf(s)).post<AlertView>(`/api/alerts/${encodeURIComponent(target.id)}/ack`, { note: 'acknowledged on a standby' });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          expect(res.body.state).toBe('acknowledged');
          acked = target.id;
          note(`${target.id} acknowledged through standby ${s.name}`);
          await eventually(async () => (await tracked()).find((a) => a.id === acked && a.state === 'acknowledged'), 10_000, 'the acknowledgement seen on the standbys');
        }
        const before = await tracked();
        leader.held = true;
        const t0 = Date.now();
        await leader.proc.kill();
        note(`kill ${k}: SIGKILL leader ${leader.name} (sent ${stream.sent()}, acked ${stream.acked.size})`);
        const old = leader;
        leader = await theLeader(old);
        const took = Date.now() - t0;
        failovers.push(took);
        note(`kill ${k}: ${leader.name} leads after ${(took / 1000).toFixed(1)} s`);
        old.restarting = old.proc.restart().then(() => void (old.held = false));
        const after = await eventually(async () => {
          const now = await tracked();
          // Severity may rise meanwhile (the water does); the id and the state must stay.
          return before.every((x) => now.some((y) => y.id === x.id && y.state === x.state)) ? now : undefined;
        }, 10_000, `the alerts open before kill ${k} unchanged after it`);
        alertChecks.push(`kill ${k}: ${before.length} open alerts (${before.map((a) => `${a.state}/${a.severity}`).join(', ')}) kept their ids and states; ${after.length} open after`);
        // The water rises to the next band under the new leader.
        if (step < steps.length - 1) {
          step++;
          publishLevels();
        }
      }

      // Cut off: the leader's role may not log in and its connections are terminated, again and again.
      await apiOf(leader); // nothing; keeps the API cache warm for the standbys below
      const cut = leader;
      // It may still be finishing the restart after an earlier kill (it took the lease while starting).
      await cut.restarting;
      cut.held = true;
      const lease = (await admin.query<{ holder: string; exp: number }>('SELECT holder, (extract(epoch FROM expires_at) * 1000)::float8 AS exp FROM leader_lease')).rows[0]!;
      const cutAt = Date.now();
      server.admin(`ALTER ROLE ${cut.role} NOLOGIN`);
      const terminate = (): void => {
        try {
          server!.admin(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '${cut.role}'`);
        } catch (err) {
          note(`terminating ${cut.role}'s connections failed: ${(err as Error).message}`);
        }
      };
      terminate();
      terminator = setInterval(terminate, 300);
      const exitedAt = await eventually(async () => (cut.proc.child.exitCode !== null || cut.proc.child.signalCode !== null ? Date.now() : undefined), 20_000, 'the cut-off leader to stop acting');
      note(`cut off ${cut.name} at ${new Date(cutAt).toISOString().slice(11, 23)}; it exited (${cut.proc.child.exitCode}) after ${((exitedAt - cutAt) / 1000).toFixed(1)} s; its lease ran until ${new Date(lease.exp).toISOString().slice(11, 23)}`);
      expect(cut.proc.child.exitCode).toBe(75);
      // It stopped before its lease ran out: nobody else could have been leader while it still acted.
      expect(exitedAt).toBeLessThan(lease.exp + 0);
      expect(cut.proc.output()).toMatch(/leader lease lost/);
      const next = await theLeader(cut);
      note(`after the cut-off ${next.name} leads, ${((Date.now() - cutAt) / 1000).toFixed(1)} s after it`);
      clearInterval(terminator);
      server.admin(`ALTER ROLE ${cut.role} LOGIN`);
      await cut.proc.restart();
      cut.held = false;
      leader = next;

      // PostgreSQL restarts under load: immediate shutdown (no checkpoint), recovery from WAL.
      note(`PostgreSQL immediate restart (sent ${stream.sent()}, acked ${stream.acked.size})`);
      await server.restart('immediate');
      note('PostgreSQL back');
      await theLeader();

      // A few more seconds of traffic under the last leader, then the stream stops and settles.
      await sleep(5_000);
      stream.paused = true;
      await eventually(async () => stream.acked.size === stream.sent() || undefined, 30_000, 'the publisher\'s last publishes acknowledged').catch(() => undefined);
      note(`stream stopped: ${stream.sent()} sent, ${stream.acked.size} acknowledged by the broker`);
      clearInterval(levelTicker);
      const storedOf = async (): Promise<Map<number, number>> => {
        const rows = (await admin.query<{ i: number; n: number }>('SELECT (ts - $1)::int AS i, count(*)::int AS n FROM bay_readings WHERE ts >= $1 AND ts < $2 GROUP BY ts', [base, base + stream.sent()])).rows;
        return new Map(rows.map((r) => [r.i, r.n]));
      };
      // The last leader drains what is still queued for the session; wait while it makes progress.
      let stored = await storedOf();
      for (let lastSize = -1, still = 0; compareStored(stream.acked, stored).missing.length > 0 && still < 40; ) {
        await sleep(500);
        stored = await storedOf();
        still = stored.size === lastSize ? still + 1 : 0;
        lastSize = stored.size;
      }
      const { missing, duplicated } = compareStored(stream.acked, stored);
      expect(missing, `acknowledged but not stored: ${ranges(missing)}\n${log.join('\n')}`).toEqual([]);
      expect(duplicated).toEqual([]);

      // No alert opened twice: one alert per rule and subject, each opened once.
      const twice = (await admin.query('SELECT rule, subject, count(*)::int AS n FROM alerts GROUP BY rule, subject HAVING count(*) > 1')).rows;
      expect(twice).toEqual([]);
      const openedTwice = (await admin.query("SELECT alert_id, count(*)::int AS n FROM alert_events WHERE change = 'opened' GROUP BY alert_id HAVING count(*) > 1")).rows;
      expect(openedTwice).toEqual([]);
      const final = await tracked();
      // The acknowledgement made on a standby is stored once, by the leader (the rising water later
      // sends an acknowledged alert back to firing: worse than when it was acknowledged).
      const acks = (await admin.query<{ actor: string; note: string }>("SELECT actor, note FROM alert_events WHERE alert_id = $1 AND change = 'acknowledged'", [acked])).rows;
      expect(acks).toEqual([{ actor: 'admin', note: 'acknowledged on a standby' }]);
      expect(final.find((a) => a.id === first.id)?.severity).toBe('critical');
      const epochs = (await admin.query<{ epoch: number }>('SELECT epoch FROM leader_lease')).rows[0]!.epoch;

      for (const t of failovers) expect(t).toBeLessThan(15_000);
      const sorted = [...failovers].sort((x, y) => x - y);
      console.log(
        [
          `PostgreSQL failover chaos: ${stream.acked.size} readings acknowledged by the broker, ${stored.size} stored, ${missing.length} missing, ${duplicated.length} stored twice`,
          `failover after SIGKILL of the leader (s): ${failovers.map((t) => (t / 1000).toFixed(1)).join(', ')}; median ${(sorted[2]! / 1000).toFixed(1)}, worst ${(sorted[4]! / 1000).toFixed(1)}`,
          `lease epochs: ${epochs}; restarts after a lost lease: ${members.map((m) => `${m.name} ${m.restarts}`).join(', ')}`,
          ...alertChecks,
          ...log,
        ].join('\n'),
      );
      await flood.endAsync();
      await stream.close();
    } finally {
      await admin.end();
    }
  });
});
