/**
 * The dashboard and the API reference in headless Chromium, against the real
 * server (`api/main.ts`) on a fresh database with the bundled workflows and
 * the lab: an instance's current state highlighted on its statechart, an
 * accepted event clicked, a provisioning compensating live, the list
 * filtered, and `/docs` rendering every operation with its request schema.
 * Screenshots go to `.test-results/`.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { launchChromium, screenshot, watchPage } from './support/browser.ts';
import { freePort } from '../adapters/postgres/postmaster.ts';
import { REPO_ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';

const execFileAsync = promisify(execFile);

const PROVISIONING_INPUT = {
  customer: { name: 'Ada Lovelace', email: 'ada@example.net' },
  subscriber: { username: 'ada', plan: 'fiber-100' },
  radius: { password: 's3cretpass' },
  ipPrefixId: 1,
  onu: { serialNumber: 'ALCL00000001', oltPort: 'olt1/1/1' },
  cpe: { deviceId: 'cpe-ada' },
};

/** Builds the dashboard when `ui/dist` is missing or older than its sources (the install builds it once). */
async function ensureDashboardBuilt(): Promise<void> {
  const built = statSync(path.join(REPO_ROOT, 'ui/dist/index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = [
    path.join(REPO_ROOT, 'ui/index.html'),
    path.join(REPO_ROOT, 'ui/vite.config.ts'),
    path.join(REPO_ROOT, 'api/exports/mermaid-ids.ts'),
  ];
  for (const dir of ['ui/src', 'ui/src/views']) {
    for (const f of await readdir(path.join(REPO_ROOT, dir))) if (/\.(ts|css)$/.test(f)) sources.push(path.join(REPO_ROOT, dir, f));
  }
  if (sources.every((f) => statSync(f).mtimeMs < built)) return;
  const { build } = await import('vite');
  await build({ root: path.join(REPO_ROOT, 'ui'), configFile: path.join(REPO_ROOT, 'ui/vite.config.ts'), logLevel: 'warn' });
}

/** Runs the operator CLI against the test database; resolves with its standard output. */
async function runCli(args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'api/cli.ts'), ...args], {
    env: { ...process.env, ...env },
    cwd: REPO_ROOT,
  });
  return stdout;
}

