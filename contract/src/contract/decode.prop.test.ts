/**
 * Property-based tests (fast-check) of the payload decoder and the topic module: whatever
 * bytes arrive on whatever topic, decodeMessage ends in exactly one of an accepted reading that is
 * valid against the payload schema and the site, or a rejection with a reason. Never a throw, and
 * never the decoder's own "could not be decoded" safety net (which would mean an internal throw).
 *
 * Runs per property: FUZZ_RUNS (default 1,000 in CI; `npm run test:fuzz` runs 100,000). A failure
 * prints fast-check's seed and shrunk counterexample; replay with FUZZ_SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSite } from '../site/index.ts';
import { decodeMessage, type DecodeResult } from './decode.ts';
import { bayPayload, gatePayload, levelPayload, MAX_FUTURE_MS, MAX_PAYLOAD_BYTES, pumpPayload, venuePayload } from './payloads.ts';
import type { Reading } from './readings.ts';
import { REJECTION_CODES } from './reasons.ts';
import { ID_PATTERN, Topics, type DeviceTopic } from './topics.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };
// Deep-nesting and whole-payload properties build bigger inputs: fewer runs keep CI fast.
const heavy = { ...params, numRuns: Math.max(50, Math.ceil(RUNS / 10)) };
// About 1 ms a run on this machine's slowest property; generous, since 2 cores run other tests too.
const timeout = Math.max(30_000, RUNS * 5);

const site = loadSite();
const topics = new Topics('park');
const NOW = Date.parse('2026-07-21T08:00:00Z');
const utf8 = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// The oracle: what an accepted reading must satisfy, checked independently of the decoder's path.
// ---------------------------------------------------------------------------------------------

/** Throws (failing the property) unless `r` is exactly one of the two outcomes, and a sound one. */
function checkOutcome(topic: string, payload: Uint8Array, r: DecodeResult): void {
  expect(typeof r.ok).toBe('boolean');
  if (!r.ok) {
    expect(Object.keys(r).sort()).toEqual(['ok', 'rejection']);
    expect(REJECTION_CODES).toContain(r.rejection.code);
    expect(r.rejection.reason.startsWith(`${r.rejection.code}: `)).toBe(true);
    expect(r.rejection.reason.length).toBeGreaterThan(r.rejection.code.length + 2);
    // The safety net in decodeMessage catches internal throws; hitting it means the decoder threw.
    expect(r.rejection.reason).not.toMatch(/could not be decoded/);
    return;
  }
  expect(Object.keys(r).sort()).toEqual(['ok', 'reading']);
  checkReading(topic, payload, r.reading);
}

function checkReading(topic: string, payload: Uint8Array, reading: Reading): void {
  // The topic names the reading's subject and ids, all of which exist in the site.
  const parsed = topics.parse(topic);
  expect(parsed.kind).toBe(reading.kind);
  const t = parsed as DeviceTopic;
  expect(topics.of(t)).toBe(topic);
  expect(reading.subject).toBe(topics.subjectOf(t));
  // An overflowing number (1e309) is Infinity after JSON.parse: never part of a reading.
  for (const [k, v] of Object.entries(reading)) if (typeof v === 'number') expect([k, Number.isFinite(v)]).toEqual([k, true]);
  expect(Number.isInteger(reading.ts) || reading.kind !== 'status').toBe(true);
  expect(reading.ts).toBeLessThanOrEqual(NOW + MAX_FUTURE_MS);
  expect(payload.byteLength).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(payload);

  if (reading.kind === 'status') {
    expect(site.device(reading.deviceId)).toBeDefined();
    expect(['online', 'offline', '"online"', '"offline"']).toContain(text.trim());
    expect(reading.online).toBe(text.includes('online'));
    expect(reading.ts).toBe(NOW);
    return;
  }
  const json = JSON.parse(text) as Record<string, unknown>;
  expect(typeof json === 'object' && json !== null && !Array.isArray(json)).toBe(true);
  const expectTs = (ts: unknown): void => {
    if (ts === undefined) expect(reading.ts).toBe(NOW);
    else if (typeof ts === 'number') expect(reading.ts).toBe(ts);
    else expect(reading.ts).toBe(Date.parse(ts as string));
  };
  switch (reading.kind) {
    case 'bay': {
      const p = bayPayload.parse(json);
      expect(site.bay(reading.bayId)?.zone).toBe(reading.zoneId);
      expect(reading.occupied).toBe(p.occupied);
      expect(reading.battery).toBe(p.battery);
      expectTs(p.ts);
      return;
    }
    case 'gate': {
      const p = gatePayload.parse(json);
      expect(site.gate(reading.gateId)).toBeDefined();
      expect([reading.event, reading.pass]).toEqual([p.event, p.pass]);
      expectTs(p.ts);
      return;
    }
    case 'level': {
      const p = levelPayload.parse(json);
      expect(site.levelSensor(reading.roomId, reading.sensorId)).toBeDefined();
      expect(reading.mm).toBe(p.mm);
      expect(reading.mm >= -100 && reading.mm <= 10_000).toBe(true);
      expectTs(p.ts);
      return;
    }
    case 'pump': {
      const p = pumpPayload.parse(json);
      expect(site.pump(reading.roomId, reading.pumpId)).toBeDefined();
      expect([reading.running, reading.amps]).toEqual([p.running, p.amps]);
      expectTs(p.ts);
      return;
    }
    case 'venue': {
      const p = venuePayload.parse(json);
      expect(site.venue(reading.venueId)).toBeDefined();
      expect([reading.in, reading.out]).toEqual([p.in, p.out]);
      expectTs(p.ts);
      return;
    }
  }
}

