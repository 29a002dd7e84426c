/**
 * GET /api/stream: Server-Sent Events. `snapshot` first, then deltas: bay, gate, level, pump, venue,
 * alert (CONTRACT.md section 3). A slow client whose buffer backs up is dropped; it reconnects and
 * resynchronises from a fresh snapshot.
 */
import type { Request, Response } from 'express';
import type { Reading, StreamEvents, StreamSnapshot } from '../contract/index.ts';
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
    const { bus } = this.deps;
    this.unsubscribe.push(
      // Once per committed batch: each subject's newest view once, every gate scan, one write per client.
      bus.on('readings.accepted', ({ readings }) => {
        if (this.clients.size === 0) return;
        const now = Date.now();
        const newest = new Map<string, Exclude<Reading, { kind: 'gate' }>>();
        const frames: string[] = [];
        for (const { reading: r, applied } of readings) {
          if (!applied) continue;
          // Every scan is news (the gate feed lists them); for the rest only the last state counts.
          if (r.kind === 'gate') frames.push(this.frame('gate', { gateId: r.gateId, event: r.event, pass: r.pass, ts: new Date(r.ts).toISOString() }));
          else newest.set(r.subject, r);
        }
        for (const r of newest.values()) this.viewFrame(r, now, frames);
        this.send(frames);
      }),
      bus.on('alert.changed', ({ alert }) => this.broadcast('alert', alert)),
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

  private viewFrame(r: Exclude<Reading, { kind: 'gate' }>, now: number, frames: string[]): void {
    const { live } = this.deps;
    switch (r.kind) {
      case 'bay': {
        const v = live.bayView(r.bayId, now);
        if (v) frames.push(this.frame('bay', v));
        return;
      }
      case 'level': {
        const v = live.levelView(r.roomId, r.sensorId, now);
        if (v) frames.push(this.frame('level', { room: r.roomId, ...v }));
        return;
      }
      case 'pump': {
        const v = live.pumpView(r.roomId, r.pumpId, now);
        if (v) frames.push(this.frame('pump', { room: r.roomId, ...v }));
        return;
      }
      case 'venue': {
        const v = live.venueView(r.venueId, now);
        if (v) frames.push(this.frame('venue', v));
        return;
      }
      case 'status':
        // A status change changes staleness of the device's value: resend its view.
        return this.deviceFrame(r.deviceId, now, frames);
    }
  }

  private deviceFrame(deviceId: string, now: number, frames: string[]): void {
    const { live } = this.deps;
    const bay = live.bayView(deviceId, now);
    if (bay) {
      frames.push(this.frame('bay', bay));
      return;
    }
    const flood = live.flood(now);
    for (const room of flood.rooms) {
      for (const l of room.levels) if (l.id === deviceId) return void frames.push(this.frame('level', { room: room.id, ...l }));
      for (const p of room.pumps) if (p.id === deviceId) return void frames.push(this.frame('pump', { room: room.id, ...p }));
    }
    for (const v of live.venuesView(now)) if (v.id === deviceId || deviceId.startsWith(`${v.id}-`)) return void frames.push(this.frame('venue', v));
  }

  private frame<K extends keyof StreamEvents>(event: K, data: StreamEvents[K]): string {
    return `id: ${++this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  broadcast<K extends keyof StreamEvents>(event: K, data: StreamEvents[K]): void {
    if (this.clients.size === 0) return;
    this.send([this.frame(event, data)]);
  }

  private send(frames: string[]): void {
    if (frames.length === 0) return;
    const chunk = frames.length === 1 ? frames[0]! : frames.join('');
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.drop(res);
        continue;
      }
      res.write(chunk);
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
