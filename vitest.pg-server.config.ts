import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The Postgres-server suite: every `*.pg.test.ts` against `DATABASE_URL`.
 * (Spread, not mergeConfig: merging would append to `include` and run everything.)
 */
export default defineConfig({ ...base, test: { ...base.test, include: ['**/*.pg.test.ts'] } });
