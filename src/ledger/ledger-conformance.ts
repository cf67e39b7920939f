import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UsageEvent } from '../core/usage-event.ts';
import { InvalidUsageEventError, type GroupBy, type Ledger, type ReportRow } from './ledger.ts';
import { bareUsageEvent, fullUsageEvent, usageEvent } from './testing/usage-event-fixtures.ts';

/**
 * The behaviour every Ledger backend must have. A backend's test file calls this with a
 * factory that returns a fresh, empty ledger each time; the suite closes what it opens.
 */
export function describeLedgerConformance(backend: string, createLedger: () => Promise<Ledger>): void {
  async function withLedger(work: (ledger: Ledger) => Promise<void>): Promise<void> {
    const ledger = await createLedger();
    try {
      await work(ledger);
    } finally {
      await ledger.close();
    }
  }

  describe(`Ledger conformance: ${backend}`, () => {
    describe('round trip', () => {
      it('keeps every field, including optional lever columns and raw usage', () =>
        withLedger(async (ledger) => {
          const event = fullUsageEvent();
          await ledger.append([event]);
          assert.deepEqual(await ledger.get([event.requestId]), [event]);
        }));

      it('keeps unreported usage undefined and reported zeros as 0', () =>
        withLedger(async (ledger) => {
          const bare = bareUsageEvent();
          const zeros = usageEvent({
            usage: {
              input: { total: 0, noCache: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 },
              output: { total: 0, text: 0, reasoning: 0 },
              raw: null,
            },
            cost: 0n,
            baselineCost: 0n,
            ttfbMs: 0,
          });
          await ledger.append([bare, zeros]);
          const [storedBare, storedZeros] = await ledger.get([bare.requestId, zeros.requestId]);
          assert.deepEqual(storedBare, bare);
          assert.deepEqual(storedZeros, zeros);
          assert.equal(storedBare?.cost, undefined, 'unpriced stays unpriced, never 0');
          assert.equal('raw' in (storedBare?.usage ?? {}), false);
          assert.equal(storedZeros?.usage.raw, null);
        }));

      it('returns rows in the order asked, once each, leaving out unknown ids', () =>
        withLedger(async (ledger) => {
          const first = usageEvent();
          const second = usageEvent();
          await ledger.append([first, second]);
          const found = await ledger.get([second.requestId, 'no-such-request', first.requestId, second.requestId]);
          assert.deepEqual(
            found.map(({ requestId }) => requestId),
            [second.requestId, first.requestId],
          );
          assert.deepEqual(await ledger.get([]), []);
        }));

      it('keeps large picodollar amounts exact, in rows and in sums beyond 64 bits', () =>
        withLedger(async (ledger) => {
          const largest = 2n ** 63n - 1n;
          const notAFloat = 2n ** 53n + 1n;
          const events = [
            usageEvent({ attribution: { feature: 'big', tags: {} }, cost: largest, baselineCost: largest }),
            usageEvent({ attribution: { feature: 'big', tags: {} }, cost: largest, baselineCost: largest }),
            usageEvent({ attribution: { feature: 'odd', tags: {} }, cost: notAFloat, baselineCost: notAFloat + 2n }),
          ];
          await ledger.append(events);
          const stored = await ledger.get(events.map(({ requestId }) => requestId));
          assert.deepEqual(
            stored.map(({ cost }) => cost),
            [largest, largest, notAFloat],
          );
          const rows = await ledger.report({ by: 'feature' });
          assert.deepEqual(
            rows.map(({ key, cost, baselineCost }) => ({ key, cost, baselineCost })),
            [
              { key: 'big', cost: 2n * largest, baselineCost: 2n * largest },
              { key: 'odd', cost: notAFloat, baselineCost: notAFloat + 2n },
            ],
          );
        }));

      it('rejects an event it cannot store exactly, storing nothing of that batch', () =>
        withLedger(async (ledger) => {
          const good = usageEvent();
          const tooBig = usageEvent({ cost: 2n ** 63n });
          const fractional = usageEvent({ usage: { input: { total: 1.5 }, output: {} } });
          await assert.rejects(ledger.append([good, tooBig, fractional]), (error: unknown) => {
            assert.ok(error instanceof InvalidUsageEventError);
            assert.deepEqual(error.requestIds.sort(), [tooBig.requestId, fractional.requestId].sort());
            return true;
          });
          assert.equal(await ledger.count(), 0);
        }));
    });

    describe('append', () => {
      it('is idempotent on requestId, across calls and within one call', () =>
        withLedger(async (ledger) => {
          const event = usageEvent({ cost: 10n });
          await ledger.append([event]);
          await ledger.append([event, { ...event, cost: 99n }]);
          await ledger.append([{ ...event, cost: 77n }]);
          const twin = usageEvent({ cost: 5n });
          await ledger.append([twin, { ...twin, cost: 6n }, usageEvent()]);
          assert.equal(await ledger.count(), 3);
          assert.deepEqual(
            (await ledger.get([event.requestId, twin.requestId])).map(({ cost }) => cost),
            [10n, 5n],
            'the first stored version wins',
          );
        }));

      it('accepts an empty batch', () =>
        withLedger(async (ledger) => {
          await ledger.append([]);
          assert.equal(await ledger.count(), 0);
          assert.deepEqual(await ledger.report({ by: 'feature' }), []);
          assert.deepEqual(await ledger.unpricedModels(), []);
        }));

      it('stores a batch of thousands in one call', () =>
        withLedger(async (ledger) => {
          const events = Array.from({ length: 3000 }, (_, index) => usageEvent({ cost: BigInt(index) }));
          await ledger.append(events);
          assert.equal(await ledger.count(), 3000);
          const [row] = await ledger.report({ by: 'provider' });
          assert.equal(row?.cost, BigInt((2999 * 3000) / 2));
        }));
    });

    describe('report', () => {
      it('groups by each dimension, sorted by cost, unattributed as null', () =>
        withLedger(async (ledger) => {
          await ledger.append(reportDataset());
          const expected: Record<GroupBy, Array<[string | null, number, bigint, number]>> = {
            feature: [['chat', 2, 9_000_000n, 1], ['search', 2, 7_000_000n, 0], [null, 1, 0n, 1]],
            customer: [['acme', 2, 14_000_000n, 0], ['globex', 2, 2_000_000n, 1], [null, 1, 0n, 1]],
            user: [['user-1', 2, 14_000_000n, 0], ['user-2', 1, 2_000_000n, 0], ['user-3', 1, 0n, 1], [null, 1, 0n, 1]],
            model: [
              ['claude-sonnet-4-5', 1, 9_000_000n, 0],
              ['gpt-4o-2024-08-06', 1, 5_000_000n, 0],
              ['gpt-4o', 1, 2_000_000n, 0],
              ['mystery-model', 1, 0n, 1],
              [null, 1, 0n, 1],
            ],
            provider: [['anthropic', 2, 9_000_000n, 1], ['openai', 2, 7_000_000n, 0], ['bedrock', 1, 0n, 1]],
            day: [['2026-12-05', 2, 9_000_000n, 1], ['2026-12-04', 2, 7_000_000n, 0], ['2026-12-06', 1, 0n, 1]],
            hour: [
              ['2026-12-05T10:00Z', 1, 9_000_000n, 0],
              ['2026-12-04T10:00Z', 1, 5_000_000n, 0],
              ['2026-12-04T11:00Z', 1, 2_000_000n, 0],
              ['2026-12-05T12:00Z', 1, 0n, 1],
              ['2026-12-06T10:00Z', 1, 0n, 1],
            ],
            // Calls without a recognised credential (no apiKeyId) group as null, like any unattributed call.
            api_key: [['a1b2c3d4e5f6', 2, 14_000_000n, 0], ['0f1e2d3c4b5a', 1, 2_000_000n, 0], [null, 2, 0n, 2]],
          };
          for (const [by, rows] of Object.entries(expected) as Array<[GroupBy, typeof expected.feature]>) {
            assert.deepEqual(summarize(await ledger.report({ by })), rows, `by ${by}`);
          }
        }));

      it('sums tokens per group: input total, cache reads, both cache writes, output', () =>
        withLedger(async (ledger) => {
          await ledger.append(reportDataset());
          const rows = await ledger.report({ by: 'feature' });
          const tokens = rows.map(({ key, inputTokens, cacheReadTokens, cacheWriteTokens, outputTokens }) => ({
            key,
            inputTokens,
            cacheReadTokens,
            cacheWriteTokens,
            outputTokens,
          }));
          assert.deepEqual(tokens, [
            { key: 'chat', inputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 150, outputTokens: 30 },
            { key: 'search', inputTokens: 1500, cacheReadTokens: 200, cacheWriteTokens: 0, outputTokens: 150 },
            { key: null, inputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 10 },
          ]);
        }));

      it('counts unpriced rows apart and sums baseline over priced rows only', () =>
        withLedger(async (ledger) => {
          const feature = { feature: 'mixed', tags: {} };
          await ledger.append([
            usageEvent({ attribution: feature, cost: 100n, baselineCost: 250n }),
            usageEvent({ attribution: feature, cost: 40n, baselineCost: undefined }),
            usageEvent({ attribution: feature, cost: 0n, baselineCost: 0n }),
            usageEvent({ attribution: feature, cost: undefined, baselineCost: 1_000n }),
            usageEvent({ attribution: feature, cost: undefined, baselineCost: undefined }),
            usageEvent({ attribution: { feature: 'unknown-only', tags: {} }, cost: undefined, baselineCost: undefined }),
          ]);
          const rows = await ledger.report({ by: 'feature' });
          assert.deepEqual(
            rows.map(({ key, requests, cost, baselineCost, unpricedRequests }) => ({ key, requests, cost, baselineCost, unpricedRequests })),
            [
              { key: 'mixed', requests: 5, cost: 140n, baselineCost: 290n, unpricedRequests: 2 },
              { key: 'unknown-only', requests: 1, cost: 0n, baselineCost: 0n, unpricedRequests: 1 },
            ],
          );
        }));

      it('sums prompt-cache write premiums and read savings per group', () =>
        withLedger(async (ledger) => {
          const feature = { feature: 'cached', tags: {} };
          await ledger.append([
            usageEvent({ attribution: feature, cost: 10n, cacheWritePremium: 700n, cacheReadSaving: 0n }),
            usageEvent({ attribution: feature, cost: 10n, cacheWritePremium: 0n, cacheReadSaving: 2_700n }),
            usageEvent({ attribution: feature, cost: undefined }),
          ]);
          const [row] = await ledger.report({ by: 'feature' });
          assert.equal(row?.cacheWritePremium, 700n);
          assert.equal(row?.cacheReadSavings, 2_700n);
        }));

      it('keeps from inclusive and to exclusive', () =>
        withLedger(async (ledger) => {
          await ledger.append(reportDataset());
          const rows = await ledger.report({ by: 'provider', from: T0 + HOUR, to: T0 + DAY + 2 * HOUR });
          assert.deepEqual(summarize(rows), [['anthropic', 1, 9_000_000n, 0], ['openai', 1, 2_000_000n, 0]]);
          assert.deepEqual(summarize(await ledger.report({ by: 'day', from: T0 + 2 * DAY })), [['2026-12-06', 1, 0n, 1]]);
          assert.deepEqual(summarize(await ledger.report({ by: 'day', to: T0 })), []);
        }));

      it('limits to the top N by cost', () =>
        withLedger(async (ledger) => {
          await ledger.append(reportDataset());
          const rows = await ledger.report({ by: 'model', top: 2 });
          assert.deepEqual(
            rows.map(({ key }) => key),
            ['claude-sonnet-4-5', 'gpt-4o-2024-08-06'],
          );
          await assert.rejects(ledger.report({ by: 'model', top: 0 }), RangeError);
        }));

      it('filters by feature, customer, provider and model (served, else requested)', () =>
        withLedger(async (ledger) => {
          await ledger.append(reportDataset());
          const report = async (filter: NonNullable<Parameters<Ledger['report']>[0]['filter']>, by: GroupBy) =>
            summarize(await ledger.report({ by, filter }));
          assert.deepEqual(await report({ feature: 'search' }, 'customer'), [['acme', 1, 5_000_000n, 0], ['globex', 1, 2_000_000n, 0]]);
          assert.deepEqual(await report({ customer: 'acme' }, 'day'), [['2026-12-05', 1, 9_000_000n, 0], ['2026-12-04', 1, 5_000_000n, 0]]);
          assert.deepEqual(await report({ provider: 'anthropic' }, 'feature'), [['chat', 2, 9_000_000n, 1]]);
          assert.deepEqual(await report({ model: 'gpt-4o' }, 'feature'), [['search', 1, 2_000_000n, 0]]);
          assert.deepEqual(await report({ feature: 'search', customer: 'globex', provider: 'openai' }, 'user'), [['user-2', 1, 2_000_000n, 0]]);
          assert.deepEqual(await report({ feature: 'no-such-feature' }, 'model'), []);
        }));
    });

    describe('unpricedModels', () => {
      it('lists models with unknown cost and their request counts, most first', () =>
        withLedger(async (ledger) => {
          await ledger.append([
            usageEvent({ provider: 'bedrock', servedModel: 'mystery-model', cost: undefined, time: T0 }),
            usageEvent({ provider: 'bedrock', servedModel: 'mystery-model', cost: undefined, time: T0 + DAY }),
            usageEvent({ provider: 'openai', requestedModel: 'gpt-new', servedModel: undefined, cost: undefined, time: T0 + DAY }),
            usageEvent({ provider: 'anthropic', requestedModel: undefined, servedModel: undefined, cost: undefined, time: T0 + DAY }),
            usageEvent({ provider: 'openai', servedModel: 'priced-at-zero', cost: 0n, time: T0 }),
            usageEvent({ provider: 'openai', servedModel: 'priced', cost: 10n, time: T0 }),
          ]);
          assert.deepEqual(await ledger.unpricedModels(), [
            { provider: 'bedrock', model: 'mystery-model', requests: 2 },
            { provider: 'anthropic', model: '', requests: 1 },
            { provider: 'openai', model: 'gpt-new', requests: 1 },
          ]);
          assert.deepEqual(await ledger.unpricedModels({ to: T0 + DAY }), [{ provider: 'bedrock', model: 'mystery-model', requests: 1 }]);
          assert.deepEqual(await ledger.unpricedModels({ from: T0 + DAY, to: T0 + DAY + 1 }), [
            { provider: 'anthropic', model: '', requests: 1 },
            { provider: 'bedrock', model: 'mystery-model', requests: 1 },
            { provider: 'openai', model: 'gpt-new', requests: 1 },
          ]);
        }));
    });

    it('rejects operations after close', async () => {
      const ledger = await createLedger();
      await ledger.close();
      await assert.rejects(ledger.append([usageEvent()]));
    });
  });
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-12-04T10:15Z */
const T0 = Date.UTC(2026, 11, 4, 10, 15);

/** Five calls across features, customers, users, models, providers, days and hours; two unpriced. */
function reportDataset(): UsageEvent[] {
  return [
    usageEvent({
      time: T0,
      provider: 'openai',
      requestedModel: 'gpt-4o',
      servedModel: 'gpt-4o-2024-08-06',
      attribution: { feature: 'search', customer: 'acme', user: 'user-1', apiKeyId: 'a1b2c3d4e5f6', tags: {} },
      usage: { input: { total: 1000, noCache: 800, cacheRead: 200 }, output: { total: 100 } },
      cost: 5_000_000n,
      baselineCost: 8_000_000n,
    }),
    usageEvent({
      time: T0 + HOUR,
      provider: 'openai',
      requestedModel: 'gpt-4o',
      servedModel: undefined,
      attribution: { feature: 'search', customer: 'globex', user: 'user-2', apiKeyId: '0f1e2d3c4b5a', tags: {} },
      usage: { input: { total: 500 }, output: { total: 50 } },
      cost: 2_000_000n,
      baselineCost: undefined,
    }),
    usageEvent({
      time: T0 + DAY,
      provider: 'anthropic',
      requestedModel: 'claude-sonnet-4-5',
      servedModel: 'claude-sonnet-4-5',
      attribution: { feature: 'chat', customer: 'acme', user: 'user-1', apiKeyId: 'a1b2c3d4e5f6', tags: {} },
      usage: { input: { total: 300, noCache: 150, cacheWrite5m: 100, cacheWrite1h: 50 }, output: { total: 30 } },
      cost: 9_000_000n,
      baselineCost: 9_000_000n,
    }),
    usageEvent({
      time: T0 + DAY + 2 * HOUR,
      provider: 'bedrock',
      requestedModel: 'mystery-model',
      servedModel: 'mystery-model',
      attribution: { tags: {} },
      usage: { input: { total: 100 }, output: { total: 10 } },
      cost: undefined,
      baselineCost: undefined,
    }),
    usageEvent({
      time: T0 + 2 * DAY,
      provider: 'anthropic',
      requestedModel: undefined,
      servedModel: undefined,
      attribution: { feature: 'chat', customer: 'globex', user: 'user-3', tags: {} },
      usage: { input: {}, output: {} },
      cost: undefined,
      baselineCost: undefined,
    }),
  ];
}

/** [key, requests, cost, unpricedRequests] per row, in order. */
function summarize(rows: readonly ReportRow[]): Array<[string | null, number, bigint, number]> {
  return rows.map(({ key, requests, cost, unpricedRequests }) => [key, requests, cost, unpricedRequests]);
}
