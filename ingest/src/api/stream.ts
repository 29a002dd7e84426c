/**
 * GET /api/stream: Server-Sent Events. `snapshot` first, then deltas: bay, gate, level, pump, venue,
 * alert (CONTRACT.md section 3), and the extensions `room` (a flood room's level and band as the alert
 * engine judged them), `warning` and `storm` (docs/warnings.md). Level and pump events follow the
 * engine's judgement too (`flood.judged`), so a device's `stale` flag is the one the alerts act on and a
 * sensor going silent is pushed without a reading. A slow client whose buffer backs up is dropped; it
 * reconnects and resynchronises from a fresh snapshot.
 */
import type { Request, Response } from 'express';
import type { StreamEvents, StreamSnapshot } from '../contract/index.ts';
import type { EventBus } from '../bus.ts';
import type { FloodView } from '../flood/flood-view.ts';
import type { LiveState } from '../live-state.ts';
import type { Metrics } from '../metrics.ts';
import type { Module } from '../module.ts';

const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class StreamHub implements Module {
  readonly name = 'stream';
  private readonly clients = new Set<Response>();
  private readonly requests = new Map<Response, Request>();
  private heartbeat: NodeJS.Timeout | null = null;
  private unsubscribe: Array<() => void> = [];
  private seq = 0;

  constructor(
    private readonly deps: {
      bus: EventBus;
      live: LiveState;
      flood: FloodView;
      metrics: Metrics;
      snapshot: () => Promise<StreamSnapshot>;
      /** Checked at every heartbeat: a stream whose session was logged out, expired or demoted is closed. */
      stillAllowed?: (req: Request) => boolean;
    },
  ) {}

  async start(): Promise<void> {
    const { bus, live, flood } = this.deps;
    this.unsubscribe.push(
      bus.on('reading.accepted', ({ reading: r, applied }) => {
        if (!applied || this.clients.size === 0) return;
        const now = Date.now();
        switch (r.kind) {
          case 'bay': {
            const v = live.bayView(r.bayId, now);
            if (v) this.broadcast('bay', v);
            break;
          }
          case 'gate':
            this.broadcast('gate', { gateId: r.gateId, event: r.event, pass: r.pass, ts: new Date(r.ts).toISOString() });
            break;
          case 'level':
          case 'pump':
            // Sent on `flood.judged`, once the engine has judged the reading.
            break;
          case 'venue': {
            const v = live.venueView(r.venueId, now);
            if (v) this.broadcast('venue', v);
            break;
          }
          case 'status':
            // A status change changes staleness of the device's value: resend its view.
            this.broadcastDevice(r.deviceId, now);
            break;
        }
      }),
      bus.on('alert.changed', ({ alert }) => this.broadcast('alert', alert)),
      bus.on('flood.judged', ({ room, level, devices }) => {
        if (this.clients.size === 0) return;
        for (const id of devices) {
          const d = flood.device(room, id);
          if (d?.kind === 'level') this.broadcast('level', { room, ...d.view });
          else if (d?.kind === 'pump') this.broadcast('pump', { room, ...d.view });
        }
        if (level) {
          const v = flood.room(room);
          if (v) this.broadcast('room', { room, level: v.level, band: v.band });
        }
      }),
      bus.on('warning.changed', ({ warning }) => this.broadcast('warning', warning)),
      bus.on('storm.started', ({ roomId }) => this.broadcast('storm', { room: roomId, stormMode: true })),
      bus.on('storm.ended', ({ roomId }) => this.broadcast('storm', { room: roomId, stormMode: false })),
    );
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) {
        const req = this.requests.get(res);
        if (req && this.deps.stillAllowed && !this.deps.stillAllowed(req)) {
          this.drop(res);
          continue;
        }
        res.write(`: keep-alive\n\n`);
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** A status message changes a bay's or venue's staleness; flood devices follow `flood.judged`. */
  private broadcastDevice(deviceId: string, now: number): void {
    const { live } = this.deps;
    const bay = live.bayView(deviceId, now);
    if (bay) return this.broadcast('bay', bay);
    for (const v of live.venuesView(now)) if (v.id === deviceId || deviceId.startsWith(`${v.id}-`)) return this.broadcast('venue', v);
  }

  broadcast<K extends keyof StreamEvents>(event: K, data: StreamEvents[K]): void {
    if (this.clients.size === 0) return;
    const frame = `id: ${++this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.drop(res);
        continue;
      }
      res.write(frame);
    }
  }

  /** The route: the snapshot (built once what it reads from storage is in), then the client joins the broadcast. */
  handler = async (req: Request, res: Response): Promise<void> => {
    const snapshot = await this.deps.snapshot();
    if (req.destroyed || res.writableEnded) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    this.clients.add(res);
    this.requests.set(res, req);
    this.deps.metrics.sseClients.set(this.clients.size);
    req.on('close', () => this.drop(res));
  };

  private drop(res: Response): void {
    if (!res.writableEnded) res.end();
    this.clients.delete(res);
    this.requests.delete(res);
    this.deps.metrics.sseClients.set(this.clients.size);
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const res of [...this.clients]) this.drop(res);
  }
}
