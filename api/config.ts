import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().optional(),
  STATEKEEPER_DATA_DIR: z.string().min(1).default('./.statekeeper'),
  STATEKEEPER_WORKER_ID: z.string().min(1).optional(),
  STATEKEEPER_POLL_MS: z.coerce.number().int().min(0).default(1000),
});

/** Server configuration from the environment. */
export type ServerConfig = z.infer<typeof schema> & { dataDir: string };

/** Reads and checks the environment; a bad value stops start-up with a message naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const r = schema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  return { ...r.data, dataDir: path.resolve(r.data.STATEKEEPER_DATA_DIR) };
}
