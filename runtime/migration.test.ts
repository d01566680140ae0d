import { MemoryStore } from './memory-store.ts';
import { migrationSuite } from '../test/migration-suite.ts';

migrationSuite('the memory store', async () => new MemoryStore());
