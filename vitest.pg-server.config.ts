import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

/** The Postgres-server suite: every `*.pg.test.ts` against `DATABASE_URL`. */
export default mergeConfig(base, defineConfig({ test: { include: ['**/*.pg.test.ts'] } }));
