/**
 * Operations routes, mounted at /api (admin only; docs/operations.md):
 *   GET  /admin/storage          database size, rows per table, oldest reading, last backup, retention
 *   POST /admin/backup           {} -> a consistent copy in the data folder's backups/ (audited)
 *   GET  /admin/backups/:name    downloads one of those copies
 */
import { join } from 'node:path';
import type { RequestHandler, Router } from 'express';
import express from 'express';
import { asyncRouter, caught } from '../api/async-routes.ts';
import { HttpError, zodMessage } from '../api/http-errors.ts';
import type { Role } from '@parkops/contract/api.ts';
import { backupRequest, type BackupResponse } from '@parkops/contract/ops.ts';
import type { Db } from '../store/db.ts';
import { BACKUP_NAME, BackupError, backupName, backupsDir, backupTo } from './backup.ts';
import type { Logger } from '../log.ts';
import type { StorageStats } from './storage-stats.ts';
import { mkdirSync } from 'node:fs';

/** Pages per backup step inside the server: 2,000 pages (8 MB) is a few milliseconds of copying between ingest's transactions. */
export const SERVER_BACKUP_PAGES_PER_STEP = 2_000;

export interface OpsRouterDeps {
  db: Db;
  dataDir: string;
  stats: StorageStats;
  guard: { requireRole(role: Role): RequestHandler };
  audit: (entry: { actor: string; action: string; target?: string; ip?: string; detail?: object }) => void;
  log: Logger;
}

export function opsRouter(d: OpsRouterDeps): Router {
  const router = asyncRouter();
  const admin = d.guard.requireRole('admin');
  let running = false;

  router.get('/admin/storage', admin, (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(d.stats.figures());
  });

  router.post('/admin/backup', admin, express.json({ limit: '1kb' }), caught(async (req, res) => {
    const body = backupRequest.safeParse(req.body ?? {});
    if (!body.success) throw new HttpError(400, zodMessage(body.error));
    if (running) throw new HttpError(409, 'a backup is being written already; try again when it is done');
    running = true;
    try {
      const dir = backupsDir(d.dataDir);
      mkdirSync(dir, { recursive: true });
      const name = backupName(Date.now());
      let r;
      try {
        r = await backupTo(d.db, join(dir, name), { dataDir: d.dataDir, pagesPerStep: SERVER_BACKUP_PAGES_PER_STEP });
      } catch (err) {
        if (!(err instanceof BackupError)) throw err;
        // The reason names paths of the server: logged, not shown.
        d.log.error({ module: 'ops', err: err.message }, 'backup from the admin page failed');
        throw new HttpError(500, 'the backup could not be written; the server log says why');
      }
      const out: BackupResponse = { name, bytes: r.bytes, at: new Date(r.at).toISOString(), ms: Math.round(r.ms), download: `/api/admin/backups/${name}` };
      d.audit({ actor: req.user?.username ?? 'unknown', action: 'backup.created', target: name, ...(req.ip ? { ip: req.ip } : {}), detail: { bytes: r.bytes, ms: out.ms } });
      res.status(201).json(out);
    } finally {
      running = false;
    }
  }));

  router.get('/admin/backups/:name', admin, (req, res) => {
    const name = req.params.name ?? '';
    if (!BACKUP_NAME.test(name)) throw new HttpError(404, 'no such backup');
    res.setHeader('Cache-Control', 'no-store');
    res.download(join(backupsDir(d.dataDir), name), name, { dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) res.status(404).json({ error: 'no such backup' });
    });
  });

  return router;
}
