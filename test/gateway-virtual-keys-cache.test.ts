import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startKeyStack, type KeyStack } from './support/key-stack.ts';

let stack: KeyStack;
before(async () => {
  stack = await startKeyStack({ responseCache: { features: { faq: { exact: 'on' } } } });
});
after(() => stack.close());

test('the response cache keeps each virtual key apart, though the key is gone from the headers', async () => {
  const one = await stack.createKey({ name: 'one' });
  const two = await stack.createKey({ name: 'two' });
  const ask = (secret: string) =>
    new OpenAI({ apiKey: secret, baseURL: `${stack.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Which tenant am I?' }] }, { headers: { 'x-costgate-feature': 'faq' } })
      .withResponse();
  assert.equal((await ask(one.secret)).response.headers.get('x-costgate-cache'), 'miss');
  assert.equal((await ask(two.secret)).response.headers.get('x-costgate-cache'), 'miss');
  assert.equal((await ask(one.secret)).response.headers.get('x-costgate-cache'), 'exact_hit');
  assert.equal((await ask(two.secret)).response.headers.get('x-costgate-cache'), 'exact_hit');
});
