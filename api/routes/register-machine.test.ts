import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys.ts';
import { BUNDLED_DEFINITIONS_DIR } from '../workflows.ts';
import { greetingSteps } from '../../actors/greeting-steps.ts';
import { greetingMachine } from '../../machines/greeting.machine.ts';
import {
  buildMachine,
  createCatalog,
  sourceDefinitionOf,
  DefinitionService,
  MemoryDefinitionStore,
  stepActors,
  type MachineDefinition,
} from '../../definitions/index.ts';
import { createTestApi, type TestApi } from '../../test/support/api-test-support.ts';
import { transitionTable } from '../../test/fixtures/bundled-graph-cases.ts';

const jsonFiles = readdirSync(BUNDLED_DEFINITIONS_DIR).filter((f) => f.endsWith('.json'));
const read = (f: string) => readFileSync(path.join(BUNDLED_DEFINITIONS_DIR, f), 'utf8');
const catalog = createCatalog(stepActors(Object.keys(greetingSteps)));
const inputs: Record<string, unknown> = { 'document-review': { author: 'Ada', title: 'Spec', pages: 120 } };

let api: TestApi;
const open = async () => {
  api = await createTestApi({
    machines: [{ machine: greetingMachine, options: { version: '1' } }],
    steps: greetingSteps,
    definitions: (runtime) => new DefinitionService(runtime, catalog, new MemoryDefinitionStore()),
  });
  return api;
};
afterEach(async () => api?.sim.runtime.close());

