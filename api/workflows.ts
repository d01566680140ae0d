import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { createBundledSteps } from '../actors/index.ts';
import { greetingSteps } from '../actors/greeting-steps.ts';
import type { Clients } from '../actors/clients/index.ts';
import type { RegisterOptions, StepRegistry } from '../runtime/index.ts';
import { createHttpClients, createLab, startLabServer, type Lab, type LabServer } from '../lab/index.ts';
import { GreetingInputSchema, greetingMachine } from '../machines/greeting.machine.ts';
import { bundledMachines } from '../machines/index.ts';

/** The bundled workflow definitions (JSON and YAML) that every server registers. */
export const BUNDLED_DEFINITIONS_DIR = fileURLToPath(new URL('../machines/workflows/', import.meta.url));

/** The workflows a server registers, with the schema each start input must pass. */
export interface BundledWorkflows {
  readonly machines: readonly { machine: AnyStateMachine; options: RegisterOptions }[];
  readonly steps: StepRegistry;
  /** The lab service when this process runs it (no `LAB_URL` given). */
  readonly lab?: { readonly lab: Lab; readonly server: LabServer };
  close(): Promise<void>;
}

/**
 * Wires the bundled workflows to the external systems: by default a lab of
 * those systems served over HTTP from this process (their records in the
 * workflow database's `lab` schema); with `labUrl`, an existing lab or any
 * service speaking the same HTTP interface.
 *
 * @remarks Step actors only see the `Clients` interfaces, so pointing them at
 * real systems is a matter of passing other clients here.
 */
export async function bundledWorkflows(options: {
  databaseUrl: string;
  labUrl?: string;
  labPort?: number;
  clients?: Clients;
}): Promise<BundledWorkflows> {
  let lab: BundledWorkflows['lab'];
  let clients = options.clients;
  if (!clients) {
    let url = options.labUrl;
    if (!url) {
      // Every lab record and idempotency key in the workflow database's `lab` schema: ids continue after a restart.
      const instance = createLab({ database: options.databaseUrl });
      await instance.ready();
      const server = await startLabServer(instance, { port: options.labPort ?? 0 });
      lab = { lab: instance, server };
      url = server.url;
    }
    clients = createHttpClients(url);
  }
  return {
    machines: [
      {
        machine: greetingMachine,
        options: { version: '1', description: 'Example: one step, a reminder timer, a confirmation', inputSchema: GreetingInputSchema },
      },
      ...bundledMachines.map((b) => ({ machine: b.machine, options: b.options })),
    ],
    steps: { ...greetingSteps, ...createBundledSteps(clients) },
    lab,
    async close() {
      await lab?.server.close();
      await lab?.lab.close();
    },
  };
}
