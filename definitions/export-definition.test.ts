import { describe, expect, it } from 'vitest';
import { bundledGraphCases, transitionTable } from '../test/fixtures/bundled-graph-cases.ts';
import { buildMachine } from './build-machine.ts';
import { catalogOfMachine, createCatalog } from './catalog.ts';
import { exportDefinition } from './export-definition.ts';
import { validateDefinition } from './validate-definition.ts';

describe('JSON export of the bundled TypeScript machines', () => {
  for (const c of bundledGraphCases) {
    it(`${c.machine.id}: export → JSON → validate → build gives identical transitions for every state and event`, () => {
      const { definition, inline } = exportDefinition(c.machine, '1');
      const json = JSON.parse(JSON.stringify(definition));
      expect(json).toEqual(definition);
      const catalog = createCatalog(catalogOfMachine(c.machine), inline);
      const checked = validateDefinition(JSON.stringify(json), catalog);
      expect(checked.ok ? [] : checked.issues).toEqual([]);
      const rebuilt = buildMachine(json, catalog);
      const original = transitionTable(c.machine, c.input, c.outputs);
      expect(Object.keys(original).length).toBeGreaterThan(2);
      expect(transitionTable(rebuilt, c.input, c.outputs)).toEqual(original);
    });
  }
});