const decode = (topic: string, payload: Uint8Array): DecodeResult => {
  let r: DecodeResult | undefined;
  expect(() => {
    r = decodeMessage(topic, payload, { topics, site, receivedAt: NOW });
  }).not.toThrow();
  return r!;
};

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const room = site.rooms[0]!;
const knownTopics: string[] = [
  ...site.bays.slice(0, 20).map((b) => topics.bay(b.id)),
  ...site.gates.map((g) => topics.gate(g.id)),
  ...site.rooms.flatMap((r) => [...r.levels.map((l) => topics.level(r.id, l.id)), ...r.pumps.map((p) => topics.pump(r.id, p.id))]),
  ...site.venues.map((v) => topics.venue(v.id)),
  topics.deviceStatus(site.bays[0]!.id),
  topics.deviceStatus(room.levels[0]!.id),
  topics.deviceStatus(site.venues[0]!.counterId),
];

/** Ids of every sort: real ones, 64/65-char ones, unicode, empty, wildcards and separators. */
const anyId = fc.oneof(
  fc.constantFrom(site.bays[0]!.id, site.gates[0]!.id, room.id, room.levels[0]!.id, room.pumps[0]!.id, site.venues[0]!.id),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  fc.constantFrom('x'.repeat(64), 'x'.repeat(65), 'A-'.repeat(40), '', '+', '#', '..', '%2F', 'A-001\u0000', 'Ａ-001', '停车位', '🚗', ' A-001'),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

/** Topics under the prefix and outside it, shaped like device topics or not at all. */
const anyTopic = fc.oneof(
  fc.constantFrom(...knownTopics),
  fc.tuple(fc.constantFrom('park', 'park ', 'Park', 'other', '', 'park/park'), fc.array(anyId, { maxLength: 6 })).map(([p, rest]) => [p, ...rest].join('/')),
  anyId.map((id) => topics.bay(id)),
  anyId.map((id) => topics.gate(id)),
  fc.tuple(anyId, anyId).map(([r, s]) => topics.level(r, s)),
  fc.tuple(anyId, anyId).map(([r, p]) => topics.pump(r, p)),
  anyId.map((id) => topics.venue(id)),
  anyId.map((id) => topics.deviceStatus(id)),
  fc.constantFrom('park/alerts/a1', 'park/rejected', 'park/ops/status', 'park/#', 'park/+/bays/A-001', 'park/parking/bays/A-001/', '/park/parking/bays/A-001'),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
);

/** Field values of every type, with the edge cases a fuzzer should try. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1e-320, 5e-324, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -1, 10_000, 10_000.0001, -100, -100.0001, 100, 100.5),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', 'true', 'entry', 'exit', 'online', '', '0', '2026-07-21T08:00:00Z', '2026-07-21T08:00:00', '2026-13-45T99:99:99+99:99'),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);
const fieldNames = ['occupied', 'battery', 'ts', 'event', 'pass', 'mm', 'running', 'amps', 'in', 'out', '__proto__', 'constructor', 'toString'] as const;
/** JSON objects with the contract's field names holding odd values, and junk fields. */
const oddObject = fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), fc.string({ maxLength: 12 })), oddValue, { maxKeys: 8 });

