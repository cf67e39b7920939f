import assert from 'node:assert/strict';
import { test } from 'node:test';
import { breakEven, loadInUnits, syntheticProfile, type ModelUnitTerms } from './break-even.ts';

const terms: ModelUnitTerms = { oneMonthPerHour: 40, sixMonthPerHour: 20, inputTokensPerMinute: 100_000, outputTokensPerMinute: 10_000 };
const prices = { inputPerMTok: 3, outputPerMTok: 15 };

test('load in MUs adds the input and output shares of an MU-hour', () => {
  assert.equal(loadInUnits({ inputTokens: 3_000_000, outputTokens: 300_000 }, terms), 0.5 + 0.5);
});

test('a flat load above break-even is cheaper on MUs; the same tokens bunched into peaks are not', () => {
  // 12M input tokens every hour keep 2 MUs busy: $18/h per MU on demand, under a $20/h MU.
  const flat = syntheticProfile({ tokensPerHour: 12_000_000, outputShare: 0, peakToMean: 1 });
  const flatResult = breakEven(flat, prices, terms, 4);
  assert.ok(flatResult.best && flatResult.best.monthlyCost >= flatResult.onDemandMonthly);
  assert.match(flatResult.recommendation, /Stay on demand/);

  // At $10/h an MU-hour of tokens ($18 on demand) pays.
  const cheapTerms = { ...terms, sixMonthPerHour: 10 };
  const flatCheap = breakEven(flat, prices, cheapTerms, 4);
  assert.equal(flatCheap.best?.units, 2);
  assert.equal(flatCheap.best?.term, '6-month');
  assert.ok(Math.abs((flatCheap.best?.utilization ?? 0) - 1) < 0.01);
  assert.ok(flatCheap.best!.monthlyCost < flatCheap.onDemandMonthly);
  assert.equal(Math.round(flatCheap.breakEvenTokensPerHour['6-month']), Math.round(10 / 3e-6));

  const peaky = syntheticProfile({ tokensPerHour: 12_000_000, outputShare: 0, peakToMean: 6 });
  const peakyResult = breakEven(peaky, prices, cheapTerms, 12);
  assert.ok(peakyResult.peakLoad / peakyResult.meanLoad > 5.5);
  assert.ok(peakyResult.best!.monthlyCost > flatCheap.best!.monthlyCost, 'the same tokens cost more to provision when peaky');
  assert.ok(peakyResult.best!.utilization < flatCheap.best!.utilization);
});

test('the synthetic profile keeps the asked mean and output share', () => {
  const profile = syntheticProfile({ tokensPerHour: 1_000_000, outputShare: 0.2, peakToMean: 3 });
  const input = profile.reduce((sum, hour) => sum + hour.inputTokens, 0);
  const output = profile.reduce((sum, hour) => sum + hour.outputTokens, 0);
  assert.ok(Math.abs((input + output) / profile.length - 1_000_000) < 1000);
  assert.ok(Math.abs(output / (input + output) - 0.2) < 0.001);
  const totals = profile.map((hour) => hour.inputTokens + hour.outputTokens);
  assert.ok(Math.max(...totals) / 1_000_000 >= 3);
});

test('no traffic: nothing to provision', () => {
  assert.match(breakEven([], prices, terms).recommendation, /No traffic/);
});
