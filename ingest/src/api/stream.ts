/**
 * GET /api/stream: Server-Sent Events. `snapshot` first, then deltas: bay, gate, level, pump, venue,
 * alert (CONTRACT.md section 3), and the extensions warning and storm (section 8). A slow client whose buffer backs up is dropped; it reconnects and
 * resynchronises from a fresh snapshot.
 */
import type { Request, Response } from 'express';
import type { StreamEvents, StreamSnapshot } from '../contract/index.ts';
import type { EventBus } from '../bus.ts';
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
      metrics: Metrics;
      snapshot: () => StreamSnapshot;
      /** Checked at every heartbeat: a stream whose session was logged out, expired or demoted is closed. */
      stillAllowed?: (req: Request) => boolean;
    },
  ) {}

  async start(): Promise<void> {
    const { bus, live } = this.deps;
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
          case 'level': {
            const v = live.levelView(r.roomId, r.sensorId, now);
            if (v) this.broadcast('level', { room: r.roomId, ...v });
            break;
          }
          case 'pump': {
            const v = live.pumpView(r.roomId, r.pumpId, now);
            if (v) this.broadcast('pump', { room: r.roomId, ...v });
            break;
          }
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

  private broadcastDevice(deviceId: string, now: number): void {
    const { live } = this.deps;
    const bay = live.bayView(deviceId, now);
    if (bay) return this.broadcast('bay', bay);
    const flood = live.flood(now);
    for (const room of flood.rooms) {
      for (const l of room.levels) if (l.id === deviceId) return this.broadcast('level', { room: room.id, ...l });
      for (const p of room.pumps) if (p.id === deviceId) return this.broadcast('pump', { room: room.id, ...p });
    }
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

  handler = (req: Request, res: Response): void => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    res.write(`event: snapshot\ndata: ${JSON.stringify(this.deps.snapshot())}\n\n`);
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
