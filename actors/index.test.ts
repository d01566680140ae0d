import { describe, expect, it } from 'vitest';
import { bundledMachines } from '../machines/index.ts';
import { stepPolicyOf } from '../runtime/step.ts';
import { createFakeClients } from './fake-clients.ts';
import { createBundledSteps } from './index.ts';

describe('createBundledSteps', () => {
  const steps = createBundledSteps(createFakeClients().clients);

  it('implements every step the bundled machines invoke, under the same names', () => {
    for (const { machine } of bundledMachines) {
      for (const [name, logic] of Object.entries(machine.implementations.actors)) {
        expect(stepPolicyOf(logic), `${machine.id}: ${name} is a step placeholder`).toBeDefined();
        expect(steps[name], `${machine.id}: no implementation for ${name}`).toBeDefined();
      }
    }
  });

  it('bundles no step that no machine uses', () => {
    const used = new Set(bundledMachines.flatMap(({ machine }) => Object.keys(machine.implementations.actors)));
    expect(Object.keys(steps).filter((name) => !used.has(name))).toEqual([]);
  });
});
