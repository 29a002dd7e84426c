/**
 * Notification routes, mounted at /api/notifications behind requireRole('viewer'):
 *
 * | route | answer |
 * |---|---|
 * | `GET /` | attempts, newest first; `?alert=ID` one alert's, oldest first; `?status=`; `?limit=1..1000` |
 * | `GET /stats` | `NotificationStats`: pending, failed and unsent in the last 24 h, the last failure |
 * | `GET /channels` | `ChannelSummary`: what would carry an alert outside the dashboard now |
 *
 * Targets are shown redacted; a push service's answer text is never stored, so it is never shown.
 */
import express, { type Router } from 'express';
import type { ChannelSummary, NotificationAttempt, NotificationStats } from '@parkops/contract/notifications.ts';
import { notificationsQuery, type NotificationsQuery } from '@parkops/contract/notifications-query.ts';
import { validationError } from '../api/http-errors.ts';

export interface NotificationsPort {
  recent(limit: number, opts: { status?: NotificationAttempt['status'] | undefined }): Promise<NotificationAttempt[]>;
  forAlert(alertId: string): Promise<NotificationAttempt[]>;
  stats(): Promise<NotificationStats>;
  channelSummary(): ChannelSummary;
}

export function notificationsRouter(n: NotificationsPort): Router {
  const r = express.Router();
  const wrap =
    (fn: (req: express.Request, res: express.Response) => Promise<void>): express.RequestHandler =>
    (req, res, next) => {
      fn(req, res).catch(next);
    };
  r.get(
    '/stats',
    wrap(async (_req, res) => {
      res.json(await n.stats());
    }),
  );
  r.get('/channels', (_req, res) => {
    res.json(n.channelSummary());
  });
  r.get(
    '/',
    wrap(async (req, res) => {
      const q = notificationsQuery.safeParse(req.query);
      if (!q.success) {
        res.status(400).json(validationError(q.error));
        return;
      }
      const { alert, status, limit }: NotificationsQuery = q.data;
      if (alert !== undefined) {
        const all = await n.forAlert(alert);
        res.json(status ? all.filter((a) => a.status === status) : all);
        return;
      }
      res.json(await n.recent(limit, { status }));
    }),
  );
  return r;
}
