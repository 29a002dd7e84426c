/** Live-state routes of docs/api.md, the HTTP API: parking, sessions, flood, venues (viewer and up). */
import type { RequestHandler, Router } from 'express';
import { asyncRouter, caught } from './async-routes.ts';
import type { Role } from '@parkops/contract/index.ts';
import type { FloodView } from '../flood/flood-view.ts';
import type { LiveState } from '../live-state.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { TimeSeriesStore } from '../store/types.ts';
import { HttpError } from './http-errors.ts';
import { parseRange } from './params.ts';
import { Subjects } from '@parkops/contract/subjects.ts';

const DAY = 86_400_000;

export interface Guard {
  requireRole(role: Role): RequestHandler;
}

/** Picks a bucket so a chart gets at most about `points` points (server-side downsampling). */
export function bucketFor(spanMs: number, points = 300): number {
  const steps = [10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, DAY];
  return steps.find((s) => spanMs / s <= points) ?? DAY;
}

export function liveRoutes(deps: { live: LiveState; flood: FloodView; store: TimeSeriesStore; site: Site; guard: Guard }): Router {
  const { live, flood, store, site, guard } = deps;
  const r = asyncRouter();
  const viewer = guard.requireRole('viewer');

  r.get('/parking', viewer, (_req, res) => {
    res.json(live.parking(Date.now()));
  });

  r.get('/parking/sessions', viewer, caught(async (req, res) => {
    const range = parseRange(req.query, { defaultSpanMs: DAY, maxSpanMs: 366 * DAY, now: Date.now() });
    res.json(await store.sessions(range));
  }));

  r.get('/flood', viewer, (_req, res) => {
    res.json(flood.rooms());
  });

  r.get('/flood/:roomId/history', viewer, caught(async (req, res) => {
    const room = site.room(req.params.roomId ?? '');
    if (!room) throw new HttpError(404, `no flood room "${String(req.params.roomId).slice(0, 64)}"`);
    const range = parseRange(req.query, { defaultSpanMs: DAY, maxSpanMs: 366 * DAY, now: Date.now() });
    const bucket = bucketFor(range.to - range.from);
    const levels: Record<string, { t: string; avg: number; min: number; max: number }[]> = {};
    for (const l of room.levels) {
      const pts = await store.series(Subjects.level(room.id, l.id), 'mm', range, bucket);
      levels[l.id] = pts.map((p) => ({ t: new Date(p.t).toISOString(), avg: round1(p.avg), min: p.min, max: p.max }));
    }
    const pumps: Record<string, { t: string; running: number; amps: number | null }[]> = {};
    for (const p of room.pumps) {
      const subject = Subjects.pump(room.id, p.id);
      const running = await store.series(subject, 'running', range, bucket);
      const amps = new Map((await store.series(subject, 'amps', range, bucket)).map((a) => [a.t, a.avg]));
      pumps[p.id] = running.map((x) => ({ t: new Date(x.t).toISOString(), running: round1(x.avg * 100) / 100, amps: amps.has(x.t) ? round1(amps.get(x.t)!) : null }));
    }
    res.json({ room: room.id, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), bucketSec: bucket / 1000, thresholds: room.bands, levels, pumps });
  }));

  r.get('/venues', viewer, (_req, res) => {
    res.json(live.venuesView(Date.now()));
  });

  return r;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
