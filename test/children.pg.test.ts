import { childSuite } from './child-suite.ts';
import { pgStoreFactory } from './support/pg-store.ts';

childSuite('Postgres', pgStoreFactory());
