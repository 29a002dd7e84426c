/**
 * The HTTP server: API under /api, /metrics, the Node-RED editor at /flows (mounted by its module) and
 * the SvelteKit dashboard (adapter-node handler) for everything else, all on one origin.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import express, { type Express, type RequestHandler } from 'express';
import type { HealthResponse } from '@parkops/contract/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Module } from '../module.ts';
import { caught } from './async-routes.ts';
import { openApiDocument } from './openapi.ts';
import { apiNotFound, errorHandler } from './http-errors.ts';

export const DASHBOARD_HANDLER = fileURLToPath(new URL('../../../dashboard/build/handler.js', import.meta.url));

export class HttpServer implements Module {
  readonly name = 'http';
  readonly app: Express;
  readonly server: Server;
  private finished = false;

  constructor(
    private readonly deps: { host: string; port: number; log: Logger; metrics: Metrics; health: () => Promise<HealthResponse>; trustProxy: boolean },
  ) {
    const app = express();
    this.app = app;
    app.disable('x-powered-by');
    app.set('trust proxy', deps.trustProxy ? 'loopback, linklocal, uniquelocal' : false);
    app.set('query parser', 'simple');
    app.use((_req, res, next) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'same-origin');
      res.setHeader('X-Frame-Options', 'SAMEORIGIN');
      next();
    });
    app.get('/api/health', caught(async (_req, res) => {
      const h = await deps.health();
      res.status(h.status === 'ok' ? 200 : 503).json(h);
    }));
    // The API's own description is public, like /api/health: it holds no data, and integrators read it before they have a token.
    app.get('/api/openapi.json', (_req, res) => {
      res.json(openApiDocument());
    });
    app.get('/metrics', caught(async (_req, res) => {
      const text = await deps.metrics.render();
      res.type(deps.metrics.contentType).send(text);
    }));
    app.use('/api', (_req, res, next) => {
      res.setHeader('Cache-Control', 'no-store');
      next();
    });
    app.use('/api', express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }));
    this.server = createServer(app);
    this.server.keepAliveTimeout = 65_000;
  }

  /** Mounts API middleware or routers under /api, in order; an async middleware's failure reaches the error handler. */
  useApi(...handlers: RequestHandler[]): void {
    this.app.use('/api', ...handlers.map((h) => caught(h)));
  }

  /** After every module mounted its routes: the /api 404, the dashboard, and the error handler. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const { app, deps } = this;
    app.use('/api', apiNotFound);
    app.use('/api', errorHandler(deps.log));
    if (existsSync(DASHBOARD_HANDLER)) {
      const mod = (await import(pathToFileURL(DASHBOARD_HANDLER).href)) as { handler: RequestHandler };
      app.use(mod.handler);
    } else {
      deps.log.warn({ path: DASHBOARD_HANDLER }, 'dashboard is not built: run `npm run build`; serving the API only');
      app.use((_req, res) => {
        res.status(503).type('text/plain').send('The ParkOps dashboard is not built. Run `npm run build` (npm start does it for you).\nThe API is at /api.');
      });
    }
    app.use(errorHandler(deps.log));
  }

  async start(): Promise<void> {
    await this.finish();
    const { host, port, log } = this.deps;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'EADDRINUSE' ? `PORT ${port} is already in use: stop the other server or set PORT` : `cannot listen on ${host}:${port}: ${err.message}`)),
      );
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address();
    log.info({ url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${typeof a === 'object' && a ? a.port : port}` }, 'dashboard and API listening');
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.deps.port;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
