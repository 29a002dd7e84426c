/**
 * A child process for the crash test (test/integration/reports-rollups.test.ts): writes the known
 * history into the SQLite file in `argv[2]` through the real pipeline, rolling up every 700 messages,
 * and prints the count every 100 messages so the parent can SIGKILL it at any point.
 */
import { openPipeline, writeKnownHistory } from './testing.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: testing-writer.ts <data dir>');
const p = await openPipeline({ dir });
const send = p.send;
let n = 0;
p.send = (topic, payload, receivedAt) => {
  const r = send(topic, payload, receivedAt);
  // Rolled up now and then mid-stream, as the timer does (SQLite: synchronously, on the writer's turn).
  if (++n % 700 === 0) void p.reports.refresh();
  if (n % 100 === 0) process.stdout.write(`sent ${n}\n`);
  return r;
};
writeKnownHistory(p);
process.stdout.write('done\n');
await p.close({ keep: true });
