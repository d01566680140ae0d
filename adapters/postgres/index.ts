export { openDatabase } from './orm.ts';
export type { OpenDatabaseOptions } from './orm.ts';
export { PgInstanceStore } from './pg-instance-store.ts';
export { PgNotifier } from './pg-notifier.ts';
export type { PgNotifierOptions } from './pg-notifier.ts';
export { startEmbeddedPostgres } from './embedded.ts';
export type { EmbeddedPostgresOptions, EmbeddedPostgresServer } from './embedded.ts';
export { pgGauges } from './pg-gauges.ts';
export { PgDefinitionStore } from './pg-definition-store.ts';
