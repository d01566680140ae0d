import path from 'node:path';
import { z } from 'zod';

const optionalText = z
  .string()
  .trim()
  .min(1)
  .optional()
  .or(z.literal('').transform(() => undefined));

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().optional(),
  /** A direct connection (not through a transaction-mode pooler) for the wake-up listener's LISTEN; default DATABASE_URL. */
  DATABASE_LISTEN_URL: z.string().url().optional(),
  STATEKEEPER_DATA_DIR: z.string().min(1).default('./.statekeeper'),
  STATEKEEPER_WORKER_ID: z.string().min(1).optional(),
  STATEKEEPER_POLL_MS: z.coerce.number().int().min(0).default(1000),
  /** Lease on an effect from its last renewal: a dead process's steps and timers are taken over this long after it stopped renewing. */
  STATEKEEPER_LEASE_MS: z.coerce.number().int().min(100).default(4000),
  /** How often leases are renewed (default: half the lease). */
  STATEKEEPER_HEARTBEAT_MS: z.coerce.number().int().min(1).optional(),
  /** Quiet time after which an SSE stream sends a keep-alive and re-reads its instance (covers a lost wake-up). */
  STATEKEEPER_SSE_KEEPALIVE_MS: z.coerce.number().int().min(1000).default(15_000),
  /** Base URL of a lab (or anything speaking its HTTP interface) for the bundled step actors; default: one served in process. */
  LAB_URL: z.string().url().optional(),
  /** Port of the in-process lab service (default: a free one). */
  LAB_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** A folder of workflow definitions (`*.json`) registered at start, besides the bundled ones. */
  STATEKEEPER_WORKFLOWS_DIR: optionalText,
  /** Inbound webhook sources: a JSON or YAML file `{ "sources": [...] }` (see README "Inbound webhooks")... */
  STATEKEEPER_WEBHOOKS_FILE: optionalText,
  /** ... and/or the same document as JSON text. */
  STATEKEEPER_WEBHOOKS: optionalText,
  /** Largest accepted request body in bytes (default 1 MiB). */
  STATEKEEPER_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Development API key (tenant `default`, every role): `auto` creates it on the embedded database only. */
  STATEKEEPER_DEV_KEY: z.enum(['auto', 'on', 'off']).default('auto'),
  /** HS256 shared secret for bearer JWTs (at least 32 characters). */
  STATEKEEPER_JWT_SECRET: optionalText,
  /** RS256 public key (PEM text) for bearer JWTs ... */
  STATEKEEPER_JWT_PUBLIC_KEY: optionalText,
  /** ... or the path of a PEM file holding it. */
  STATEKEEPER_JWT_PUBLIC_KEY_FILE: optionalText,
  STATEKEEPER_JWT_ISSUER: optionalText,
  STATEKEEPER_JWT_AUDIENCE: optionalText,
  STATEKEEPER_JWT_TENANT_CLAIM: z.string().min(1).default('tenant'),
  STATEKEEPER_JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** pino level of the server log. */
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** `pretty` or `json` lines; default: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  /** When set, `GET /metrics` needs `Authorization: Bearer <this>`; unset, it is open like `/healthz`. */
  STATEKEEPER_METRICS_TOKEN: optionalText,
  /** `on`: stream every instance to the Stately inspector through a local relay (see README). */
  STATEKEEPER_INSPECT: z.enum(['on', 'off']).default('off'),
  /** Port of the inspector relay (its page and WebSocket). */
  STATEKEEPER_INSPECT_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  /** Keys signing history checkpoints, `id:base64secret[,…]` (the last signs; all verify). Without: no checkpoints. */
  STATEKEEPER_HISTORY_KEYS: optionalText,
  /** How often the heads of changed histories are signed (default 60 s). */
  STATEKEEPER_CHECKPOINT_MS: z.coerce.number().int().min(100).default(60_000),
  /** How often the stats deltas are folded into the counters (default 5 s; see README "Stats"). */
  STATEKEEPER_STATS_FOLD_MS: z.coerce.number().int().min(100).default(5_000),
  /** AES-256 keys for secret fields at rest, `id:base64(32 bytes)[,…]` (the last encrypts; all decrypt). Without: plain text. */
  STATEKEEPER_ENCRYPTION_KEYS: optionalText,
  /** Shortest timer delay in ms: fixed delays below it refuse the machine, computed ones end the instance in error. */
  STATEKEEPER_MIN_DELAY_MS: z.coerce.number().int().min(0).default(100),
  /** Transitions one instance may commit per window before it is ended in error (`transition_rate_exceeded`). */
  STATEKEEPER_MAX_TRANSITIONS: z.coerce.number().int().min(1).default(1000),
  /** That window, in ms. */
  STATEKEEPER_TRANSITION_WINDOW_MS: z.coerce.number().int().min(1).default(10_000),
  /** Cron expression of the bundled monthly billing run's schedule, or `off` (see README "Schedules"). */
  STATEKEEPER_BILLING_SCHEDULE: z.string().trim().min(1).default('0 2 1 * *'),
  /** Time zone of that schedule. */
  STATEKEEPER_BILLING_TIMEZONE: z.string().trim().min(1).default('UTC'),
  /** A JSON or YAML file with a list of schedules to declare at start. */
  STATEKEEPER_SCHEDULES_FILE: optionalText,
  /** How often due outbox deliveries are claimed besides wake-ups (default: STATEKEEPER_POLL_MS). */
  STATEKEEPER_OUTBOX_POLL_MS: z.coerce.number().int().min(10).optional(),
  /** Attempts of one webhook delivery before it is dead-lettered. */
  STATEKEEPER_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(8),
  /** Time limit of one webhook request, in ms. */
  STATEKEEPER_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Back-off before the second attempt (doubling for each further one, with jitter), and the longest back-off, in ms. */
  STATEKEEPER_WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).max(86_400_000).default(1000),
  STATEKEEPER_WEBHOOK_MAX_BACKOFF_MS: z.coerce.number().int().min(1).max(604_800_000).default(3_600_000),
  /** Days finished instances of machines without a retention policy of their own are kept; unset: forever. */
  STATEKEEPER_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  /** What retention does with them: delete, or archive (copy to the archive tables, then delete). */
  STATEKEEPER_RETENTION_MODE: z.enum(['delete', 'archive']).default('delete'),
  /** How often retention runs (ms; 0: only on demand, POST /v1/retention/run). */
  STATEKEEPER_RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** Instances per retention batch (one transaction each). */
  STATEKEEPER_RETENTION_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Longest accepted JWT lifetime in seconds (iat required; older, future-dated or longer-lived tokens are refused). */
  STATEKEEPER_JWT_MAX_AGE: z.coerce.number().int().min(1).default(3600),
  /** Allowed clock skew between the token issuer and this server, in seconds. */
  STATEKEEPER_JWT_CLOCK_TOLERANCE: z.coerce.number().int().min(0).max(600).default(30),
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
