/**
 * The lab as a service of its own (`npm run lab`): the simulated external
 * systems over HTTP, their records in Postgres when a database is given.
 *
 * Env: `LAB_DATABASE_URL` (or `DATABASE_URL`) — the lab's records, id
 * sequences and idempotency ledger live in its `lab` schema and survive
 * restarts; without one the lab runs in memory and forgets on exit.
 * `LAB_PORT` (default 4010, 0 = a free one), `LAB_HOST` (default 127.0.0.1).
 * Point a server at it with `LAB_URL=http://127.0.0.1:4010 npm start`.
 */
import { z } from 'zod';
import { createLab } from './lab.ts';
import { startLabServer } from './http/lab-server.ts';

const env = z
  .object({
    LAB_DATABASE_URL: z.string().url().optional(),
    DATABASE_URL: z.string().url().optional(),
    LAB_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
    LAB_HOST: z.string().min(1).default('127.0.0.1'),
  })
  .parse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));

const database = env.LAB_DATABASE_URL ?? env.DATABASE_URL;
const lab = createLab(database ? { database } : {});
try {
  // Fails here, not on the first call, when the database cannot be read.
  await lab.ready();
} catch (error) {
  console.error(`lab: cannot load the lab's records: ${error instanceof Error ? error.message : String(error)}`);
  await lab.close().catch(() => {});
  process.exit(1);
}
const server = await startLabServer(lab, { port: env.LAB_PORT, hostname: env.LAB_HOST });
console.log(`lab: listening on ${server.url} (GET /lab/records, POST /lab/faults)`);
console.log(database ? "lab: records in the database's lab schema" : 'lab: no LAB_DATABASE_URL, records in memory only');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  if ('closeAllConnections' in server.server) server.server.closeAllConnections();
  await server.close().catch(() => {});
  await lab.close().catch(() => {});
  console.log(`lab: stopped (${signal})`);
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
