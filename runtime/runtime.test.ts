import { MemoryStore } from './memory-store.ts';
import { runtimeSuite } from '../test/runtime-suite.ts';

runtimeSuite('the memory store', async () => new MemoryStore());
