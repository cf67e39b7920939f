import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Outcome } from '../core/outcome.ts';
import type { Ledger } from './ledger.ts';

/** Ledger.recordOutcomes / outcomes, for every backend: what feedback and shadow mode store. */
export function describeOutcomesConformance(backend: string, createLedger: () => Promise<Ledger>): void {
  async function withLedger(work: (ledger: Ledger) => Promise<void>): Promise<void> {
    const ledger = await createLedger();
    try {
      await work(ledger);
    } finally {
      await ledger.close();
    }
  }

  const base = Date.UTC(2026, 11, 1, 12);
  const feedback: Outcome = { requestId: 'r1', time: base, source: 'feedback', model: 'gpt-4o-mini', score: 0, feature: 'support', prompt: 'How do I reset my password?', detail: { thumbs: 'down', comment: 'wrong steps' } };
  const shadow: Outcome = { requestId: 'r2', time: base + 60_000, source: 'shadow', model: 'gpt-4o-mini', score: 0.75, feature: 'search', prompt: 'Summarise the refund policy', referenceModel: 'gpt-4o', detail: { method: 'judge' } };
  const { detail: _detail, ...feedbackWithoutDetail } = feedback;
  const noPrompt: Outcome = { requestId: 'r3', time: base + 120_000, source: 'feedback', model: undefined, score: 1, feature: undefined, prompt: undefined };

  describe(`Ledger outcomes conformance: ${backend}`, () => {
    it('round-trips every field, in recorded order, several per call allowed', () =>
      withLedger(async (ledger) => {
        await ledger.recordOutcomes([feedback, shadow]);
        await ledger.recordOutcomes([noPrompt, { ...feedbackWithoutDetail, time: base + 180_000, score: 0.5 }]);
        const stored = await ledger.outcomes();
        assert.equal(stored.length, 4);
        assert.deepEqual(stored[0], feedback);
        assert.deepEqual(stored[1], shadow);
        assert.deepEqual(stored[2], noPrompt);
        assert.equal(stored[3]?.requestId, 'r1');
        assert.equal(stored[3]?.score, 0.5);
        assert.equal(stored[3]?.detail, undefined);
      }));

    it('filters by time range, source, feature and prompt presence, and limits', () =>
      withLedger(async (ledger) => {
        await ledger.recordOutcomes([feedback, shadow, noPrompt]);
        assert.deepEqual((await ledger.outcomes({ source: 'shadow' })).map((outcome) => outcome.requestId), ['r2']);
        assert.deepEqual((await ledger.outcomes({ feature: 'support' })).map((outcome) => outcome.requestId), ['r1']);
        assert.deepEqual((await ledger.outcomes({ withPrompt: true })).map((outcome) => outcome.requestId), ['r1', 'r2']);
        assert.deepEqual((await ledger.outcomes({ from: base + 60_000, to: base + 120_000 })).map((outcome) => outcome.requestId), ['r2']);
        assert.deepEqual((await ledger.outcomes({ limit: 2 })).map((outcome) => outcome.requestId), ['r1', 'r2']);
      }));

    it('rejects an invalid outcome and stores none of the batch', () =>
      withLedger(async (ledger) => {
        await assert.rejects(ledger.recordOutcomes([feedback, { ...shadow, score: 1.5 }]), /score/);
        await assert.rejects(ledger.recordOutcomes([{ ...feedback, requestId: '' }]), /requestId/);
        assert.deepEqual(await ledger.outcomes(), []);
      }));
  });
}
