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

test('the client credential is recorded only as a 12-hex-digit SHA-256 prefix', async () => {
  const { apiKeyId } = await import('./attribution-stage.ts');
  const { createHash } = await import('node:crypto');
  const hash = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 12);
  assert.equal(apiKeyId({ authorization: 'Bearer sk-proj-abc123' }), hash('sk-proj-abc123'));
  assert.equal(apiKeyId({ 'x-api-key': 'sk-ant-xyz', authorization: 'Bearer other' }), hash('sk-ant-xyz'));
  // SigV4: only the access key id is stable across requests; the signature must not split the series.
  const signed = (signature: string) => `AWS4-HMAC-SHA256 Credential=AKIDCLIENT/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`;
  assert.equal(apiKeyId({ authorization: signed('aaaa') }), hash('AKIDCLIENT'));
  assert.equal(apiKeyId({ authorization: signed('bbbb') }), hash('AKIDCLIENT'));
  assert.equal(apiKeyId({}), undefined);

  const context = contextWith({ authorization: 'Bearer sk-secret-value' }, {});
  await createAttributionStage().run(context, async () => {});
  assert.equal(context.attribution.apiKeyId, hash('sk-secret-value'));
  assert.ok(!JSON.stringify(context.attribution).includes('sk-secret-value'));
});