/** Raw JSON text that JSON.stringify cannot produce: numbers that overflow or underflow, bare words. */
const rawNumberText = fc.tuple(fc.constantFrom('mm', 'battery', 'amps', 'in', 'out', 'ts'), fc.constantFrom('1e309', '-1e309', '1e-400', '4.9e-325', '00', '-0', '1.', '.5', 'NaN', 'Infinity', '0x10', '1_000', '9007199254740993', '1e21'));

/** Now plus or minus up to ~10 minutes either side of the 5-minute future limit, or far away. */
const anyTs = fc.oneof(
  fc.integer({ min: NOW - 10 * 60_000, max: NOW + 10 * 60_000 }),
  fc.integer({ min: 0, max: NOW }),
  fc.constant(NOW + MAX_FUTURE_MS),
  fc.constant(NOW + MAX_FUTURE_MS + 1),
  fc.date({ min: new Date(0), max: new Date(NOW + 3_600_000), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date(0), max: new Date(NOW), noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '+08:00')),
);

/** A payload that the contract says is valid for its topic (ts may be more than 5 min ahead: then future_time). */
const validMessage: fc.Arbitrary<{ topic: string; body: Record<string, unknown> | string; future: boolean }> = fc
  .tuple(
    fc.oneof(
      fc.record({ k: fc.constant('bay' as const), id: fc.constantFrom(...site.bays.map((b) => b.id)), occupied: fc.boolean(), battery: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined }) }),
      fc.record({ k: fc.constant('gate' as const), id: fc.constantFrom(...site.gates.map((g) => g.id)), event: fc.constantFrom('entry', 'exit'), pass: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) }),
      fc.record({ k: fc.constant('level' as const), room: fc.constant(room), i: fc.nat(), mm: fc.double({ min: -100, max: 10_000, noNaN: true }) }),
      fc.record({ k: fc.constant('pump' as const), room: fc.constant(room), i: fc.nat(), running: fc.boolean(), amps: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }) }),
      fc.record({ k: fc.constant('venue' as const), id: fc.constantFrom(...site.venues.map((v) => v.id)), in: fc.nat(), out: fc.nat() }),
      fc.record({ k: fc.constant('status' as const), id: fc.constantFrom(site.bays[3]!.id, room.pumps[0]!.id, site.venues[0]!.counterId), online: fc.boolean(), quoted: fc.boolean() }),
    ),
    fc.option(anyTs, { nil: undefined }),
    fc.dictionary(fc.stringMatching(/^x_[a-z]{1,8}$/), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  )
  .map(([m, ts, extra]) => {
    const future = typeof ts === 'number' ? ts > NOW + MAX_FUTURE_MS : typeof ts === 'string' ? Date.parse(ts) > NOW + MAX_FUTURE_MS : false;
    const withTs = (o: Record<string, unknown>): Record<string, unknown> => ({ ...extra, ...o, ...(ts === undefined ? {} : { ts }) });
    switch (m.k) {
      case 'bay':
        return { topic: topics.bay(m.id), body: withTs({ occupied: m.occupied, ...(m.battery === undefined ? {} : { battery: m.battery }) }), future };
      case 'gate':
        return { topic: topics.gate(m.id), body: withTs({ event: m.event, pass: m.pass }), future };
      case 'level': {
        const l = m.room.levels[m.i % m.room.levels.length]!;
        return { topic: topics.level(m.room.id, l.id), body: withTs({ mm: m.mm }), future };
      }
      case 'pump': {
        const p = m.room.pumps[m.i % m.room.pumps.length]!;
        return { topic: topics.pump(m.room.id, p.id), body: withTs({ running: m.running, ...(m.amps === undefined ? {} : { amps: m.amps }) }), future };
      }
      case 'venue':
        return { topic: topics.venue(m.id), body: withTs({ in: m.in, out: m.out }), future };
      case 'status': {
        const word = m.online ? 'online' : 'offline';
        return { topic: topics.deviceStatus(m.id), body: m.quoted ? `"${word}"` : word, future: false };
      }
    }
  });

