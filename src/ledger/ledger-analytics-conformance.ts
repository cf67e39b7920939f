import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { UsageEvent } from '../core/usage-event.ts';
import type { Ledger } from './ledger.ts';
import { usageEvent } from './testing/usage-event-fixtures.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A Monday, 2026-11-30T00:00Z. */
const WEEK_START = Date.UTC(2026, 10, 30);

function call(overrides: Partial<UsageEvent> & { feature?: string; customer?: string }): UsageEvent {
  const { feature, customer, ...rest } = overrides;
  const attribution = { tags: {}, ...(feature ? { feature } : {}), ...(customer ? { customer } : {}) };
  return usageEvent({ attribution, ...rest });
}

/**
 * The analytics every Ledger backend answers in its own query engine (see analytics.ts). Called by
 * each backend's test file next to describeLedgerConformance.
 */
export function describeLedgerAnalyticsConformance(backend: string, createLedger: () => Promise<Ledger>): void {
  async function withLedger(events: UsageEvent[], work: (ledger: Ledger) => Promise<void>): Promise<void> {
    const ledger = await createLedger();
    try {
      await ledger.append(events);
      await work(ledger);
    } finally {
      await ledger.close();
    }
  }

  describe(`Ledger analytics conformance: ${backend}`, () => {
    it('pareto: top groups by cost with cumulative share, the rest summed', () =>
      withLedger(
        [
          call({ customer: 'a', cost: 600n }),
          call({ customer: 'b', cost: 200n }),
          call({ customer: 'b', cost: 100n }),
          call({ customer: 'c', cost: 60n }),
          call({ customer: 'd', cost: 40n }),
          call({ cost: undefined }),
        ],
        async (ledger) => {
          const report = await ledger.pareto({ by: 'customer', top: 2 });
          assert.equal(report.totalCost, 1000n);
          assert.equal(report.groups, 5);
          assert.deepEqual(report.rows, [
            { key: 'a', requests: 1, cost: 600n, share: 0.6, cumulativeShare: 0.6 },
            { key: 'b', requests: 2, cost: 300n, share: 0.3, cumulativeShare: 0.9 },
          ]);
          assert.deepEqual(report.rest, { groups: 3, cost: 100n, requests: 3 });
          const empty = await ledger.pareto({ by: 'customer', filter: { feature: 'none' } });
          assert.deepEqual(empty, { totalCost: 0n, groups: 0, rows: [], rest: { groups: 0, cost: 0n, requests: 0 } });
        },
      ));

    it('growth: this period against the one before, ranked by dollar growth', () => {
      const now = WEEK_START + 14 * DAY;
      return withLedger(
        [
          call({ feature: 'search', time: now - 10 * DAY, cost: 100n }),
          call({ feature: 'search', time: now - 1 * DAY, cost: 500n }),
          call({ feature: 'chat', time: now - 8 * DAY, cost: 400n }),
          call({ feature: 'chat', time: now - 2 * DAY, cost: 100n }),
          call({ feature: 'new', time: now - HOUR, cost: 50n }),
          call({ feature: 'old', time: now - 20 * DAY, cost: 999n }),
          call({ feature: 'future', time: now, cost: 999n }),
        ],
        async (ledger) => {
          const rows = await ledger.growth({ by: 'feature', to: now });
          assert.deepEqual(
            rows.map(({ key, currentCost, previousCost, change, changeRatio, currentRequests, previousRequests }) => [
              key,
              currentCost,
              previousCost,
              change,
              changeRatio,
              currentRequests,
              previousRequests,
            ]),
            [
              ['search', 500n, 100n, 400n, 4, 1, 1],
              ['new', 50n, 0n, 50n, null, 1, 0],
              ['chat', 100n, 400n, -300n, -0.75, 1, 1],
            ],
          );
          const daily = await ledger.growth({ by: 'feature', to: now, periodMs: DAY, feature: 'new' });
          assert.deepEqual(
            daily.map(({ key, change }) => [key, change]),
            [['new', 50n]],
          );
        },
      );
    });

    it('costPercentiles: exact discrete percentiles of priced requests, overall and per group', () =>
      withLedger(
        [
          ...Array.from({ length: 100 }, (_, index) => call({ feature: 'bulk', cost: BigInt(index + 1) })),
          call({ feature: 'single', cost: 7_000n }),
          call({ feature: 'single', cost: undefined }),
        ],
        async (ledger) => {
          const [single, bulk] = await ledger.costPercentiles({ by: 'feature' }); // by total cost: 7,000 then 5,050
          assert.deepEqual(single, { key: 'single', requests: 1, mean: 7_000n, p50: 7_000n, p90: 7_000n, p95: 7_000n, p99: 7_000n, max: 7_000n });
          assert.equal(bulk?.key, 'bulk');
          assert.equal(bulk?.requests, 100);
          assert.equal(bulk?.p50, 50n);
          assert.equal(bulk?.p90, 90n);
          assert.equal(bulk?.p99, 99n);
          assert.equal(bulk?.max, 100n);
          assert.equal(bulk?.mean, 50n, 'integer mean, rounded down');
          const [overall] = await ledger.costPercentiles({});
          assert.equal(overall?.key, null);
          assert.equal(overall?.requests, 101);
          assert.equal(overall?.max, 7_000n);
          assert.deepEqual(await ledger.costPercentiles({ filter: { feature: 'none' } }), []);
        },
      ));

    it('tokenRatios: input over output and cache hit rate per group', () =>
      withLedger(
        [
          call({ feature: 'rag', usage: { input: { total: 9000, cacheRead: 6000 }, output: { total: 100 } } }),
          call({ feature: 'rag', usage: { input: { total: 3000, cacheRead: 0 }, output: { total: 200 } } }),
          call({ feature: 'writer', usage: { input: { total: 100 }, output: { total: 1000 } }, cost: 1n }),
          call({ feature: 'silent', usage: { input: { total: 10 }, output: {} }, cost: 1n }),
        ],
        async (ledger) => {
          const rows = await ledger.tokenRatios({ by: 'feature' });
          const rag = rows.find((row) => row.key === 'rag');
          assert.deepEqual(rag && { ...rag, cost: undefined }, {
            key: 'rag',
            requests: 2,
            inputTokens: 12_000,
            outputTokens: 300,
            inputOutputRatio: 40,
            meanInputTokens: 6000,
            meanOutputTokens: 150,
            cacheHitRate: 0.5,
            cost: undefined,
          });
          assert.equal(rows.find((row) => row.key === 'writer')?.inputOutputRatio, 0.1);
          assert.equal(rows.find((row) => row.key === 'silent')?.inputOutputRatio, null);
        },
      ));

    it('savings: per lever and group, measured apart from estimated, exact beyond 64 bits', () => {
      const big = 2n ** 62n;
      return withLedger(
        [
          call({
            feature: 'chat',
            customer: 'acme',
            levers: [
              { lever: 'prompt_cache', saving: 900n, estimated: false, detail: { ttl: '5m' } },
              { lever: 'output_policy', saving: 50n, estimated: true },
            ],
          }),
          call({ feature: 'chat', customer: 'globex', levers: [{ lever: 'prompt_cache', saving: -125n, estimated: false }] }),
          call({ feature: 'search', customer: 'acme', levers: [{ lever: 'response_cache', saving: big, estimated: false }] }),
          call({ feature: 'search', customer: 'acme', levers: [{ lever: 'response_cache', saving: big, estimated: false }] }),
          call({ feature: 'search', customer: 'acme', levers: [{ lever: 'response_cache', saving: big, estimated: true }] }),
          call({ feature: 'search', customer: 'acme' }),
          call({ feature: 'search', customer: 'acme', levers: [] }),
        ],
        async (ledger) => {
          const overall = await ledger.savings({});
          assert.deepEqual(overall, [
            { lever: 'response_cache', key: null, requests: 3, measured: 2n * big, estimated: big, measuredRequests: 2, estimatedRequests: 1 },
            { lever: 'prompt_cache', key: null, requests: 2, measured: 775n, estimated: 0n, measuredRequests: 2, estimatedRequests: 0 },
            { lever: 'output_policy', key: null, requests: 1, measured: 0n, estimated: 50n, measuredRequests: 0, estimatedRequests: 1 },
          ]);
          const byCustomer = await ledger.savings({ by: 'customer', filter: { feature: 'chat' } });
          assert.deepEqual(
            byCustomer.map(({ lever, key, measured, estimated }) => [lever, key, measured, estimated]),
            [
              ['prompt_cache', 'acme', 900n, 0n],
              ['prompt_cache', 'globex', -125n, 0n],
              ['output_policy', 'acme', 0n, 50n],
            ],
          );
        },
      );
    });

    it('hourlySeries: per series and UTC hour, tokens, priced cost, dominant model and errors', () =>
      withLedger(
        [
          call({ feature: 'chat', time: WEEK_START + 10 * 60_000, cost: 10n, servedModel: 'model-a', usage: { input: { total: 100, cacheRead: 40, cacheWrite5m: 5 }, output: { total: 7 } } }),
          call({ feature: 'chat', time: WEEK_START + 50 * 60_000, cost: undefined, servedModel: 'model-a', usage: { input: { total: 50 }, output: { total: 3 } } }),
          call({ feature: 'chat', time: WEEK_START + 55 * 60_000, cost: 0n, servedModel: 'model-b', status: 500, usage: { input: {}, output: {} } }),
          call({ feature: 'chat', time: WEEK_START + 2 * HOUR, cost: 30n, servedModel: 'model-b' }),
          call({ feature: 'search', time: WEEK_START, cost: 5n }),
        ],
        async (ledger) => {
          const points = await ledger.hourlySeries({ dimension: 'feature' });
          assert.deepEqual(
            points.map(({ key, hour, requests, pricedRequests, cost, errors }) => [key, hour, requests, pricedRequests, cost, errors]),
            [
              ['chat', WEEK_START, 3, 2, 10n, 1],
              ['chat', WEEK_START + 2 * HOUR, 1, 1, 30n, 0],
              ['search', WEEK_START, 1, 1, 5n, 0],
            ],
          );
          const first = points[0];
          assert.deepEqual(
            first && [first.inputTokens, first.outputTokens, first.cacheReadTokens, first.cacheWriteTokens, first.topModel],
            [150, 10, 40, 5, 'model-a'],
          );
          const total = await ledger.hourlySeries({ dimension: 'total', from: WEEK_START + HOUR });
          assert.deepEqual(
            total.map(({ key, hour, requests }) => [key, hour, requests]),
            [['all', WEEK_START + 2 * HOUR, 1]],
          );
        },
      ));

    it('modelProfile: hourly tokens for one model (also behind a region prefix), empty hours as zeros', () =>
      withLedger(
        [
          call({ provider: 'bedrock', servedModel: 'anthropic.claude-x-v1:0', time: WEEK_START + 5 * 60_000, usage: { input: { total: 1000 }, output: { total: 100 } } }),
          call({ provider: 'bedrock', servedModel: 'us.anthropic.claude-x-v1:0', time: WEEK_START + 2 * HOUR, usage: { input: { total: 3000 }, output: { total: 300 } } }),
          call({ provider: 'bedrock', servedModel: 'anthropic.claude-other-v1:0', time: WEEK_START + HOUR, usage: { input: { total: 7 }, output: { total: 7 } } }),
        ],
        async (ledger) => {
          const profile = await ledger.modelProfile({ model: 'anthropic.claude-x-v1:0' });
          assert.equal(profile.from, WEEK_START);
          assert.equal(profile.to, WEEK_START + 3 * HOUR);
          assert.deepEqual(
            profile.hours.map(({ hour, inputTokens, outputTokens, requests }) => [hour - WEEK_START, inputTokens, outputTokens, requests]),
            [
              [0, 1000, 100, 1],
              [HOUR, 0, 0, 0],
              [2 * HOUR, 3000, 300, 1],
            ],
          );
          const ranged = await ledger.modelProfile({ model: 'anthropic.claude-x-v1:0', from: WEEK_START - HOUR, to: WEEK_START + HOUR });
          assert.deepEqual(
            ranged.hours.map(({ inputTokens }) => inputTokens),
            [0, 1000],
          );
        },
      ));

    it('exportRows: writes CSV (and Parquet) with exact USD beside picodollars', () => {
      const folder = mkdtempSync(join(tmpdir(), 'costgate-export-'));
      return withLedger(
        [
          call({ feature: 'x, "quoted"', cost: 123_456_789_012_345n, baselineCost: 223_456_789_012_345n, time: WEEK_START }),
          call({ feature: 'y', cost: undefined, time: WEEK_START + HOUR }),
          call({ feature: 'z', time: WEEK_START + 5 * DAY }),
        ],
        async (ledger) => {
          try {
            const csv = join(folder, "it's.csv");
            assert.equal(await ledger.exportRows({ format: 'csv', path: csv, to: WEEK_START + DAY }), 2);
            const [header, first, second] = readFileSync(csv, 'utf8').trim().split('\n');
            const columns = header?.split(',') ?? [];
            const cells = first?.match(/("([^"]|"")*"|[^,]*)(,|$)/g)?.map((cell) => cell.replace(/,$/, '')) ?? [];
            const field = (name: string) => cells[columns.indexOf(name)];
            assert.equal(field('feature'), '"x, ""quoted"""');
            assert.equal(field('cost_picousd'), '123456789012345');
            assert.equal(field('cost_usd'), '123.456789012345');
            assert.equal(field('baseline_cost_usd'), '223.456789012345');
            assert.ok(second?.includes(',y,'));
            const parquet = join(folder, 'ledger.parquet');
            assert.equal(await ledger.exportRows({ format: 'parquet', path: parquet }), 3);
            assert.equal(readFileSync(parquet).subarray(0, 4).toString(), 'PAR1');
          } finally {
            rmSync(folder, { recursive: true, force: true });
          }
        },
      );
    });
  });
}
