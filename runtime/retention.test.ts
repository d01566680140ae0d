import { MemoryStore } from './memory-store.ts';
import { retentionSuite } from '../test/retention-suite.ts';

retentionSuite(
  'the memory store',
  async () => new MemoryStore(),
  async (s) => (s as MemoryStore).archive.instances.length,
);
