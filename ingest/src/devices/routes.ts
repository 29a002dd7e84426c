/**
 * HTTP routes of the device registry (docs/api.md, LoRaWAN), mounted at /api:
 *   GET    /devices                      viewer  every site device with its binding and telemetry
 *   GET    /devices/unbound              admin   DevEUIs heard without a binding, newest first
 *   GET    /devices/codecs               admin   the codecs and the device kinds they read (extension)
 *   PUT    /devices/:deviceId/binding    admin   {devEui, codec, params?} -> the binding
 *   DELETE /devices/:deviceId/binding    admin   204
 *   POST   /devices/bindings.csv         admin   CSV import, all or nothing; ?dryRun=true checks only (extension)
 * Thin: parse, call the registry, answer `{"error"}` with the status the registry chose.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { asyncRouter, caught } from '../api/async-routes.ts';
import type { Role } from '@parkops/contract/api.ts';
import { DevicesError, type DeviceRegistry } from './registry.ts';

const IMPORT_LIMIT = '2mb';

export function devicesRouter(registry: DeviceRegistry, guard: { requireRole(role: Role): RequestHandler }): express.Router {
  const router = asyncRouter();
  const viewer = guard.requireRole('viewer');
  const admin = guard.requireRole('admin');
  const actor = (req: Request): string => req.user?.username ?? 'unknown';
  const fail = (res: Response, err: unknown): void => {
    if (!(err instanceof DevicesError)) throw err;
    res.status(err.status).json(err.rows ? { error: err.message, rows: err.rows } : { error: err.message });
  };

  router.get('/devices', viewer, (_req, res) => {
    res.json(registry.devices());
  });

  router.get('/devices/unbound', admin, caught(async (_req, res) => {
    res.json(await registry.unbound());
  }));

  router.get('/devices/codecs', admin, (_req, res) => {
    res.json(registry.codecs());
  });

  router.put('/devices/:deviceId/binding', admin, caught(async (req, res) => {
    try {
      res.json(await registry.setBinding(actor(req), req.ip, req.params.deviceId ?? '', req.body as never));
    } catch (err) {
      fail(res, err);
    }
  }));

  router.delete('/devices/:deviceId/binding', admin, caught(async (req, res) => {
    try {
      await registry.deleteBinding(actor(req), req.ip, req.params.deviceId ?? '');
      res.status(204).end();
    } catch (err) {
      fail(res, err);
    }
  }));

  router.post('/devices/bindings.csv', admin, express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: IMPORT_LIMIT }), caught(async (req, res) => {
    if (typeof req.body !== 'string') {
      res.status(415).json({ error: 'send the CSV file as the request body with Content-Type: text/csv' });
      return;
    }
    const dryRun = req.query.dryRun === 'true' || req.query.dryRun === '1';
    try {
      res.json(await registry.importCsv(actor(req), req.ip, req.body, dryRun));
    } catch (err) {
      fail(res, err);
    }
  }));

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string };
    if (res.headersSent || e.type !== 'entity.too.large') return next(err);
    res.status(413).json({ error: `the import file is too large (at most ${IMPORT_LIMIT.toUpperCase()})` });
  });

  return router;
}
