import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPricer } from '../../pricing/pricer.ts';
import type { ParsedCall } from '../../providers/provider.ts';
import { budgetChecks, dayPeriod, monthPeriod, toNanodollars } from './budget-periods.ts';
import { worstCaseCost } from './worst-case-cost.ts';

const pricer = createPricer({ overrides: [{ provider: 'openai', model: 'test-model', inputPerMTok: 1, outputPerMTok: 4 }] });

function chat(body: Record<string, unknown>): ParsedCall {
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    operation: { provider: 'openai', endpoint: 'chat.completions', upstreamPath: '/v1/chat/completions', billable: true },
    body,
    rawBody,
    model: String(body.model),
    stream: false,
    headers: {},
  };
}

test('the worst case: body bytes / 3 as uncached input plus the output cap, at the model price', () => {
  const call = chat({ model: 'test-model', max_completion_tokens: 500, messages: [{ role: 'user', content: 'x'.repeat(300) }] });
  const worst = worstCaseCost(call, pricer, new Date(), 16_384);
  const inputTokens = Math.ceil((call.rawBody?.length ?? 0) / 3);
  assert.equal(worst.inputTokens, inputTokens);
  assert.equal(worst.outputTokens, 500);
  // $1/MTok = 1,000,000 pUSD per token in; $4/MTok out.
  assert.equal(worst.cost, BigInt(inputTokens) * 1_000_000n + 500n * 4_000_000n);
});

test('no output cap: the configured maximum; an unknown model: no price', () => {
  assert.equal(worstCaseCost(chat({ model: 'test-model', messages: [] }), pricer, new Date(), 8_000).outputTokens, 8_000);
  assert.equal(worstCaseCost(chat({ model: 'no-such-model', messages: [] }), pricer, new Date(), 8_000).cost, undefined);
});

test('periods are UTC days and months; nanodollars round up', () => {
  const at = Date.UTC(2026, 11, 31, 23, 59, 59);
  assert.deepEqual(dayPeriod(at), { period: 'day:2026-12-31', start: Date.UTC(2026, 11, 31), end: Date.UTC(2027, 0, 1) });
  assert.deepEqual(monthPeriod(at), { period: 'month:2026-12', start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
  assert.equal(toNanodollars(1n), 1);
  assert.equal(toNanodollars(1000n), 1);
  assert.equal(toNanodollars(1001n), 2);
  assert.deepEqual(budgetChecks({}, at), []);
  assert.deepEqual(budgetChecks({ monthlyBudget: 5_000_000_000_000n }, at).map((check) => [check.period, check.limit]), [['month:2026-12', 5_000_000_000]]);
});