describe('JSON definitions over HTTP', () => {
  it('has bundled JSON definitions to test', () => expect(jsonFiles.length).toBeGreaterThan(0));

  for (const file of jsonFiles) {
    it(`${file}: POST → GET definition equal modulo key order → built with the same implementations → same transitions`, async () => {
      const { call } = await open();
      const text = read(file);
      const posted = await call('POST', '/v1/machines', { raw: text });
      expect(posted.status, JSON.stringify(posted.body)).toBe(201);
      const source = JSON.parse(text) as MachineDefinition;
      const got = await call('GET', `/v1/machines/${source.id}/definition`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(source);
      const input = inputs[source.id];
      const fromFile = buildMachine(source, catalog);
      const fromExport = buildMachine(got.body, catalog);
      const table = transitionTable(fromFile, input, { compose: { message: 'Hello, Ada!' } });
      expect(Object.keys(table).length).toBeGreaterThan(3);
      expect(transitionTable(fromExport, input, { compose: { message: 'Hello, Ada!' } })).toEqual(table);
    });
  }

  for (const file of readdirSync(BUNDLED_DEFINITIONS_DIR).filter((f) => /\.ya?ml$/.test(f))) {
    it(`${file}: compiled, registered → GET definition equal to the compiled JSON → same transitions when built again`, async () => {
      const { call, definitions } = await open();
      const reg = await definitions!.registerPhases(read(file));
      const compiled = sourceDefinitionOf(reg.machine)!;
      const got = await call('GET', `/v1/machines/${reg.id}/definition?format=json`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(compiled);
      const table = transitionTable(buildMachine(compiled, catalog), {}, {});
      expect(Object.keys(table).length).toBeGreaterThan(7);
      expect(transitionTable(buildMachine(got.body, catalog), {}, {})).toEqual(table);
      // The exported JSON registers as it is, under another version: the same machine.
      const again = await call('POST', '/v1/machines', { body: { ...got.body, version: 'exported' } });
      expect(again.status, JSON.stringify(again.body)).toBe(201);
    });
  }

  it('a registered definition runs: roles from meta, $expr guards and assigns, the step by name', async () => {
    const { call, keys, sim } = await open();
    await call('POST', '/v1/machines', { raw: read('document-review.json') });
    const started = await call('POST', '/v1/machines/document-review/instances?wait=settled', {
      key: keys.operator,
      body: { input: { author: 'Ada', title: 'Spec', pages: 12 } },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    await sim.settle();
    const id = started.body.id;
    const view = await call('GET', `/v1/instances/${id}`);
    expect(view.body.state).toBe('review');
    expect(view.body.context.message).toBe('Hello, Ada!');
    expect(view.body.acceptedEvents).toContainEqual({ type: 'review.approve', roles: ['reviewer', 'manager'] });
    // The operator key has neither role.
    expect((await call('POST', `/v1/instances/${id}/events`, { key: keys.operator, body: { type: 'review.approve' } })).status).toBe(403);
    const reviewer = (await createApiKey(api.store, { tenant: 'acme', name: 'rev', roles: 'operator,reviewer' })).key;
    expect((await call('POST', `/v1/instances/${id}/events`, { key: reviewer, body: { type: 'review.approve' } })).status).toBe(200);
    const done = await call('GET', `/v1/instances/${id}`);
    expect(done.body).toMatchObject({ state: 'approved', status: 'done', output: { decision: 'approved', message: 'Hello, Ada!' } });
  });

  it('only admins register', async () => {
    const { call, keys } = await open();
    const r = await call('POST', '/v1/machines', { key: keys.operator, raw: read('document-review.json') });
    expect(r.status).toBe(403);
  });

  it('answers 422 with every problem and its JSON Pointer; nothing is registered', async () => {
    const { call } = await open();
    const def = JSON.parse(read('document-review.json'));
    delete def.initial;
    def.states.greeting.invoke.src = 'nope';
    def.states.review.on['review.reject'].target = 'rejectd';
    const r = await call('POST', '/v1/machines', { body: def });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('definition_invalid');
    expect(r.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      '/initial',
      '/states/greeting/invoke/src',
      '/states/review/on/review.reject/target',
    ]);
    expect((await call('GET', '/v1/machines/document-review')).status).toBe(404);
  });

  it('a fixed delay below the runtime minimum is refused with a 422 before anything is stored', async () => {
    const store = new MemoryDefinitionStore();
    api = await createTestApi({
      machines: [],
      definitions: (runtime) => new DefinitionService(runtime, catalog, store),
    });
    const { call } = api;
    const def = { id: 'spinner', initial: 'a', states: { a: { after: { 5: { target: 'a', reenter: true } } } } };
    const r = await call('POST', '/v1/machines', { body: def });
    expect([r.status, r.body.error.code]).toEqual([422, 'definition_invalid']);
    expect(r.body.error.details.issues[0].message).toContain('a delay of 5 ms');
    expect(await store.list()).toEqual([]);
    expect((await call('GET', '/v1/machines/spinner')).status).toBe(404);
  });

  it('a YAML phase workflow: 201, stored as its compiled JSON; a broken one is 422 with every problem and its line', async () => {
    const { call } = await open();
    const text = read('audit.yaml');
    const yaml = (body: string) => call('POST', '/v1/machines', { raw: body, headers: { 'Content-Type': 'application/yaml' } });
    const posted = await yaml(text);
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    expect(posted.body).toMatchObject({ id: 'audit', version: '1' });
    expect((await yaml(text)).status).toBe(200);
    const broken = await yaml(text.replace('unit: days }', 'unit: weeks }'));
    expect(broken.status).toBe(422);
    const line = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(broken.body.error.details.issues.map((i: { code: string; path: string; line: number }) => [i.code, i.path, i.line])).toEqual([
      ['invalid_value', '/phases/0/sla/unit', line('unit: days }')],
    ]);
    const unknownPhase = await yaml(text.replace('depends_on: [testing]', 'depends_on: [tests]'));
    expect(unknownPhase.body.error.details.issues).toEqual([
      expect.objectContaining({ code: 'unknown_phase', path: '/phases/6/depends_on/0', line: line('depends_on: [testing]') }),
    ]);
  });

  it('malformed JSON: 422 with the line', async () => {
    const { call } = await open();
    const r = await call('POST', '/v1/machines', { raw: '{\n "id": "x",\n "states": {,}\n}' });
    expect(r.status).toBe(422);
    expect(r.body.error.details.issues).toEqual([expect.objectContaining({ code: 'invalid_json', line: 3 })]);
  });

  it('the same definition again is a no-op; another one under the same version is a 409', async () => {
    const { call } = await open();
    const text = read('document-review.json');
    expect((await call('POST', '/v1/machines', { raw: text })).status).toBe(201);
    expect((await call('POST', '/v1/machines', { raw: text })).status).toBe(200);
    const other = JSON.parse(text);
    other.description = 'changed';
    const r = await call('POST', '/v1/machines', { body: other });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('definition_conflict');
  });

  it('exports a TypeScript machine as config JSON and as a TypeScript module', async () => {
    const { call, request } = await open();
    const json = await call('GET', '/v1/machines/greeting/definition?format=json');
    expect(json.body).toMatchObject({
      id: 'greeting',
      initial: 'composing',
      states: { awaitingConfirmation: { after: { reminder: expect.anything() } } },
    });
    expect(json.body.context).toEqual({ $ref: 'inline:/context' });
    const ts = await request('GET', '/v1/machines/greeting@1/definition?format=ts');
    expect(ts.headers.get('content-type')).toMatch(/text\/plain/);
    const source = await ts.text();
    expect(source).toContain('createMachine(definition');
    expect(source).toContain('actors: composeGreeting');
    expect((await call('GET', '/v1/machines/greeting/definition?format=yaml')).status).toBe(400);
    expect((await call('GET', '/v1/machines/nope/definition')).status).toBe(404);
  });
});
