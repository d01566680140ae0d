import { MemoryStore } from './memory-store.ts';
import { scheduleSuite } from '../test/schedule-suite.ts';

scheduleSuite('the memory store', async () => new MemoryStore());
