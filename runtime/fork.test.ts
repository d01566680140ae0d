import { MemoryStore } from './memory-store.ts';
import { forkSuite } from '../test/fork-suite.ts';

forkSuite('the memory store', async () => new MemoryStore());
