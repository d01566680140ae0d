/**
 * In-process API test harness: the app over a simulation (in-memory store,
 * simulated clock) and an in-memory key store with keys for two tenants.
 */
import type { AnyStateMachine } from 'xstate';
import { greetingSteps } from '../../actors/greeting-steps.ts';
import type { StepRegistry } from '../../runtime/step-types.ts';
import { greetingMachine } from '../../machines/greeting.machine.ts';
import { deadline, parentFlow, threeSteps } from '../fixtures/machines.ts';
import { createSimulation, type Simulation, type SimulationOptions } from '../../runtime/testing/index.ts';
import type { RegisterOptions, Runtime } from '../../runtime/index.ts';
import type { DefinitionService } from '../../definitions/index.ts';
import { createApp, type AppDeps } from '../../api/app.ts';
import { ApiKeyAuthenticator, createApiKey } from '../../api/auth/api-keys.ts';
import { MemoryApiKeyStore } from '../../api/auth/memory-key-store.ts';
import type { Authenticator } from '../../api/auth/principal.ts';
import { payoutInputSchema, payoutMachine } from '../fixtures/api-machines.ts';
import { sagaStepView } from '../../sagas/index.ts';

/** Options of {@link createTestApi}. */
export interface TestApiOptions {
  machines: { machine: AnyStateMachine; options: RegisterOptions }[];
  steps?: StepRegistry;
  deps?: Partial<Omit<AppDeps, 'runtime'>>;
  /** Extra authenticators tried after the API keys (e.g. JWT). */
  auth?: Authenticator;
  /** JSON definitions registered through the app (`POST /v1/machines`), made over the harness's runtime. */
  definitions?: (runtime: Runtime) => DefinitionService;
  /** Simulation options besides machines and steps (a Postgres store, runtime limits). */
  simulation?: Omit<SimulationOptions, 'machines' | 'steps'>;
}

/** Keys of the harness: tenant `acme` with each route role, and tenant `other`. */
export interface TestKeys {
  admin: string;
  operator: string;
  viewer: string;
  /** Tenant `acme`, roles operator + finance (a machine-declared role). */
  finance: string;
  /** Tenant `other`, admin. */
  otherTenant: string;
}

/** Options of a harness request. */
export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  /** Sent as is (no JSON encoding). */
  raw?: string;
  headers?: Record<string, string>;
}

/** Builds the harness: simulation, key store with {@link TestKeys}, app, request helpers. */
export async function createTestApi(options: TestApiOptions) {
  const sim: Simulation = await createSimulation({ ...options.simulation, machines: options.machines, steps: options.steps });
  const store = new MemoryApiKeyStore();
  const make = async (tenant: string, name: string, roles: string) => (await createApiKey(store, { tenant, name, roles })).key;
  const keys: TestKeys = {
    admin: await make('acme', 'admin', 'admin'),
    operator: await make('acme', 'ops', 'operator'),
    viewer: await make('acme', 'view', 'viewer'),
    finance: await make('acme', 'fin', 'operator,finance'),
    otherTenant: await make('other', 'intruder', 'admin'),
  };
  const keyAuth = new ApiKeyAuthenticator(store);
  const auth: Authenticator = options.auth
    ? { authenticate: async (t) => (await keyAuth.authenticate(t)) ?? options.auth!.authenticate(t) }
    : keyAuth;
  const errors: unknown[] = [];
  const definitions = options.definitions?.(sim.runtime);
  const app = createApp({
    runtime: sim.runtime,
    auth,
    reportError: (e) => errors.push(e),
    sseKeepAliveMs: 50,
    definitions,
    ...options.deps,
  });

  /** Sends a request as `key` (default: admin); JSON-encodes `body`. */
  const request = (method: string, path: string, o: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? keys.admin : o.key;
    if (key) headers.Authorization = `Bearer ${key}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/json';
    return app.request(path, { method, headers, body });
  };
  /** Request + parsed JSON body. */
  const call = async (method: string, path: string, o: RequestOptions = {}) => {
    const res = await request(method, path, o);
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text, headers: res.headers };
  };
  return { app, sim, runtime: sim.runtime, store, keys, request, call, errors, definitions };
}

/** What {@link createTestApi} returns. */
export type TestApi = Awaited<ReturnType<typeof createTestApi>>;

/**
 * The harness with the usual machines: `payout` (with an input schema, roles,
 * retry and cancel), `greeting`, `three-steps`, `parent-flow` (+ `child-flow`)
 * and `deadline` (no `workflow.cancel`: cancel stops it).
 */
export async function createStandardTestApi(
  o: {
    charge?: (input: { amount: number }) => Promise<unknown>;
    deps?: TestApiOptions['deps'];
    auth?: Authenticator;
    simulation?: TestApiOptions['simulation'];
  } = {},
) {
  return createTestApi({
    machines: [
      { machine: payoutMachine, options: { version: '1', inputSchema: payoutInputSchema, stepView: sagaStepView } },
      { machine: greetingMachine, options: { version: '1', steps: greetingSteps } },
      { machine: threeSteps, options: { version: '1' } },
      { machine: parentFlow, options: { version: '1' } },
      { machine: deadline, options: { version: '1' } },
    ],
    steps: {
      charge: (o.charge ?? (async () => ({ receipt: 'r-1', token: 'tok_abc' }))) as never,
      stepA: async ({ n }: { n: number }) => ({ a: n + 1 }),
      stepB: async ({ n }: { n: number }) => ({ b: n + 2 }),
      stepC: async ({ n }: { n: number }) => ({ c: n + 3 }),
    },
    deps: o.deps,
    auth: o.auth,
    simulation: o.simulation,
  });
}