const encode = (body: Record<string, unknown> | string): Uint8Array => utf8.encode(typeof body === 'string' ? body : JSON.stringify(body));

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('decodeMessage never throws and always ends in one sound outcome', { timeout }, () => {
  it('arbitrary bytes on arbitrary topics', () => {
    fc.assert(
      fc.property(anyTopic, fc.uint8Array({ maxLength: 5000 }), (topic, bytes) => {
        checkOutcome(topic, bytes, decode(topic, bytes));
      }),
      params,
    );
  });

  it('arbitrary bytes on the real device topics', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownTopics), fc.uint8Array({ maxLength: 300 }), (topic, bytes) => {
        checkOutcome(topic, bytes, decode(topic, bytes));
      }),
      params,
    );
  });

  it('JSON of every shape (fc.anything through JSON.stringify) on the real device topics', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownTopics), fc.jsonValue({ maxDepth: 6 }), (topic, value) => {
        const bytes = utf8.encode(JSON.stringify(value));
        checkOutcome(topic, bytes, decode(topic, bytes));
      }),
      params,
    );
  });

  it('objects with the contract field names holding values of every type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownTopics), oddObject, (topic, obj) => {
        const bytes = utf8.encode(JSON.stringify(obj));
        checkOutcome(topic, bytes, decode(topic, bytes));
      }),
      params,
    );
  });

  it('numbers JSON.stringify cannot write: overflow to Infinity, underflow, NaN and hex as raw text', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownTopics), rawNumberText, fc.boolean(), (topic, [field, num], withOccupied) => {
        const bytes = utf8.encode(`{${withOccupied ? '"occupied":true,"running":false,"event":"entry","pass":"p",' : ''}"${field}":${num}}`);
        const r = decode(topic, bytes);
        checkOutcome(topic, bytes, r);
      }),
      params,
    );
  });

  it('deep nesting up to the 4 KiB limit and beyond', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownTopics), fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":', '{"mm":'), fc.boolean(), (topic, depth, open, closed) => {
        const close = open === '[' ? ']' : '}';
        const text = open.repeat(depth) + '1' + (closed ? close.repeat(depth) : '');
        const bytes = utf8.encode(text);
        const r = decode(topic, bytes);
        checkOutcome(topic, bytes, r);
        // Only `{"mm":1}` itself (depth 1, closed) is a valid payload, and only on a level topic.
        if (depth > 1 || open !== '{"mm":' || !closed) expect(r.ok).toBe(false);
      }),
      heavy,
    );
  });

  it('unicode, long strings and control characters in every string field', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...knownTopics),
        fc.constantFrom('pass', 'event', 'ts', 'occupied', 'mm'),
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.nat({ max: 5000 }).map((n) => '停'.repeat(n))),
        (topic, field, s) => {
          const bytes = utf8.encode(JSON.stringify({ occupied: true, running: true, event: 'entry', pass: 'p', mm: 1, in: 0, out: 0, [field]: s }));
          checkOutcome(topic, bytes, decode(topic, bytes));
        },
      ),
      params,
    );
  });

  it('payloads around the 4 KiB limit: over the limit is always payload_too_large on a known device topic', () => {
    fc.assert(
      fc.property(fc.constantFrom(...knownTopics.filter((t) => !t.endsWith('/status'))), fc.integer({ min: 3_900, max: 4_300 }), (topic, size) => {
        const head = '{"occupied":true,"running":true,"event":"entry","pass":"p","mm":1,"in":0,"out":0,"pad":"';
        const text = head + 'x'.repeat(Math.max(0, size - head.length - 2)) + '"}';
        const bytes = utf8.encode(text);
        const r = decode(topic, bytes);
        checkOutcome(topic, bytes, r);
        expect(r.ok).toBe(bytes.byteLength <= MAX_PAYLOAD_BYTES);
        if (!r.ok) expect(r.rejection.code).toBe('payload_too_large');
      }),
      heavy,
    );
  });
});

