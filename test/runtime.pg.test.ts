import { runtimeSuite } from './runtime-suite.ts';
import { pgStoreFactory } from './support/pg-store.ts';

runtimeSuite('Postgres', pgStoreFactory());
