import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig, resolveUpstreams } from './load-config.ts';

test('defaults apply to an empty config', () => {
  const config = parseConfig({}, {});
  assert.equal(config.server.port, 4141);
  assert.equal(config.ledger.path, './.costgate/ledger.duckdb');
});

test('errors name the path and what was expected', () => {
  assert.throws(() => parseConfig({ server: { port: 'eighty' } }, {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /server\.port/);
    assert.match(error.message, /number/);
    return true;
  });
  assert.throws(() => parseConfig({ prices: { overrides: [{ provider: 'openai', model: 'm', inputPerMTok: -1, outputPerMTok: 1 }] } }, {}), /prices\.overrides\.0\.inputPerMTok/);
  assert.throws(() => parseConfig({ sever: {} }, {}), /sever/);
});

test('secrets come from ${ENV} and a missing variable is named', () => {
  const config = parseConfig({ providers: { openai: { apiKey: '${MY_KEY}' } } }, { MY_KEY: 'sk-1' });
  assert.equal(config.providers.openai?.apiKey, 'sk-1');
  assert.throws(() => parseConfig({ providers: { openai: { apiKey: '${NOPE}' } } }, {}), /providers\.openai\.apiKey: environment variable NOPE/);
});

test('upstreams come from the SDKs\' own environment variables when the file is silent', () => {
  const upstreams = resolveUpstreams(parseConfig({}, {}), {
    OPENAI_BASE_URL: 'http://localhost:9/v1/',
    ANTHROPIC_API_KEY: 'ak',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'id',
    AWS_SECRET_ACCESS_KEY: 'secret',
  });
  assert.equal(upstreams.openai.baseURL, 'http://localhost:9/v1');
  assert.equal(upstreams.anthropic.apiKey, 'ak');
  assert.equal(upstreams.bedrock.endpoint, 'https://bedrock-runtime.eu-west-1.amazonaws.com');
  assert.deepEqual(upstreams.bedrock.credentials, { accessKeyId: 'id', secretAccessKey: 'secret' });
});
