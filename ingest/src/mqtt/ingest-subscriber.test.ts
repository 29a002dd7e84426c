/**
 * The subscriber's own framing and PUBLISH decoding against packets that mqtt-packet (MQTT.js' codec)
 * generates, cut at arbitrary points as TCP may deliver them. The wire behaviour against a real
 * Mosquitto is in test/integration/ingest-subscriber.test.ts.
 */
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { decodePublish, framedLength } from './ingest-subscriber.ts';

const publish = fc.record({
  topic: fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }),
  payload: fc.uint8Array({ maxLength: 300 }),
  qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
  dup: fc.boolean(),
  retain: fc.boolean(),
  messageId: fc.integer({ min: 1, max: 65535 }),
});
const other = fc.constantFrom(
  mqttPacket.generate({ cmd: 'puback', messageId: 7 }),
  mqttPacket.generate({ cmd: 'pingresp' }),
  mqttPacket.generate({ cmd: 'suback', messageId: 3, granted: [1] }),
  mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: true }),
);

/** Frames a byte stream that arrives in `chunks`, as the subscriber does: held bytes + next chunk. */
function frameAll(chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let held: Buffer | null = null;
  for (const chunk of chunks) {
    const buf: Buffer = held === null ? chunk : Buffer.concat([held, chunk]);
    let at = 0;
    for (;;) {
      const n = framedLength(buf, at);
      if (n < 0) break;
      out.push(buf.subarray(at, at + n));
      at += n;
    }
    held = at >= buf.length ? null : buf.subarray(at);
  }
  expect(held).toBeNull();
  return out;
}

describe('framing and PUBLISH decoding', () => {
  it('finds every packet of a stream cut anywhere, and decodes each PUBLISH as mqtt-packet wrote it', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(publish.map((p) => ({ kind: 'publish' as const, p })), other.map((b) => ({ kind: 'other' as const, b }))), { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 60 }), (packets, cuts) => {
        const wire = packets.map((x) => (x.kind === 'other' ? x.b : mqttPacket.generate({ cmd: 'publish', topic: x.p.topic, payload: Buffer.from(x.p.payload), qos: x.p.qos, dup: x.p.dup, retain: x.p.retain, ...(x.p.qos > 0 ? { messageId: x.p.messageId } : {}) })));
        const all = Buffer.concat(wire);
        const chunks: Buffer[] = [];
        let at = 0;
        for (let k = 0; at < all.length; k++) {
          const size = cuts[k % cuts.length]!;
          chunks.push(all.subarray(at, at + size));
          at += size;
        }
        const framed = frameAll(chunks);
        expect(framed.map((b) => b.toString('hex'))).toEqual(wire.map((b) => b.toString('hex')));
        packets.forEach((x, i) => {
          if (x.kind !== 'publish') return;
          const d = decodePublish(framed[i]!, 0, framed[i]!.length);
          expect(d).toEqual({ topic: x.p.topic, qos: x.p.qos, id: x.p.qos > 0 ? x.p.messageId : 0, payload: Buffer.from(x.p.payload), retain: x.p.retain });
        });
      }),
      { numRuns: 500 },
    );
  });

  it('tells a packet still arriving from a malformed one', () => {
    const p = mqttPacket.generate({ cmd: 'publish', topic: 'park/x', payload: Buffer.alloc(200), qos: 1, dup: false, retain: false, messageId: 9 });
    expect(framedLength(p.subarray(0, 1), 0)).toBe(-1);
    expect(framedLength(p.subarray(0, p.length - 1), 0)).toBe(-1);
    expect(framedLength(p, 0)).toBe(p.length);
    expect(framedLength(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 0)).toBe(-2);
    expect(decodePublish(Buffer.from([0x36, 0x02, 0x00, 0x00]), 0, 4)).toMatch(/QoS 3/);
    expect(decodePublish(Buffer.from([0x32, 0x03, 0x00, 0x05, 0x61]), 0, 5)).toMatch(/topic runs past the packet/);
    expect(decodePublish(Buffer.from([0x32, 0x03, 0x00, 0x01, 0x61]), 0, 5)).toMatch(/too short for its packet identifier/);
  });
});
