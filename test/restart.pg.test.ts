import { restartSuite } from './restart-suite.ts';
import { pgStoreFactory } from './support/pg-store.ts';

restartSuite('Postgres', pgStoreFactory());
