/**
 * The simulators speaking as a ChirpStack v4 network server (docs/api.md, LoRaWAN): the messages of
 * the devices in a LoRaWAN plan leave as `application/{id}/device/{devEui}/event/up` uplinks in
 * ChirpStack's JSON marshaler format, with real payload bytes for the codec each is bound with;
 * every other device keeps speaking ParkOps' own JSON. LoRaWAN devices have no MQTT connection of
 * their own, so their `park/devices/{id}/status` messages are not sent.
 */
import { UplinkTopics } from '@parkops/contract';
import type { Site } from '@parkops/contract/site';
import { Random } from '../random.ts';
import type { SimMessage } from '../types.ts';
import { em310Udl, em500Swl, ldds75, nwave, vs133Totals } from './encoders.ts';

export type DemoCodec = 'nwave-nps' | 'milesight-em310-udl' | 'milesight-em500-swl' | 'dragino-ldds75' | 'milesight-vs133';

export interface PlannedBinding {
  /** The ParkOps device id (bay, level sensor or venue). */
  deviceId: string;
  devEui: string;
  codec: DemoCodec;
  params: Record<string, number>;
}

/** The application the simulated devices belong to in the simulated ChirpStack. */
export const DEMO_APPLICATION_ID = '7a1f3c2e-5b6d-4e8f-9a0b-1c2d3e4f5a6b';

const eui = (prefix: string, n: number): string => `${prefix}${n.toString(16).toUpperCase().padStart(16 - prefix.length, '0')}`;

/**
 * The demo park's LoRaWAN devices: the last parking zone's bays as Nwave sensors, the first flood
 * room's two level sensors as a Milesight EM310-UDL (mounted `floorMm + 600` above the pit floor) and
 * an EM500-SWL probe, the first venue's counter as a Milesight VS133. DevEUIs are fixed, so bindings
 * made once keep working across runs. Bays listed in `skip` (the bad-devices scenario) stay on JSON.
 */
export function demoPlan(site: Site, skip: ReadonlySet<string> = new Set()): PlannedBinding[] {
  const plan: PlannedBinding[] = [];
  const zone = site.zones[site.zones.length - 1];
  zone?.bays.forEach((b, i) => {
    if (!skip.has(b.id)) plan.push({ deviceId: b.id, devEui: eui('70B3D5E0', i + 1), codec: 'nwave-nps', params: {} });
  });
  const room = site.rooms[0];
  const [l1, l2] = room?.levels ?? [];
  if (room && l1) plan.push({ deviceId: l1.id, devEui: eui('24E12471', 1), codec: 'milesight-em310-udl', params: { mountMm: room.bands.floorMm + 600 } });
  if (l2) plan.push({ deviceId: l2.id, devEui: eui('24E12472', 2), codec: 'milesight-em500-swl', params: {} });
  const venue = site.venues[0];
  if (venue) plan.push({ deviceId: venue.id, devEui: eui('24E12413', 3), codec: 'milesight-vs133', params: { line: 1 } });
  return plan;
}

/** The plan as the bindings import file (POST /api/devices/bindings.csv). */
export function planCsv(plan: readonly PlannedBinding[]): string {
  const params = [...new Set(plan.flatMap((p) => Object.keys(p.params)))].sort();
  const head = ['deviceId', 'devEui', 'codec', ...params].join(',');
  return `${[head, ...plan.map((p) => [p.deviceId, p.devEui, p.codec, ...params.map((k) => p.params[k] ?? '')].join(','))].join('\n')}\n`;
}

interface DeviceRadio {
  binding: PlannedBinding;
  fCnt: number;
  rssi: number;
  snr: number;
  batteryPct: number;
  /** bays: the last state sent; counters: running totals */
  occupied?: boolean;
  changedAt?: number;
  totals?: { in: number; out: number };
}

export class ChirpStackNetworkServer {
  private readonly byDevice = new Map<string, DeviceRadio>();
  private readonly rng: Random;
  private uplinks = 0;

  constructor(
    site: Site,
    plan: readonly PlannedBinding[],
    private readonly opts: { applicationId?: string; seed?: number } = {},
  ) {
    this.rng = new Random(opts.seed ?? 1, 'lorawan');
    for (const binding of plan) {
      const r = this.rng.fork(binding.devEui);
      const radio: DeviceRadio = { binding, fCnt: 0, rssi: Math.round(r.range(-112, -62)), snr: Math.round(r.range(-4, 10) * 4) / 4, batteryPct: Math.round(r.range(60, 100)) };
      this.byDevice.set(binding.deviceId, radio);
      // A venue's messages are sent under its counter's id.
      const venue = site.venue(binding.deviceId);
      if (venue) this.byDevice.set(venue.counterId, radio);
    }
  }

