import pg from 'pg';
import { startPostgres } from '/work/wt/pg/test/harness/postgres.ts';
import { startParkOps } from '/work/wt/pg/test/harness/system.ts';
import { startProjectMosquitto } from '/work/wt/pg/test/chaos/support.ts';
import { connect } from '/work/wt/pg/test/support/mqtt.ts';
import { loadSite } from '/work/wt/pg/ingest/src/site/index.ts';
import { adminApi } from '/work/wt/pg/test/support/api.ts';
const site = loadSite();
const room = site.rooms[0]!;
const server = await startPostgres();
const mosq = await startProjectMosquitto();
const env = { MQTT_URL: mosq.urlFor('parkops-ingest'), PARKOPS_DATABASE_URL: server.url, PARKOPS_NODE_RED: 'false', LOG_LEVEL: 'info' };
const a = await startParkOps({ env });
const b = await startParkOps({ env });
const flood = await connect(mosq.urlFor('flood-devices'), { clientId: 'dbg-flood' });
for (let k = 0; k < 4; k++) {
  for (const l of room.levels) flood.publish(`park/flood/${room.id}/levels/${l.id}`, JSON.stringify({ mm: room.bands.warnMm + 20, ts: Date.now() }), { qos: 1 });
  await new Promise((r) => setTimeout(r, 2000));
}
const admin = new pg.Pool({ connectionString: server.url });
console.log((await admin.query('SELECT id, rule, subject, state, severity FROM alerts')).rows);
console.log((await admin.query('SELECT count(*) FROM level_readings')).rows, (await admin.query('SELECT subject, data FROM latest')).rows);
for (const p of [a, b]) { const api = await adminApi(p); console.log((await api.get('/api/alerts?state=active')).body, await (await fetch(p.baseUrl + '/api/health')).text()); }
console.log(a.output().slice(-3000));
await admin.end(); await flood.endAsync(); await a.stop(); await b.stop(); await mosq.stop(); await server.stop();
