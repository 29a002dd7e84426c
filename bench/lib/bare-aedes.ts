/**
 * Baseline for the embedded-broker row: aedes as ParkOps creates it (same version, in-memory
 * sessions, a plain TCP server) but with no ingest behind `authorizePublish`, in its own process.
 *   tsx bare-aedes.ts <port>   prints `ready` once listening; SIGTERM stops it
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 0);
const broker = await Aedes.createBroker({ id: 'bench-bare-aedes' });
const server = createServer(broker.handle);
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => broker.close(() => server.close(() => process.exit(0))));
