import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UsageEvent } from '../../core/usage-event.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { CallContext } from '../context.ts';
import { createRecordUsageStage } from './record-usage-stage.ts';

const pricer = {
  cost: ({ usage }) => ({
    cost: BigInt(usage.input.total ?? 0) * 1000n,
    priceVersion: 'test',
    breakdown: { input: 0n, cacheRead: 0n, cacheWrite: 0n, output: 0n },
  }),
  describe: () => undefined,
} satisfies Pricer;

function context(overrides: Partial<CallContext>): CallContext {
  return {
    requestId: 'r1',
    receivedAt: 1_700_000_000_000,
    startedAt: performance.now(),
    call: { operation: { provider: 'openai', endpoint: 'chat.completions', upstreamPath: '/x', billable: true }, model: 'm', stream: false, headers: {}, body: {}, rawBody: undefined },
    sink: { started: false, status: undefined },
    attribution: { tags: {} },
    result: { status: 200, headers: {}, body: Buffer.alloc(0) },
    facts: { usage: { input: { total: 10 }, output: { total: 1 } }, servedModel: 'm', stopReason: 'stop', errorType: undefined },
    levers: [],
    ...overrides,
  } as unknown as CallContext;
}

async function record(call: CallContext): Promise<UsageEvent> {
  const events: UsageEvent[] = [];
  await createRecordUsageStage(pricer, { record: (event) => events.push(event) }).run(call, async () => {});
  assert.equal(events.length, 1);
  return events[0] as UsageEvent;
}

test('with no lever the baseline is the cost itself', async () => {
  const event = await record(context({}));
  assert.equal(event.cost, 10_000n);
  assert.equal(event.baselineCost, 10_000n);
  assert.equal(event.levers, undefined);
});

test('the baseline is the cost plus every lever\'s saving, premiums included', async () => {
  const event = await record(
    context({
      levers: [
        { lever: 'prompt_cache', saving: 5_000n, estimated: false },
        { lever: 'output_policy', saving: -200n, estimated: true },
      ],
    }),
  );
  assert.equal(event.baselineCost, 14_800n);
  assert.equal(event.levers?.length, 2);
});

test('a failed call without usage is a known zero, not unpriced; a non-billable route records nothing', async () => {
  const failed = await record(context({ result: { status: 503, headers: {}, body: Buffer.alloc(0) }, facts: { usage: undefined, servedModel: undefined, stopReason: undefined, errorType: 'overloaded' } }));
  assert.equal(failed.cost, 0n);
  assert.equal(failed.status, 503);
  const events: UsageEvent[] = [];
  const listing = context({});
  (listing.call.operation as { billable: boolean }).billable = false;
  await createRecordUsageStage(pricer, { record: (event) => events.push(event) }).run(listing, async () => {});
  assert.equal(events.length, 0);
});
