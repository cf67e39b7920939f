import type { DeferredBatcher } from '../batch/deferred/deferred-batcher.ts';
import { apiKeyId } from '../pipeline/attribution/attribution-stage.ts';
import { DEFERRED_PATH } from '../pipeline/defer/defer-queue.ts';
import type { GatewayRequest, GatewayResponse } from './dual-protocol-server.ts';

export { DEFERRED_PATH };

/**
 * GET /costgate/deferred/{id}: where a deferred request's result is fetched.
 *   202 {"id", "status": "pending" | "submitted"}   still waiting (submitted = in a provider batch)
 *   200 the provider's response body, as the on-demand call would have returned it
 *   the provider's error status and body when the request failed in the batch
 *   404 unknown (or expired) id, or asked with another API key than the one that deferred it
 * `x-costgate-deferred-status` says which, so a client can tell a completed 200 from the rest.
 */
export function createDeferredRoute(batcher: Pick<DeferredBatcher, 'lookup'>) {
  return async (request: GatewayRequest, response: GatewayResponse, pathname: string): Promise<void> => {
    request.resume();
    const send = (status: number, state: string, body: unknown): void => {
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'x-costgate-deferred-status': state, 'cache-control': 'no-store' });
      response.end(text);
    };
    if (request.method !== 'GET') {
      send(405, 'error', { error: { type: 'invalid_request_error', message: `use GET ${DEFERRED_PATH}{id}` } });
      return;
    }
    const id = decodeURIComponent(pathname.slice(DEFERRED_PATH.length));
    const found = await batcher.lookup(id);
    // A result belongs to the API key that deferred it; any other caller is told it does not exist.
    if (!found || (found.owner !== undefined && found.owner !== apiKeyId(request.headers))) {
      send(404, 'unknown', { error: { type: 'not_found_error', message: `no deferred request ${id} (unknown, or its result has expired)` } });
      return;
    }
    const { owner: _owner, ...visible } = found;
    if ('httpStatus' in found) {
      send(found.httpStatus, found.status, found.response);
      return;
    }
    send(202, found.status, { ...visible, object: 'costgate.deferred' });
  };
}
