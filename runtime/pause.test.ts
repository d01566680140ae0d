import { MemoryStore } from './memory-store.ts';
import { pauseSuite } from '../test/pause-suite.ts';

pauseSuite('the memory store', async () => new MemoryStore());
