/** Worker thread entry of pdf-render.ts (loaded by pdf-worker-boot.mjs): renders the job and sends the PDF's bytes back. */
import { parentPort, workerData } from 'node:worker_threads';
import { renderMonthlyPdf, type PdfJob } from './monthly-pdf.ts';

const pdf = await renderMonthlyPdf((workerData as { job: PdfJob }).job);
parentPort!.postMessage(new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength));
