import { migrationSuite } from './migration-suite.ts';
import { pgStoreFactory } from './support/pg-store.ts';

migrationSuite('Postgres', pgStoreFactory());
