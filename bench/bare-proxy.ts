import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

/**
 * The floor costgate is measured against: the least a Node proxy can do per request. node:http in,
 * undici's lowest-level `Pool.dispatch()` out (no `request()`/`pipeline()` stream wrappers), bytes
 * copied through without parsing. Pool settings match costgate's upstream client so both pay for
 * the same connection handling.
 */

// Hop-by-hop headers belong to one connection; undici also refuses most of them outright.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'expect',
]);

function forwardedRequestHeaders(rawHeaders: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    if (!HOP_BY_HOP.has(name.toLowerCase())) kept.push(name, rawHeaders[index + 1] as string);
  }
  return kept;
}

function forwardedResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

function forward(pool: Pool, origin: string, request: IncomingMessage, response: ServerResponse): void {
  let upstream: Dispatcher.DispatchController | undefined;
  response.on('close', () => {
    if (!response.writableFinished) upstream?.abort(new Error('client went away'));
  });
  pool.dispatch(
    {
      origin,
      path: request.url ?? '/',
      method: (request.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: forwardedRequestHeaders(request.rawHeaders),
      // The request streams through as it arrives; nothing is buffered or parsed.
      body: request.method === 'GET' || request.method === 'HEAD' ? null : request,
    },
    {
      onRequestStart(controller) {
        upstream = controller;
      },
      onResponseStart(_controller, statusCode, headers) {
        response.writeHead(statusCode, forwardedResponseHeaders(headers as Record<string, string | string[] | undefined>));
      },
      onResponseData(controller, chunk) {
        if (!response.write(chunk)) {
          controller.pause();
          response.once('drain', () => controller.resume());
        }
      },
      onResponseEnd() {
        response.end();
      },
      onResponseError(_controller, error) {
        if (response.headersSent) {
          response.destroy(error);
        } else {
          response.writeHead(502, { 'content-type': 'text/plain' });
          response.end(`upstream failed: ${error.message}`);
        }
      },
    },
  );
}

export interface BareProxy {
  url: string;
  close(): Promise<void>;
}

export async function startBareProxy(options: { upstream: string; port?: number; host?: string }): Promise<BareProxy> {
  const origin = new URL(options.upstream).origin;
  const pool = new Pool(origin, { connections: 128, keepAliveTimeout: 30_000 });
  const server = createServer((request, response) => forward(pool, origin, request, response));
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await pool.close();
    },
  };
}
