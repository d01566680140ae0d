import { MemoryStore } from './memory-store.ts';
import { restartSuite } from '../test/restart-suite.ts';

restartSuite('the memory store', async () => new MemoryStore());
