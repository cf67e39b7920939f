import { DuplicateKeyError, type KeyStore } from '../keys/key-store.ts';
import { InvalidKeyRequestError, keyFields } from '../keys/key-request.ts';
import { issueKey, publicKey } from '../keys/virtual-key.ts';
import type { GatewayRequest, GatewayResponse } from './dual-protocol-server.ts';

export const KEYS_ROUTE = 'keys';
const MAX_BODY_BYTES = 64 * 1024;

function send(response: GatewayResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  response.end(text);
}

function invalid(response: GatewayResponse, status: number, message: string, type = 'invalid_request_error'): void {
  send(response, status, { error: { message, type } });
}

async function readJson(request: GatewayRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new InvalidKeyRequestError('body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidKeyRequestError('body is not JSON');
  }
}

/**
 * /costgate/admin/keys (behind the admin key, checked by the admin routes):
 *   GET                      list keys (never the secrets or their hashes)
 *   POST {name, ...limits}   create; the secret is in this answer only
 *   DELETE /{id}, POST /{id}/revoke   revoke
 */
export function createKeyAdminRoutes(store: KeyStore) {
  return async function handleKeys(request: GatewayRequest, response: GatewayResponse, path: string): Promise<void> {
    const parts = path.split('/').filter((part) => part !== '');
    const method = request.method ?? 'GET';
    try {
      if (parts.length === 1 && method === 'GET') {
        send(response, 200, (await store.list()).map(publicKey));
        return;
      }
      if (parts.length === 1 && method === 'POST') {
        const { secret, key } = issueKey(keyFields(await readJson(request)));
        await store.create(key);
        send(response, 201, { key: publicKey(key), secret });
        return;
      }
      const id = parts[1];
      const revoke = (parts.length === 2 && method === 'DELETE') || (parts.length === 3 && parts[2] === 'revoke' && method === 'POST');
      if (id && revoke) {
        if (!(await store.revoke(id))) {
          invalid(response, 404, `no key ${id}`, 'not_found');
          return;
        }
        send(response, 200, { id, revoked: true });
        return;
      }
      invalid(response, 404, `no admin route ${method} ${path}`, 'not_found');
    } catch (error) {
      if (error instanceof InvalidKeyRequestError) invalid(response, 400, error.message);
      else if (error instanceof DuplicateKeyError) invalid(response, 409, error.message);
      else invalid(response, 503, `key store: ${(error as Error).message}`, 'api_error');
    }
  };
}
