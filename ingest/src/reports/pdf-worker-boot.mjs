// Worker thread boot of pdf-render.ts. Node 20 does not carry the parent's TypeScript loader (tsx)
// into a worker, so the worker registers it first (tsx's own API, found by the parent), then loads
// the TypeScript entry that renders the PDF.
import { workerData } from 'node:worker_threads';

const { register } = await import(workerData.tsxApi);
register();
await import(workerData.entry);
