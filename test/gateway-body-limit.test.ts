import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from './support/stack.ts';

const LIMIT = 4096;
let stack: Stack;

before(async () => {
  stack = await startStack({ server: { maxBodyBytes: LIMIT } });
});
after(() => stack.close());

const BEDROCK_MODEL = encodeURIComponent('anthropic.claude-sonnet-4-5-20250929-v1:0');

/** Every provider route that takes a body, with the error shape its SDK expects for a 413. */
const ROUTES: Array<{ path: string; body: (padding: string) => unknown; check: (status: number, headers: Headers, json: any) => void }> = [
  ...['/v1/chat/completions', '/v1/responses', '/v1/embeddings'].map((path) => ({
    path,
    body: (padding: string) => ({ model: 'gpt-4o-mini', input: padding, messages: [{ role: 'user', content: padding }] }),
    check: (status: number, _headers: Headers, json: any) => {
      assert.equal(status, 413);
      assert.equal(json.error.type, 'invalid_request_error');
      assert.equal(json.error.code, 'payload_too_large');
      assert.match(json.error.message, new RegExp(`limit of ${LIMIT} bytes`));
    },
  })),
  ...['/v1/messages', '/v1/messages/count_tokens'].map((path) => ({
    path,
    body: (padding: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: padding }] }),
    check: (status: number, _headers: Headers, json: any) => {
      assert.equal(status, 413);
      assert.equal(json.type, 'error');
      assert.equal(json.error.type, 'request_too_large');
    },
  })),
  ...['converse', 'converse-stream', 'invoke', 'invoke-with-response-stream'].map((action) => ({
    path: `/model/${BEDROCK_MODEL}/${action}`,
    body: (padding: string) => ({ messages: [{ role: 'user', content: [{ text: padding }] }] }),
    check: (status: number, headers: Headers, json: any) => {
      assert.equal(status, 413);
      assert.equal(headers.get('x-amzn-errortype'), 'ValidationException');
      assert.match(json.message, /exceeds the limit/);
    },
  })),
];

function oversized(route: (typeof ROUTES)[number]): string {
  return JSON.stringify(route.body('x'.repeat(LIMIT)));
}

test('a body over server.maxBodyBytes is refused with 413 in each route\'s provider error shape, before the pipeline', async () => {
  const before = await stack.gateway.ledger.count();
  for (const route of ROUTES) {
    const response = await fetch(stack.url + route.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: oversized(route) });
    route.check(response.status, response.headers, await response.json());
    assert.ok(response.headers.get('x-costgate-request-id'), route.path);
  }
  await stack.gateway.recorder.flush();
  assert.equal(await stack.gateway.ledger.count(), before, 'refused bodies are not calls');
});

/** POSTs without content-length (chunked), so the limit can only be found while reading. */
function postChunked(path: string, body: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(stack.url + path);
    const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    // The gateway may answer and close before the client has sent everything.
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (let offset = 0; offset < body.length; offset += 1000) request.write(body.slice(offset, offset + 1000));
    request.end();
  });
}

test('without a declared length the limit holds while reading, with the same shapes, and the connection is not reused', async () => {
  for (const route of ROUTES) {
    const response = await postChunked(route.path, oversized(route));
    const headers = new Headers(Object.entries(response.headers).map(([name, value]) => [name, String(value)]));
    route.check(response.status, headers, JSON.parse(response.text));
    assert.equal(response.headers.connection, 'close', `${route.path}: the unread rest must not be parsed as a request`);
  }
});

test('a body of exactly the limit is accepted', async () => {
  const base = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '' }] });
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'y'.repeat(LIMIT - base.length) }] });
  assert.equal(Buffer.byteLength(body), LIMIT);
  const response = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(response.status, 200);
  await response.arrayBuffer();
});