  get sent(): number {
    return this.uplinks;
  }

  /** Whether a device speaks LoRaWAN in this plan. */
  has(deviceId: string): boolean {
    return this.byDevice.has(deviceId);
  }

  /** The messages to send instead of `msg`: itself for a JSON device, uplinks for a LoRaWAN one, none for its status. */
  translate(msg: SimMessage): SimMessage[] {
    const radio = this.byDevice.get(msg.device);
    if (!radio || msg.bad !== undefined) return [msg];
    if (msg.kind === 'status') return [];
    const body = JSON.parse(msg.payload) as Record<string, unknown>;
    const b = radio.binding;
    switch (b.codec) {
      case 'nwave-nps': {
        const occupied = body.occupied === true;
        const changed = radio.occupied !== occupied;
        // Compressed duration of the previous state: minutes, capped (the real sensor's scale is not needed by ParkOps).
        const minutes = radio.changedAt === undefined ? 0 : Math.round((msg.at - radio.changedAt) / 60_000);
        if (changed) {
          radio.occupied = occupied;
          radio.changedAt = msg.at;
        }
        const frame = nwave(occupied, changed ? 'status' : 'heartbeat', minutes);
        return [this.uplink(radio, msg, frame.fPort, frame.bytes)];
      }
      case 'milesight-em310-udl':
        return [this.uplink(radio, msg, 85, em310Udl((b.params.mountMm ?? 0) - Number(body.mm), radio.batteryPct))];
      case 'dragino-ldds75':
        return [this.uplink(radio, msg, 2, ldds75((b.params.mountMm ?? 0) - Number(body.mm), 3300 + radio.batteryPct * 3))];
      case 'milesight-em500-swl':
        return [this.uplink(radio, msg, 85, em500Swl((Number(body.mm) - (b.params.offsetMm ?? 0)) / 10, radio.batteryPct))];
      case 'milesight-vs133': {
        const line = b.params.line ?? 1;
        const out: SimMessage[] = [];
        if (radio.totals === undefined) {
          // A counter has counted before ParkOps first hears it: a baseline uplink a second earlier,
          // so the people of this first report are counted rather than taken as the baseline.
          radio.totals = { in: 1000 + Math.round(this.rng.range(0, 5000)), out: 0 };
          radio.totals.out = radio.totals.in - Math.round(this.rng.range(0, 3));
          out.push(this.uplink(radio, { ...msg, at: msg.at - 1000 }, 85, vs133Totals(line, radio.totals.in, radio.totals.out)));
        }
        radio.totals.in += Number(body.in);
        radio.totals.out += Number(body.out);
        out.push(this.uplink(radio, msg, 85, vs133Totals(line, radio.totals.in, radio.totals.out)));
        return out;
      }
    }
  }

  private uplink(radio: DeviceRadio, msg: SimMessage, fPort: number, bytes: Uint8Array): SimMessage {
    const b = radio.binding;
    const fCnt = radio.fCnt++;
    this.uplinks++;
    const jitter = Math.round(this.rng.range(-3, 3));
    // ChirpStack v4 `UplinkEvent`, JSON marshaler; proto3 leaves zero values out (fCnt 0 on the first uplink).
    const event = {
      deduplicationId: uuidFrom(this.rng),
      time: new Date(msg.at).toISOString(),
      deviceInfo: {
        tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
        tenantName: 'ParkOps demo',
        applicationId: this.opts.applicationId ?? DEMO_APPLICATION_ID,
        applicationName: 'parkops-sim',
        deviceProfileId: '14855bf7-d10d-4aee-b618-ebfcb64dc7ad',
        deviceProfileName: b.codec,
        deviceName: b.deviceId,
        devEui: b.devEui.toLowerCase(),
      },
      devAddr: b.devEui.slice(-8).toLowerCase(),
      dr: 5,
      ...(fCnt > 0 ? { fCnt } : {}),
      fPort,
      data: Buffer.from(bytes).toString('base64'),
      rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: (this.uplinks * 2654435761) >>> 0, rssi: radio.rssi + jitter, snr: radio.snr, context: 'E3OWOQ==' }],
      txInfo: { frequency: 471_500_000, modulation: { lora: { bandwidth: 125_000, spreadingFactor: 7, codeRate: 'CR_4_5' } } },
    };
    return {
      topic: UplinkTopics.chirpstackUp(this.opts.applicationId ?? DEMO_APPLICATION_ID, b.devEui.toLowerCase()),
      payload: JSON.stringify(event),
      qos: 1,
      retain: false,
      at: msg.at,
      kind: msg.kind,
      device: msg.device,
    };
  }
}

function uuidFrom(rng: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rng.next() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}
