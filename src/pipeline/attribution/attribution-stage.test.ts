import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallContext } from '../context.ts';
import { createAttributionStage, parseTags } from './attribution-stage.ts';

function contextWith(headers: Record<string, string>, fromBody: Record<string, unknown>): CallContext {
  return {
    call: { headers },
    adapter: { bodyAttribution: () => fromBody },
    attribution: { tags: {} },
  } as unknown as CallContext;
}

test('headers win over body fields; body fields fill what headers leave out', async () => {
  const context = contextWith(
    { 'x-costgate-feature': 'search', 'x-costgate-tags': 'team=core, env=prod' },
    { feature: 'ignored', customer: 'acme', user: 'u1', tags: { env: 'dev', region: 'eu' } },
  );
  await createAttributionStage().run(context, async () => {});
  assert.deepEqual(context.attribution, { feature: 'search', customer: 'acme', user: 'u1', tags: { env: 'prod', region: 'eu', team: 'core' } });
});

test('tags parse as key=value pairs or JSON', () => {
  assert.deepEqual(parseTags('a=1,b = two=2'), { a: '1', b: 'two=2' });
  assert.deepEqual(parseTags('{"a": 1, "b": "x"}'), { a: '1', b: 'x' });
  assert.deepEqual(parseTags(undefined), {});
});
