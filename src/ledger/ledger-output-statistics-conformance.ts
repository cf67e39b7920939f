import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UsageEvent } from '../core/usage-event.ts';
import type { Ledger } from './ledger.ts';
import { usageEvent } from './testing/usage-event-fixtures.ts';

/** Ledger.outputStatistics, for every backend: the numbers `costgate audit output` prints. */
export function describeOutputStatisticsConformance(backend: string, createLedger: () => Promise<Ledger>): void {
  async function withLedger(work: (ledger: Ledger) => Promise<void>): Promise<void> {
    const ledger = await createLedger();
    try {
      await work(ledger);
    } finally {
      await ledger.close();
    }
  }

  /** Answers of 1..100 tokens (plus the given reasoning) for one feature. */
  function answers(feature: string, extra: Partial<UsageEvent> = {}, reasoning = 0): UsageEvent[] {
    return Array.from({ length: 100 }, (_, index) =>
      usageEvent({
        attribution: { feature, tags: {} },
        usage: { input: { total: 1000 }, output: { total: index + 1 + reasoning, text: index + 1, ...(reasoning ? { reasoning } : {}) } },
        ...extra,
      }),
    );
  }

  describe(`Ledger output statistics conformance: ${backend}`, () => {
    it('takes answer and reasoning percentiles per feature and model, in the database', () =>
      withLedger(async (ledger) => {
        await ledger.append([...answers('classify', { maxTokensRequested: 4096, maxTokensSent: 4096 }, 50), ...answers('chat')]);
        const rows = await ledger.outputStatistics();
        const classify = rows.find((row) => row.feature === 'classify');
        const chat = rows.find((row) => row.feature === 'chat');
        assert.ok(classify && chat);
        assert.equal(classify.requests, 100);
        assert.deepEqual(classify.visible, { p50: 50, p95: 95, p99: 99, max: 100 });
        assert.deepEqual(classify.reasoning, { p50: 50, p95: 50, p99: 50, max: 50 });
        assert.equal(classify.reasoningTokens, 5000);
        assert.equal(classify.reasoningReported, 100);
        assert.equal(classify.inputTokens, 100_000);
        assert.equal(classify.outputTokens, 5050 + 5000);
        assert.deepEqual(classify.maxTokensRequested, { p50: 4096, max: 4096 });
        assert.equal(classify.maxTokensUnset, 0);
        assert.equal(chat.reasoning, null);
        assert.equal(chat.maxTokensRequested, null);
        assert.equal(chat.maxTokensUnset, 100);
        assert.equal(rows[0]?.feature, 'classify', 'most output first');
      }));

    it('simulates a learned cap: percentile x headroom, a floor, and the tokens it would cut', () =>
      withLedger(async (ledger) => {
        const runaway = usageEvent({ attribution: { feature: 'extract', tags: {} }, usage: { input: { total: 10 }, output: { total: 5000 } } });
        await ledger.append([...answers('extract'), runaway]);
        const [row] = await ledger.outputStatistics({ percentile: 0.5, headroom: 1.5, floor: 10 });
        assert.ok(row);
        // Median of 1..100 and 5000 is 51; 51 x 1.5 = 76.5 -> 77.
        assert.equal(row.learnedCap, 77);
        assert.equal(row.callsAboveLearnedCap, 24);
        const cut = Array.from({ length: 23 }, (_, index) => index + 78 - 77).reduce((sum, value) => sum + value, 0) + (5000 - 77);
        assert.equal(row.tokensAboveLearnedCap, cut);
        const [floored] = await ledger.outputStatistics({ percentile: 0.5, headroom: 1, floor: 1000 });
        assert.equal(floored?.learnedCap, 1000);
        await assert.rejects(ledger.outputStatistics({ percentile: 1.5 }), RangeError);
      }));

    it('counts truncations, policy savings and guard raises; leaves out errors and embeddings', () =>
      withLedger(async (ledger) => {
        const feature = { feature: 'summarize', tags: {} };
        await ledger.append([
          usageEvent({ attribution: feature, stopReason: 'length' }),
          usageEvent({ attribution: feature, stopReason: 'max_tokens' }),
          usageEvent({ attribution: feature, stopReason: 'max_output_tokens' }),
          usageEvent({
            attribution: feature,
            stopReason: 'stop',
            levers: [
              { lever: 'output_policy', saving: 700n, estimated: true, detail: { truncationGuard: { share: 0.02 } } },
              { lever: 'prompt_cache', saving: 5n, estimated: false },
            ],
          }),
          usageEvent({ attribution: feature, levers: [{ lever: 'output_policy', saving: 300n, estimated: false, detail: {} }] }),
          usageEvent({ attribution: feature, status: 500, usage: { input: {}, output: {} }, stopReason: undefined }),
          usageEvent({ attribution: feature, endpoint: 'embeddings', servedModel: 'text-embedding-3-small', usage: { input: { total: 9 }, output: { total: 0 } } }),
        ]);
        const [row] = await ledger.outputStatistics({ filter: { feature: 'summarize' } });
        assert.ok(row);
        assert.equal(row.requests, 5);
        assert.equal(row.truncated, 3);
        assert.equal(row.outputPolicyCalls, 2);
        assert.equal(row.outputPolicySaving, 1000n);
        assert.equal(row.guardRaises, 1);
        assert.deepEqual(await ledger.outputStatistics({ filter: { feature: 'nothing' } }), []);
      }));
  });
}
