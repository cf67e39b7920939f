import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bareUsageEvent, fullUsageEvent, usageEvent } from '../testing/usage-event-fixtures.ts';
import { usageEventFromJson, usageEventToJson, usageEventToJsonLoosely } from './usage-event-json.ts';

describe('spool line encoding', () => {
  it('round-trips every field, bigint costs exact, undefined kept apart from 0', () => {
    const events = [
      fullUsageEvent({ cost: 2n ** 63n - 1n, baselineCost: -(2n ** 63n) }),
      bareUsageEvent(),
      usageEvent({ usage: { input: { total: 0, cacheRead: 0 }, output: { total: 0 }, raw: null }, cost: 0n }),
    ];
    for (const event of events) assert.deepEqual(usageEventFromJson(usageEventToJson(event)), event);
  });

  it('writes costs as decimal strings on one line', () => {
    const line = usageEventToJson(usageEvent({ cost: 12_345_678_901_234_567_890n }));
    assert.match(line, /"cost":"12345678901234567890"/);
    assert.doesNotMatch(line, /\n/);
  });

  it('rejects lines that are not events', () => {
    assert.throws(() => usageEventFromJson('{"requestId":1}'), /requestId is not a string/);
    assert.throws(() => usageEventFromJson(usageEventToJson(usageEvent()).replace('"cost":"27000000"', '"cost":27.5')), /cost is not an integer string/);
    assert.throws(() => usageEventFromJson('[]'), /not an object/);
  });

  it('the loose encoder survives a raw usage that cannot be serialized', () => {
    const raw: Record<string, unknown> = {};
    raw['self'] = raw;
    const event = usageEvent({ usage: { input: {}, output: {}, raw } });
    assert.throws(() => usageEventToJson(event));
    assert.match(usageEventToJsonLoosely(event), /"unserializable"/);
  });
});
