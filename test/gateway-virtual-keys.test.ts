import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { GATEWAY_ANTHROPIC_KEY, GATEWAY_OPENAI_KEY, startKeyStack, type KeyStack } from './support/key-stack.ts';

let stack: KeyStack;
const secrets: string[] = [];

before(async () => {
  stack = await startKeyStack();
});
after(() => stack.close());

async function key(request: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const created = await stack.createKey(request);
  secrets.push(created.secret);
  return created;
}

function openai(secret: string): OpenAI {
  return new OpenAI({ apiKey: secret, baseURL: `${stack.url}/v1`, maxRetries: 0 });
}

const ask = (client: OpenAI, model = 'gpt-4o-mini', maxTokens = 50) =>
  client.chat.completions.create({ model, max_tokens: maxTokens, messages: [{ role: 'user', content: 'Say hello' }] }).withResponse();

test('a virtual key authenticates; the ledger row carries its id and customer; the provider sees only the gateway key', async () => {
  const { id, secret } = await key({ name: 'acme prod', customer: 'acme', team: 'growth' });
  const { response } = await ask(openai(secret));
  const requestId = response.headers.get('x-costgate-request-id') ?? '';
  await stack.gateway.recorder.flush();
  const [row] = await stack.gateway.ledger.get([requestId]);
  assert.ok(row);
  assert.equal(row.attribution.apiKeyId, id);
  assert.equal(row.attribution.customer, 'acme');
  assert.equal(row.attribution.tags.team, 'growth');
  const last = stack.upstreamHeaders.at(-1);
  assert.equal(last?.authorization, `Bearer ${GATEWAY_OPENAI_KEY}`);

  const message = await new Anthropic({ apiKey: secret, baseURL: stack.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 30, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(message.type, 'message');
  assert.equal(stack.upstreamHeaders.at(-1)?.['x-api-key'], GATEWAY_ANTHROPIC_KEY);
});

test('Bedrock: the AWS SDK sends the virtual key as a bearer token (Bedrock API key); the gateway signs with its own credentials', async () => {
  const { secret } = await key({ name: 'bedrock user' });
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: stack.url, token: { token: secret }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
  const answer = await client.send(new ConverseCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 30 } }));
  assert.ok(answer.usage?.outputTokens);
  assert.match(String(stack.upstreamHeaders.at(-1)?.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDGATEWAY\//);
  client.destroy();
  const refused = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: stack.url, token: { token: 'cg-not-a-key' }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
  await assert.rejects(refused.send(new ConverseCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })), (error: Error) => error.name === 'UnrecognizedClientException' && error.message === 'invalid API key');
  refused.destroy();
});

test('unknown, missing and revoked keys get 401 in each provider shape; none of them reaches the provider', async () => {
  const before = stack.upstreamHeaders.length;
  await assert.rejects(ask(openai('cg-wrong')), (error: unknown) => error instanceof OpenAI.AuthenticationError && error.status === 401);
  const anthropic = new Anthropic({ apiKey: 'cg-wrong', baseURL: stack.url, maxRetries: 0 });
  await assert.rejects(anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
    assert.ok(error instanceof Anthropic.AuthenticationError);
    assert.equal((error.error as { error?: { type?: string } }).error?.type, 'authentication_error');
    return true;
  });
  const bare = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }) });
  assert.equal(bare.status, 401);

  const { id, secret } = await key({ name: 'to revoke' });
  await ask(openai(secret));
  const revoked = await stack.admin('POST', `/${id}/revoke`);
  assert.equal(revoked.status, 200);
  // cacheSeconds: 0 in this stack, so the revocation applies to the very next call.
  await assert.rejects(ask(openai(secret)), (error: unknown) => error instanceof OpenAI.AuthenticationError);
  assert.equal(stack.upstreamHeaders.length, before + 1);
});

test('a model outside the key\'s list gets 403', async () => {
  const { secret } = await key({ name: 'mini only', models: ['gpt-4o-mini'] });
  await ask(openai(secret), 'gpt-4o-mini');
  await assert.rejects(ask(openai(secret), 'gpt-4o'), (error: unknown) => error instanceof OpenAI.PermissionDeniedError && error.status === 403);
});

test('requests per minute: the third call in a minute gets 429 with retry-after', async () => {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const { secret } = await key({ name: `rpm ${attempt}`, requestsPerMinute: 2 });
    const client = openai(secret);
    const minute = Math.floor(Date.now() / 60_000);
    await ask(client);
    await ask(client);
    const third = await ask(client).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Calls that straddled a minute boundary are in two windows; try again with a fresh key.
    if (Math.floor(Date.now() / 60_000) !== minute) continue;
    assert.ok(third instanceof OpenAI.RateLimitError, 'third call refused');
    const retryAfter = Number(third.headers?.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    return;
  }
  assert.fail('every attempt straddled a minute boundary');
});

test('a daily budget: calls pass while their worst case fits, spend never passes the budget, then 429', async () => {
  // $0.0002: a gpt-4o-mini call with max_tokens 100 may cost ~$0.000065 and really costs less.
  const { secret } = await key({ name: 'small budget', dailyBudgetUsd: '0.0002' });
  const client = openai(secret);
  let spent = 0;
  let refusal: InstanceType<typeof OpenAI.RateLimitError> | undefined;
  for (let call = 0; call < 40 && !refusal; call += 1) {
    try {
      const { response } = await ask(client, 'gpt-4o-mini', 100);
      spent += Number(response.headers.get('x-costgate-cost-usd'));
    } catch (error) {
      if (!(error instanceof OpenAI.RateLimitError)) throw error;
      refusal = error;
    }
  }
  assert.ok(refusal, 'the budget ran out');
  assert.ok(spent <= 0.0002, `spent ${spent}`);
  const worst = Number(/may cost up to \$([0-9.]+)/.exec(refusal.message)?.[1]);
  // Refused only because this call's worst case no longer fit.
  assert.ok(spent + worst > 0.0002 - 1e-12, `spent ${spent} + worst ${worst}`);
  assert.ok(Number(refusal.headers?.get('retry-after')) >= 1);
});

test('the admin API requires the admin key; listings never show secrets or hashes', async () => {
  assert.equal((await stack.admin('GET', '', undefined, 'wrong')).status, 401);
  assert.equal((await stack.admin('POST', '', { name: 'x' }, 'wrong')).status, 401);
  assert.equal((await stack.admin('POST', '', { name: 'x', dailyBudgetUsd: 'lots' })).status, 400);
  const listed = await (await stack.admin('GET', '')).text();
  assert.ok(listed.includes('small budget'));
  assert.ok(!listed.includes('"hash"'));
  for (const secret of secrets) assert.ok(!listed.includes(secret));
});

test('no secret reaches any file the gateway wrote (ledger, spool, key file)', async () => {
  await stack.gateway.recorder.flush();
  const files = (function walk(directory: string): string[] {
    return readdirSync(directory).flatMap((name) => {
      const path = join(directory, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  })(stack.directory);
  assert.ok(files.some((path) => path.endsWith('keys.json')));
  for (const path of files) {
    const bytes = readFileSync(path).toString('latin1');
    for (const secret of secrets) assert.ok(!bytes.includes(secret), `secret found in ${path}`);
    assert.ok(!bytes.includes(GATEWAY_OPENAI_KEY) && !bytes.includes(GATEWAY_ANTHROPIC_KEY), `provider key found in ${path}`);
  }
});
