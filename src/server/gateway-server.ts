import { randomUUID } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import { GatewayError } from '../core/errors.ts';
import { formatUsd } from '../core/money.ts';
import type { CallContext } from '../pipeline/context.ts';
import type { ProviderAdapter } from '../providers/provider.ts';
import { parseCall, readBody } from './read-call.ts';
import { createDualProtocolServer, destroyResponse, responseClosed, type GatewayRequest, type GatewayResponse } from './dual-protocol-server.ts';
import { ADMIN_PREFIX } from './admin-routes.ts';
import { FEEDBACK_PATH } from './feedback-routes.ts';
import { DEFERRED_PATH } from './deferred-routes.ts';
import { HttpResponseSink } from './response-sink.ts';
import { matchRoute, type Adapters } from './routes.ts';

export interface GatewayServerOptions {
  adapters: Adapters;
  pipeline: (context: CallContext) => Promise<void>;
  maxBodyBytes: number;
  /** Serves /costgate/admin/*; absent = those routes answer 404 like any unknown route. */
  admin?: (request: GatewayRequest, response: GatewayResponse, url: URL) => Promise<void>;
  /** Serves GET /costgate/deferred/{id} (results of deferred requests); absent = 404. */
  deferred?: (request: GatewayRequest, response: GatewayResponse, pathname: string) => Promise<void>;
  /** Serves POST /costgate/feedback (outcomes for routed calls); absent = 404. */
  feedback?: (request: GatewayRequest, response: GatewayResponse) => Promise<void>;
  /** Non-provider pages (/metrics, /dashboard): answers true when it served the request. */
  pages?: (request: GatewayRequest, response: GatewayResponse, pathname: string, url: string) => Promise<boolean>;
  log?: (line: string) => void;
}

export interface GatewayServer {
  server: Server;
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting, waits for in-flight calls (streams included) to finish. */
  close(): Promise<void>;
}

function sendError(response: GatewayResponse, adapter: ProviderAdapter, error: GatewayError, requestId: string): void {
  const rendered = adapter.renderError(error);
  response.writeHead(rendered.status, { ...rendered.headers, 'x-costgate-request-id': requestId });
  response.end(rendered.body);
}

export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  const log = options.log ?? (() => {});
  let inFlight = 0;
  let idle: (() => void) | undefined;

  async function handle(request: GatewayRequest, response: GatewayResponse): Promise<void> {
    const startedAt = performance.now();
    const receivedAt = Date.now();
    const requestId = randomUUID();
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);

    if (pathname === '/costgate/health') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'ok', inFlight }));
      return;
    }

    if (options.pages && !pathname.startsWith('/v1/') && !pathname.startsWith('/model/') && (await options.pages(request, response, pathname, url))) return;

    if (options.feedback && pathname === FEEDBACK_PATH) {
      await options.feedback(request, response);
      return;
    }

    if (options.deferred && pathname.startsWith(DEFERRED_PATH)) {
      await options.deferred(request, response, pathname);
      return;
    }

    if (options.admin && pathname.startsWith(ADMIN_PREFIX)) {
      await options.admin(request, response, new URL(url, 'http://gateway'));
      return;
    }

    const route = matchRoute(options.adapters, request.method ?? 'GET', pathname);
    if (!route.found) {
      request.resume();
      sendError(response, route.adapter, new GatewayError('not_found', `Invalid URL (${request.method} ${pathname})`), requestId);
      return;
    }

    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort();
    });

    let context: CallContext;
    try {
      const rawBody = route.method === 'POST' ? await readBody(request, options.maxBodyBytes) : Buffer.alloc(0);
      const call = parseCall(route.operation, route.method, request.headers, rawBody);
      context = {
        requestId,
        receivedAt,
        startedAt,
        adapter: route.adapter,
        call,
        signal: abort.signal,
        sink: new HttpResponseSink(response),
        attribution: { tags: {} },
        bodyChanged: false,
        result: undefined,
        facts: undefined,
        firstByteAt: undefined,
        cost: undefined,
        levers: [],
        event: undefined,
      };
    } catch (error) {
      const gatewayError = error instanceof GatewayError ? error : new GatewayError('invalid_request', String(error));
      log(`rejected ${request.method} ${pathname}: ${gatewayError.message}`);
      // The unread rest of an oversized HTTP/1.1 body would otherwise be parsed as the next request.
      if (gatewayError.kind === 'payload_too_large' && !('stream' in response)) response.setHeader('connection', 'close');
      sendError(response, route.adapter, gatewayError, requestId);
      return;
    }

    try {
      await options.pipeline(context);
    } catch (error) {
      log(`pipeline error on ${requestId}: ${(error as Error).stack ?? String(error)}`);
      if (!context.sink.started && !response.headersSent) {
        sendError(response, route.adapter, new GatewayError('internal', 'costgate internal error'), requestId);
      } else {
        destroyResponse(response);
      }
      return;
    }

    if (context.sink.started) {
      if (!responseClosed(response)) context.sink.end();
      return;
    }
    const result = context.result;
    if (result && !response.headersSent && !responseClosed(response)) {
      const headers: Record<string, string | string[]> = { ...result.headers, 'content-length': String(result.body.length) };
      if (context.cost) headers['x-costgate-cost-usd'] = formatUsd(context.cost.cost);
      response.writeHead(result.status, headers);
      response.end(result.body);
    }
  }

  const { server, destroyConnections } = createDualProtocolServer((request, response) => {
    inFlight += 1;
    response.on('close', () => {
      inFlight -= 1;
      if (inFlight === 0) idle?.();
    });
    handle(request, response).catch((error: unknown) => {
      log(`unhandled: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          resolve(`http://${host}:${address.port}`);
        });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      destroyConnections();
      await closed;
    },
  };
}