describe('decodeMessage accepts what the contract allows and rejects what it does not', { timeout }, () => {
  it('every valid message (extra fields included) is accepted unless stamped more than 5 minutes ahead', () => {
    fc.assert(
      fc.property(validMessage, ({ topic, body, future }) => {
        const bytes = encode(body);
        const r = decode(topic, bytes);
        checkOutcome(topic, bytes, r);
        if (future) expect(r.ok ? 'ok' : r.rejection.code).toBe('future_time');
        else expect(r.ok ? 'ok' : r.rejection.reason).toBe('ok');
      }),
      params,
    );
  });

  it('a valid message with a required field removed or given the wrong type is rejected', () => {
    fc.assert(
      fc.property(
        validMessage.filter((m) => typeof m.body !== 'string' && !m.future),
        fc.constantFrom<unknown>('yes', 1, null, [], {}, 'NaN', true),
        fc.boolean(),
        ({ topic, body }, wrong, drop) => {
          const obj = { ...(body as Record<string, unknown>) };
          const required = ['occupied', 'event', 'pass', 'mm', 'running', 'in', 'out'].filter((k) => k in obj);
          const field = required[0]!;
          if (drop) delete obj[field];
          else obj[field] = wrong;
          // A string is a valid `pass`; `1` a valid count or level, `true` a valid flag: those are not wrong values for that field.
          const stillValid = !drop && ((field === 'pass' && typeof wrong === 'string' && wrong.length > 0) || (['in', 'out', 'mm'].includes(field) && wrong === 1) || (['occupied', 'running'].includes(field) && wrong === true));
          const bytes = encode(obj);
          const r = decode(topic, bytes);
          checkOutcome(topic, bytes, r);
          expect(r.ok).toBe(stillValid);
          if (!r.ok) expect(['missing_field', 'wrong_type', 'out_of_range']).toContain(r.rejection.code);
        },
      ),
      params,
    );
  });

  it('a valid payload on an unknown id is rejected as unknown_id or unknown_topic, never accepted', () => {
    fc.assert(
      fc.property(validMessage, anyId, ({ topic, body }, id) => {
        const parts = topic.split('/');
        const at = parts[1] === 'flood' ? 4 : parts[1] === 'venues' || parts[1] === 'devices' ? 2 : 3;
        parts[at] = id;
        const mutated = parts.join('/');
        const bytes = encode(body);
        const r = decode(mutated, bytes);
        checkOutcome(mutated, bytes, r);
        if (mutated !== topic && !r.ok) expect(['unknown_id', 'unknown_topic', 'future_time']).toContain(r.rejection.code);
      }),
      params,
    );
  });
});

describe('Topics', { timeout }, () => {
  const idArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  const deviceTopic: fc.Arbitrary<DeviceTopic> = fc.oneof(
    idArb.map((bayId) => ({ kind: 'bay' as const, bayId })),
    idArb.map((gateId) => ({ kind: 'gate' as const, gateId })),
    fc.tuple(idArb, idArb).map(([roomId, sensorId]) => ({ kind: 'level' as const, roomId, sensorId })),
    fc.tuple(idArb, idArb).map(([roomId, pumpId]) => ({ kind: 'pump' as const, roomId, pumpId })),
    idArb.map((venueId) => ({ kind: 'venue' as const, venueId })),
    idArb.map((deviceId) => ({ kind: 'status' as const, deviceId })),
  );

  it('parse(of(t)) gives back t for every device topic with valid ids, under any valid prefix', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,10}(\/[A-Za-z0-9_-]{1,10}){0,2}$/), deviceTopic, (prefix, t) => {
        const tp = new Topics(prefix);
        expect(tp.parse(tp.of(t))).toEqual(t);
        expect(tp.subjectOf(t)).toBe(tp.of(t).slice(prefix.length + 1));
      }),
      params,
    );
  });

  it('parse never throws, and every id it returns matches the id pattern', () => {
    fc.assert(
      fc.property(anyTopic, (topic) => {
        const p = topics.parse(topic);
        for (const [k, v] of Object.entries(p)) if (k.endsWith('Id') && k !== 'alertId') expect(ID_PATTERN.test(v)).toBe(true);
        if (!topic.startsWith('park/')) expect(p.kind).toBe('foreign');
      }),
      params,
    );
  });
});