describe('dashboard and API reference in Chromium', () => {
  let db: TestDatabase;
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  let lab: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  let seen: ReturnType<typeof watchPage>;

  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status, `${method} ${url}`).toBeLessThan(300);
    return res.json();
  };
  const text = (selector: string) => page.locator(selector).first().textContent();
  const count = (selector: string) => page.locator(selector).count();
  /** Waits for a condition on the page (the page updates on its own: live stream, list refresh). */
  const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 30_000, interval: 100 });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'statekeeper-dashboard-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: String(port),
      STATEKEEPER_DATA_DIR: dataDir,
      STATEKEEPER_POLL_MS: '100',
      STATEKEEPER_DEV_KEY: 'on',
    };
    server = await startServerProcess(env, base);
    key = (await readFile(path.join(dataDir, 'dev-api-key'), 'utf8')).trim();
    lab = /lab of external systems on (http:\/\/\S+)/.exec(server.output())![1]!;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    seen = watchPage(page, base);
    // As a user would: the page asks for a key, which then stays in the tab's sessionStorage.
    await page.goto(`${base}/`);
    await page.getByText('Enter an API key').waitFor();
    await page.fill('#key-input', key);
    await page.click('#key-form button[type=submit]');
    await page.locator('[data-testid=counts]').waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('an instance: current state highlighted, an accepted event clicked, the state and the history follow', {
    timeout: 90_000,
  }, async () => {
    const started = await api('POST', '/v1/machines/greeting/instances?wait=settled&timeoutMs=20000', { input: { name: 'Ada' } });
    expect(started.state).toBe('awaitingConfirmation');

    await page.goto(`${base}/#/instances/${started.id}`);
    const waiting = page.locator('[data-testid=diagram] .sk-current[data-state-path="awaitingConfirmation"]');
    await waiting.waitFor();
    // Exactly the current state is highlighted, and it is the node labelled with its name.
    expect(await count('[data-testid=diagram] .sk-current')).toBe(1);
    expect(await waiting.textContent()).toContain('awaitingConfirmation');
    await poll(() => count('[data-testid=history] li')).toBe(2);
    await poll(() => text('[data-testid=live]')).toContain('live');
    expect(await page.locator('[data-testid=accepted-events] button').allTextContents()).toEqual(['greeting.cancel', 'greeting.confirm']);
    expect(await text('[data-testid=steps]')).toContain('compose');
    await screenshot(page, 'dashboard-instance-waiting');

    await page.click('[data-testid=accepted-events] button[data-event="greeting.confirm"]');
    await page.locator('[data-testid=diagram] .sk-current[data-state-path="confirmed"]').waitFor();
    expect(await count('[data-testid=diagram] .sk-current')).toBe(1);
    await poll(() => count('[data-testid=history] li')).toBe(3);
    const last = await page.locator('[data-testid=history] li').last().textContent();
    expect(last).toContain('greeting.confirm');
    expect(last).toContain('apikey:development');
    expect(await text('[data-testid=workflow-status]')).toBe('completed');
    expect(await text('[data-testid=state]')).toContain('confirmed');
    await poll(() => text('[data-testid=live]')).toContain('ended');
    await screenshot(page, 'dashboard-instance-confirmed');
  });

  test('a machine page draws compound states and parallel regions as nested boxes', { timeout: 60_000 }, async () => {
    await page.goto(`${base}/#/machines/sign-up`);
    await page.locator('[data-testid=diagram] svg').waitFor();
    // Mermaid ids are `<svg id>-state-<mermaid id>-<n>`; sign-up's `welcoming` is parallel with regions `email` and `sms`.
    const box = (mermaidId: string) => page.locator(`[data-testid=diagram] .statediagram-cluster[id*="-state-${mermaidId}-"]`);
    for (const id of ['s_welcoming', 's_welcoming__email', 's_welcoming__sms', 's_compensating']) expect(await box(id).count(), id).toBe(1);
    const outer = await box('s_welcoming').boundingBox();
    for (const region of ['s_welcoming__email', 's_welcoming__sms']) {
      const inner = (await box(region).boundingBox())!;
      expect(inner.x >= outer!.x && inner.x + inner.width <= outer!.x + outer!.width, region).toBe(true);
      expect(inner.y >= outer!.y && inner.y + inner.height <= outer!.y + outer!.height, region).toBe(true);
    }
    expect(await page.locator('table.states').textContent()).toContain('welcoming.sms.deciding');
    await screenshot(page, 'dashboard-machine-sign-up');
  });

  test('a provisioning started from its machine page compensates while the page watches the stream', { timeout: 90_000 }, async () => {
    const fault = await fetch(`${lab}/lab/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ system: 'onu', operation: 'activate', mode: 'fail' }),
    });
    expect(fault.ok).toBe(true);
    try {
      await page.goto(`${base}/#/machines/subscriber-provisioning`);
      await page.locator('[data-testid=diagram] svg').waitFor();
      // The saga's compound states are drawn as clusters.
      expect(await count('[data-testid=diagram] .statediagram-cluster')).toBeGreaterThanOrEqual(2);
      await page.fill('[data-testid=start-input]', JSON.stringify(PROVISIONING_INPUT));
      await page.click('[data-testid=start]');
      await page.waitForURL(/#\/instances\//);

      // Everything from here on reaches the page through the event stream.
      await page.locator('[data-testid=diagram] .sk-current[data-state-path="rolled_back"]').waitFor({ timeout: 60_000 });
      await poll(() => text('[data-testid=workflow-status]')).toBe('rolled_back');
      const onu = page.locator('[data-testid=steps] tr[data-step="onuActivation"]');
      await poll(() => onu.textContent()).toContain('failed');
      expect(await onu.locator('td').nth(2).textContent()).toBe('5');
      for (const step of ['customer', 'subscriber', 'radiusAccount', 'ipAllocation']) {
        expect(await page.locator(`[data-testid=steps] tr[data-step="${step}"]`).textContent(), step).toContain('compensated');
      }
      expect(await text('[data-testid=history]')).toContain('xstate.error.actor.onuActivation');
      await screenshot(page, 'dashboard-provisioning-rolled-back');
    } finally {
      await fetch(`${lab}/lab/faults`, { method: 'DELETE' });
    }
  });

  test('the instance list filters by machine, status and state; the counts follow', { timeout: 60_000 }, async () => {
    const waiting = await api('POST', '/v1/machines/greeting/instances?wait=settled&timeoutMs=20000', { input: { name: 'Bob' } });
    await page.goto(`${base}/#/instances`);
    const greetingCounts = page.locator('[data-testid=counts] tr[data-machine="greeting"]');
    const cell = (status: string) => greetingCounts.locator(`td[data-status="${status}"]`).textContent();
    await poll(async () => [await cell('active'), await cell('done'), await cell('total')]).toEqual(['1', '1', '2']);
    const provisioning = page.locator('[data-testid=counts] tr[data-machine="subscriber-provisioning"]');
    expect(await provisioning.locator('td[data-status="done"]').textContent()).toBe('1');
    expect(await provisioning.locator('td[data-outcomes]').textContent()).toBe('rolled_back 1');
    await poll(() => count('[data-testid=instance-rows] tr')).toBe(3);

    await page.selectOption('[data-testid=filter-machine]', 'greeting');
    await poll(() => count('[data-testid=instance-rows] tr')).toBe(2);
    await page.selectOption('[data-testid=filter-status]', 'active');
    await poll(() =>
      page.locator('[data-testid=instance-rows] tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-instance'))),
    ).toEqual([waiting.id]);
    await page.selectOption('[data-testid=filter-status]', '');
    await page.fill('[data-testid=filter-state]', 'confirmed');
    await poll(() => page.locator('[data-testid=instance-rows] tr td:nth-child(4)').allTextContents()).toEqual(['confirmed']);
    await screenshot(page, 'dashboard-instances-filtered');

    // A row opens its instance.
    await page.fill('[data-testid=filter-state]', 'awaitingConfirmation');
    await page.locator(`[data-testid=instance-rows] tr[data-instance="${waiting.id}"] a`).click();
    await page.locator('[data-testid=diagram] .sk-current[data-state-path="awaitingConfirmation"]').waitFor();
  });

  test('a human task: listed in the inbox by role, answered from the instance page, the phase moves on', { timeout: 90_000 }, async () => {
    // A tester's key, made as an operator would (the development key holds no audit roles).
    const created = await runCli(['apikey', 'create', '--tenant', 'default', '--roles', 'operator,tester', '--name', 'tess', '--json'], {
      DATABASE_URL: db.url,
    });
    const tester = JSON.parse(created).key as string;
    const audit = await api('POST', '/v1/machines/audit/instances', { input: { reportId: 'R-1', reportType: 'regulatory' } });
    const useKey = async (k: string) => {
      await page.evaluate((value) => sessionStorage.setItem('statekeeper.apiKey', value), k);
      await page.reload();
    };
    await useKey(tester);
    try {
      await page.goto(`${base}/#/tasks`);
      const card = page.locator(`[data-testid=task-list] [data-task^="${audit.id}:"]`);
      await poll(() => card.count()).toBe(1);
      expect(await card.locator('[data-testid=task-title]').textContent()).toBe('Create the test plan');
      // A role the key does not hold filters it out.
      await page.fill('[data-testid=task-filter-role]', 'cdo');
      await poll(() => count('[data-testid=no-tasks]')).toBe(1);
      await page.fill('[data-testid=task-filter-role]', 'tester');
      await poll(() => card.count()).toBe(1);
      await screenshot(page, 'dashboard-task-inbox');

      await page.locator(`[data-testid=task-list] a[href="#/instances/${audit.id}"]`).click();
      const task = page.locator('[data-testid=tasks] [data-task]').first();
      await poll(() => task.locator('[data-testid=task-title]').textContent()).toBe('Create the test plan');
      // The form opens with its required fields; an answer that fails it is refused and changes nothing.
      await task.locator('[data-testid=task-form] summary').click();
      await poll(() => task.locator('[data-testid=task-answer]').inputValue()).toContain('"summary"');
      await task.locator('[data-testid=task-answer]').fill('{"summary": ""}');
      await task.locator('[data-testid=task-complete]').click();
      await poll(() => text('#banner')).toContain('answer_invalid');
      // That refusal was the point: take its 422 off the page's error list, which the last test checks is empty.
      const refused = seen.errors.findIndex((e) => /^HTTP 422: POST .*\/complete$/.test(e));
      expect(refused).toBeGreaterThanOrEqual(0);
      seen.errors.splice(refused, 1);
      const historyBefore = await count('[data-testid=history] li');
      await task.locator('[data-testid=task-answer]').fill('{"summary": "Test the regulatory report R-1"}');
      await task.locator('[data-testid=task-complete]').click();
      await poll(() => page.locator('[data-testid=tasks] [data-testid=task-title]').first().textContent()).toBe('Approve the test plan');
      await poll(() => count('[data-testid=history] li')).toBeGreaterThan(historyBefore);
      expect(await page.locator('[data-testid=history] li').last().textContent()).toContain('apikey:tess');
      await screenshot(page, 'dashboard-task-completed');
    } finally {
      await useKey(key);
    }
  });

  test('/docs renders every operation with its request schema and example, offline', { timeout: 60_000 }, async () => {
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    const operations = Object.values(doc.paths as Record<string, object>).reduce((n, item) => n + Object.keys(item).length, 0);
    await page.goto(`${base}/docs`);
    await poll(() => count('.opblock')).toBe(operations);
    const start = page.locator('.opblock-post').filter({ hasText: '/v1/machines/{id}/instances' });
    await start.locator('.opblock-summary').first().click();
    const body = start.locator('.opblock-section-request-body');
    await body.waitFor();
    // The example value, then the schema with its fields.
    expect(await body.textContent()).toContain('"input"');
    await body.getByText('Schema', { exact: true }).click();
    await poll(() => body.textContent()).toContain('instanceId');
    await screenshot(page, 'docs-start-instance');
    expect(seen.errors).toEqual([]);
    expect(seen.outside).toEqual([]);
  });
});
