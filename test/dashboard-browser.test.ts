import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDashboard } from '../dashboard/build.ts';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { usageEvent } from '../src/ledger/testing/usage-event-fixtures.ts';
import { DASHBOARD_DIR } from '../src/server/analytics-services.ts';
import { startStack, type Stack } from './support/stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'test-results', 'dashboard');
const ADMIN_KEY = 'dashboard-test-key';
const HOUR = 3_600_000;

/** Three weeks of traffic over features, customers, models (one on Bedrock), with lever savings. */
function seed(): UsageEvent[] {
  const now = Date.now();
  const events: UsageEvent[] = [];
  const features = ['support-chat', 'doc-search', 'ticket-summary'];
  const customers = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
  for (let hour = 21 * 24; hour >= 1; hour -= 3) {
    for (const [index, feature] of features.entries()) {
      const customer = customers[(hour + index) % customers.length] ?? 'acme';
      const bedrock = feature === 'ticket-summary';
      const cost = BigInt(1_000_000_000 * (index + 1) * (1 + (hour % 5)));
      events.push(
        usageEvent({
          time: now - hour * HOUR,
          provider: bedrock ? 'bedrock' : 'openai',
          servedModel: bedrock ? 'anthropic.claude-3-5-haiku-20241022-v1:0' : index === 0 ? 'gpt-4o' : 'gpt-4o-mini',
          attribution: { feature, customer, tags: {} },
          usage: { input: { total: 20_000, noCache: 12_000, cacheRead: 8_000 }, output: { total: 700 } },
          cost,
          baselineCost: cost + 400_000_000n,
          cacheWritePremium: 50_000_000n,
          cacheReadSaving: 300_000_000n,
          levers: [
            { lever: 'prompt_cache', saving: 300_000_000n, estimated: false },
            { lever: index === 1 ? 'routing' : 'batch', saving: 100_000_000n, estimated: index === 1 },
          ],
        }),
      );
    }
  }
  return events;
}

let stack: Stack;
before(async () => {
  process.env.COSTGATE_ADMIN_KEY = ADMIN_KEY;
  await buildDashboard(DASHBOARD_DIR);
  stack = await startStack();
  await stack.gateway.ledger.append(seed());
});
after(async () => {
  await stack?.close();
  delete process.env.COSTGATE_ADMIN_KEY;
});

test('the admin analytics API and /metrics need the admin key when one is set', async () => {
  assert.equal((await fetch(`${stack.url}/costgate/admin/analytics/pareto`)).status, 401);
  assert.equal((await fetch(`${stack.url}/metrics`)).status, 401);
  const response = await fetch(`${stack.url}/costgate/admin/analytics/pareto?by=customer&top=2`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { rows: unknown[]; groups: number };
  assert.equal(body.rows.length, 2);
  assert.equal(body.groups, 5);
});

test('dashboard pages load against a seeded ledger, charts render with data, filters work', { skip: existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium); .ci/run does` }, async () => {
  const { chromium } = await import('playwright-core');
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.addInitScript({ content: `sessionStorage.setItem('costgate-admin-key', ${JSON.stringify(ADMIN_KEY)})` });
    const ready = (view: string) => page.waitForSelector(`#view[data-view="${view}"][data-state="ready"]`, { timeout: 15_000 });

    await page.goto(`${stack.url}/dashboard#overview`);
    await ready('overview');
    const spendBefore = await page.textContent('.tile strong');
    assert.match(spendBefore ?? '', /^\$\d/);
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png'), fullPage: true });

    for (const view of ['features', 'customers', 'models', 'caching', 'routing', 'batches', 'anomalies', 'break-even']) {
      await page.click(`#tabs a[href="#${view}"]`);
      await ready(view);
      assert.equal(await page.locator('#view .error').count(), 0, `${view}: ${await page.locator('#view .error').allTextContents()}`);
      const charts = await page.locator('#view .uplot canvas').count();
      assert.ok(charts >= 1, `${view} draws at least one chart`);
      await page.screenshot({ path: join(SCREENSHOTS, `${view}.png`), fullPage: true });
    }
    // Charts carry data: the Pareto chart's cost series has a point per customer shown.
    await page.click('#tabs a[href="#customers"]');
    await ready('customers');
    assert.equal(await page.locator('#view .uplot .u-legend').count() > 0, true);
    assert.match((await page.locator('.tile strong').first().textContent()) ?? '', /^5$/);
    await page.click('#tabs a[href="#break-even"]');
    await ready('break-even');
    assert.match((await page.textContent('.recommendation')) ?? '', /on demand|MU/);

    // A filter narrows every figure: one feature spends less than all of them.
    await page.click('#tabs a[href="#overview"]');
    await ready('overview');
    await page.waitForFunction("document.querySelectorAll('select[name=feature] option').length > 1");
    await page.selectOption('select[name=feature]', 'support-chat');
    await page.waitForFunction(`document.querySelector('#view[data-state="ready"] .tile strong')?.textContent !== ${JSON.stringify(spendBefore)}`);
    const spendAfter = await page.textContent('.tile strong');
    const dollars = (text: string | null) => Number((text ?? '').replace(/[$,]/g, ''));
    assert.ok(dollars(spendAfter) > 0 && dollars(spendAfter) < dollars(spendBefore), `${spendAfter} < ${spendBefore}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'overview-filtered.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
