/**
 * Runs the monthly PDF's rendering (pdfkit layout and CJK font subsetting, a few hundred milliseconds
 * of CPU in one go) in a worker thread, one PDF at a time, so the event loop that receives MQTT and
 * raises alerts keeps going while a manager downloads the report.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PdfJob } from './monthly-pdf.ts';

const BOOT = new URL('./pdf-worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./pdf-worker.ts', import.meta.url).href;
const running = new Set<Worker>();
let queue: Promise<unknown> = Promise.resolve();

let api: string | undefined;
/**
 * tsx's register API, for the worker: next to the loader this process was started with (`tsx` as a
 * command puts its absolute path in execArgv, as in the Docker image), else resolved from here.
 */
function tsxApi(): string {
  if (api === undefined) {
    const loader = process.execArgv.find((a) => /^file:.*\/tsx\/dist\/loader\.mjs$/.test(a));
    api = loader ? new URL('./esm/api/index.mjs', loader).href : pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href; // the ESM build: its hooks resolve from it
  }
  return api;
}

function renderOnce(job: PdfJob): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const w = new Worker(BOOT, { workerData: { tsxApi: tsxApi(), entry: ENTRY, job } });
    running.add(w);
    let done = false;
    w.once('message', (bytes: Uint8Array) => {
      done = true;
      resolve(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    w.once('error', (err) => {
      done = true;
      reject(err);
    });
    w.once('exit', (code) => {
      running.delete(w);
      if (!done) reject(new Error(`the PDF worker stopped (exit code ${code}) before it answered`));
    });
  });
}

/** Renders one PDF in a worker thread; several requests wait their turn (two cores, a rare download). */
export function renderInWorker(job: PdfJob): Promise<Buffer> {
  const next = queue.then(() => renderOnce(job));
  queue = next.catch(() => undefined);
  return next;
}

/** Ends a PDF still rendering (on shutdown); its request gets an error. */
export async function stopPdfWorkers(): Promise<void> {
  await Promise.all([...running].map((w) => w.terminate()));
}
