/**
 * Ingest per batch, on a real SQLite file: what arrives in one turn of the event loop is one
 * transaction; acks come after the commit in the order received; `reading.accepted` per reading and
 * one `readings.accepted` follow in the same synchronous pass; the `latest` table gets one row per
 * subject; a failed commit acknowledges nothing it held and leaves memory as it was.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type ReadingAccepted } from './bus.ts';
import { DEFAULT_INGEST_WINDOW } from './config.ts';
import { Topics } from '@parkops/contract/index.ts';
import { Ingest, StoreUnavailable } from './ingest.ts';
import { LiveState, SqliteLiveRepository } from './live-state.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from './store/db.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import { SqliteTransactions } from './db/tx.ts';

const site = loadSite();
const topics = new Topics('park');
const log = createLogger('silent');

let dir: string;
let db: Db;
let live: LiveState;
let bus: EventBus;
let metrics: Metrics;
let ingest: Ingest;

async function open(): Promise<void> {
  db = openDatabase(dir);
  const store = new SqliteStore(db, site);
  await store.start();
  live = new LiveState(new SqliteLiveRepository(db), site);
  await live.load();
  bus = new EventBus(log);
  metrics = new Metrics();
  ingest = new Ingest({ transactions: new SqliteTransactions(db), store, live, bus, topics, site, metrics, log });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-ingest-unit-'));
  await open();
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const bay = (id: string, occupied: boolean, ts: number): [string, Buffer] => [topics.bay(id), Buffer.from(JSON.stringify({ occupied, ts }))];
const histogramCount = async (name: string): Promise<number> => Number(new RegExp(`^${name}_count (\\d+)`, 'm').exec(await metrics.render())?.[1]);

describe('Ingest batches', () => {
  it('commits one turn of messages in one transaction, acks in order after it, then emits per reading and once per batch', async () => {
    const t = Date.now() - 60_000;
    const order: string[] = [];
    bus.on('reading.accepted', (e) => void order.push(`reading ${e.reading.subject} ${e.reading.ts - t}`));
    bus.on('readings.accepted', (e) => void order.push(`batch of ${e.readings.length}`));
    const messages: Array<[string, Buffer]> = [
      bay('A-001', true, t),
      [topics.alert('x-1'), Buffer.from('{}')], // ParkOps' own: passed over
      bay('A-002', true, t + 1),
      [topics.bay('A-003'), Buffer.from('{"occupied":tru')], // rejected
      bay('A-001', false, t + 2),
    ];
    const acks: Array<[number, Error | undefined]> = [];
    messages.forEach(([topic, payload], i) => ingest.enqueue(topic, payload, Date.now(), (err) => (acks.push([i, err]), order.push(`ack ${i}`))));
    expect(acks).toEqual([]);
    await nextTurn();
    expect(acks).toEqual([0, 1, 2, 3, 4].map((i) => [i, undefined]));
    expect(order).toEqual(['ack 0', 'ack 1', 'ack 2', 'ack 3', 'ack 4', 'reading parking/bays/A-001 0', 'reading parking/bays/A-002 1', 'reading parking/bays/A-001 2', 'batch of 3']);
    expect(await histogramCount('parkops_ingest_batch_size')).toBe(1);
    expect(await metrics.received.get()).toBe(4);
    expect(await metrics.accepted.get({ kind: 'bay' })).toBe(3);
  });

  it('keeps one latest row per subject for a batch, with the last state, across a restart', async () => {
    const t = Date.now() - 60_000;
    for (let i = 0; i < 6; i++) ingest.enqueue(...bay('B-010', i % 2 === 0, t + i), Date.now(), () => undefined);
    await nextTurn();
    const rows = db.prepare("SELECT subject, ts, data FROM latest WHERE subject = 'parking/bays/B-010'").all() as Array<{ ts: number; data: string }>;
    expect(rows).toEqual([{ subject: 'parking/bays/B-010', ts: t + 5, data: JSON.stringify({ occupied: false, battery: null }) }]);
    expect(live.bayView('B-010', Date.now())).toMatchObject({ occupied: false, since: new Date(t + 5).toISOString() });
    db.close();
    await open();
    expect(live.bayView('B-010', Date.now())).toMatchObject({ occupied: false, since: new Date(t + 5).toISOString() });
  });

  it('records every gate scan of a batch, in order, with one latest row per gate', async () => {
    const t = Date.now() - 60_000;
    const scan = (pass: string, ts: number): [string, Buffer] => [topics.gate('north-in'), Buffer.from(JSON.stringify({ event: 'entry', pass, ts }))];
    for (const [i, pass] of ['QR-1', 'QR-2', 'QR-3'].entries()) ingest.enqueue(...scan(pass, t + i), Date.now(), () => undefined);
    await nextTurn();
    expect(db.prepare('SELECT pass FROM recent_gate_scans ORDER BY id').pluck().all()).toEqual(['QR-1', 'QR-2', 'QR-3']);
    expect(db.prepare("SELECT count(*) FROM latest WHERE subject = 'parking/gates/north-in'").pluck().get()).toBe(1);
    expect(live.parking(Date.now()).recentScans.map((s) => s.pass)).toEqual(['QR-3', 'QR-2', 'QR-1']);
  });

  it('on a failed commit acknowledges nothing it held (StoreUnavailable), acks what it rejected, and leaves live state as it was', async () => {
    const t = Date.now() - 60_000;
    ingest.enqueue(...bay('C-001', true, t), Date.now(), () => undefined);
    await nextTurn();
    const events: ReadingAccepted[] = [];
    bus.on('reading.accepted', (e) => void events.push(e));
    // A real SQLite refusal: writes fail with SQLITE_READONLY.
    db.pragma('query_only = ON');
    const acks: Array<Error | undefined> = [];
    ingest.enqueue(...bay('C-001', false, t + 1), Date.now(), (err) => acks.push(err));
    ingest.enqueue(topics.bay('C-002'), Buffer.from('not json'), Date.now(), (err) => acks.push(err));
    ingest.enqueue(...bay('C-003', true, t + 2), Date.now(), (err) => acks.push(err));
    await nextTurn();
    expect(acks.map((e) => (e === undefined ? 'ack' : e instanceof StoreUnavailable ? 'store unavailable' : String(e)))).toEqual(['store unavailable', 'ack', 'store unavailable']);
    expect(acks[0]!.message).toMatch(/store write failed: .*readonly/i);
    expect(events).toEqual([]);
    expect(live.bayView('C-001', Date.now())).toMatchObject({ occupied: true });
    expect(live.bayView('C-003', Date.now())).toMatchObject({ occupied: null });
    expect(await metrics.storeErrors.get()).toBe(2);
    // Once the store writes again, the redelivered messages go in and state moves on.
    db.pragma('query_only = OFF');
    ingest.enqueue(...bay('C-001', false, t + 1), Date.now(), () => undefined);
    await nextTurn();
    expect(live.bayView('C-001', Date.now())).toMatchObject({ occupied: false });
    expect(db.prepare("SELECT data FROM latest WHERE subject = 'parking/bays/C-001'").pluck().get()).toBe(JSON.stringify({ occupied: false, battery: null }));
  });
});

describe('the default ingest window', () => {
  it('is half the max_inflight_messages of the shipped mosquitto.conf: the broker sends the next window while one commits', () => {
    const conf = readFileSync(new URL('../../mosquitto.conf', import.meta.url), 'utf8');
    const inflight = Number(/^max_inflight_messages (\d+)/m.exec(conf)?.[1]);
    expect(inflight).toBe(2 * DEFAULT_INGEST_WINDOW);
  });
});
