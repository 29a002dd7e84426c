/**
 * GET /api/stream: Server-Sent Events. `snapshot` first, then deltas: bay, gate, level, pump, venue,
 * alert (docs/api.md, HTTP API), and the extensions `room` (a flood room's level and band as the alert
 * engine judged them), `warning`, `storm` and `readiness` (docs/warnings.md). Level and pump events follow the
 * engine's judgement too (`flood.judged`), so a device's `stale` flag is the one the alerts act on and a
 * sensor going silent is pushed without a reading. A slow client whose buffer backs up is dropped; it
 * reconnects and resynchronises from a fresh snapshot.
 */
import type { Request, Response } from 'express';
import type { Reading, StreamEvents, StreamSnapshot } from '@parkops/contract/index.ts';
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
      /** Asked at every heartbeat: a session that ended (logout, revoked, expired) loses its stream. */
      stillAllowed?: (req: Request) => Promise<boolean>;
    },
  ) {}

  async start(): Promise<void> {
    const { bus, flood } = this.deps;
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
      bus.on('storm.readiness', ({ roomId, storm }) => this.broadcast('readiness', { room: roomId, storm })),
    );
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) {
        const req = this.requests.get(res);
        const stillAllowed = this.deps.stillAllowed;
        if (req && stillAllowed) {
          void stillAllowed(req).then(
            (ok) => {
              // The client may have gone while the check ran: never write to an ended response.
              if (!this.clients.has(res) || res.writableEnded) return;
              if (ok) res.write(`: keep-alive\n\n`);
              else this.drop(res);
            },
            () => this.drop(res),
          );
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
      case 'level':
      case 'pump':
        // Sent on `flood.judged`, once the engine has judged the reading.
        return;
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

  /** A status message changes a bay's or venue's staleness; flood devices follow `flood.judged`. */
  private deviceFrame(deviceId: string, now: number, frames: string[]): void {
    const { live } = this.deps;
    const bay = live.bayView(deviceId, now);
    if (bay) {
      frames.push(this.frame('bay', bay));
      return;
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
