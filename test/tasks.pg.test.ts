import { taskSuite } from './task-suite.ts';
import { pgStoreFactory } from './support/pg-store.ts';

taskSuite('Postgres', pgStoreFactory());
