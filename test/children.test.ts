import { MemoryStore } from '../runtime/memory-store.ts';
import { childSuite } from './child-suite.ts';

childSuite('memory', async () => new MemoryStore());
