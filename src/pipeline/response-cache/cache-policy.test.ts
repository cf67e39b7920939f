import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../config/load-config.ts';
import { CachePolicies, cacheTenant, requestCacheControl } from './cache-policy.ts';

test('feature policies override the default field by field; all off means no stage', () => {
  const off = new CachePolicies(parseConfig({}).responseCache);
  assert.equal(off.anyEnabled, false);
  const policies = new CachePolicies(parseConfig({ responseCache: { default: { ttlSeconds: 60 }, features: { faq: { exact: 'on' } } } }).responseCache);
  assert.equal(policies.anyEnabled, true);
  assert.equal(policies.anySemantic, false);
  assert.deepEqual([policies.forFeature('faq').exact, policies.forFeature('faq').ttlSeconds], ['on', 60]);
  assert.equal(policies.forFeature('other').exact, 'off');
  assert.equal(policies.forFeature(undefined).errorBound, 0.02);
});

test('a semantic policy without an embedder is a config error', () => {
  assert.throws(() => parseConfig({ responseCache: { features: { faq: { semantic: 'shadow' } } } }), /embedder/);
});

test('Cache-Control request directives', () => {
  assert.deepEqual(requestCacheControl({ 'cache-control': 'no-cache, max-age=30' }), { noCache: true, noStore: false, maxAgeSeconds: 30 });
  assert.deepEqual(requestCacheControl({ 'cache-control': 'No-Store' }), { noCache: false, noStore: true, maxAgeSeconds: undefined });
  assert.deepEqual(requestCacheControl({}), { noCache: false, noStore: false, maxAgeSeconds: undefined });
});

test('tenant: API key hash, customer under it; a SigV4 signature counts by its access key id', () => {
  const keyA = cacheTenant({ tags: {} }, { authorization: 'Bearer sk-a' });
  assert.notEqual(keyA, cacheTenant({ tags: {} }, { authorization: 'Bearer sk-b' }));
  assert.equal(keyA, cacheTenant({ tags: {} }, { 'x-api-key': 'sk-a' }));
  assert.ok(!keyA.includes('sk-a'), 'the key itself is never part of the tenant');
  assert.notEqual(cacheTenant({ tags: {}, customer: 'acme' }, { authorization: 'Bearer sk-a' }), cacheTenant({ tags: {}, customer: 'globex' }, { authorization: 'Bearer sk-a' }));
  const signed = (signature: string) =>
    cacheTenant({ tags: {} }, { authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=${signature}` });
  assert.equal(signed('aaa'), signed('bbb'));
});
