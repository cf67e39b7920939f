import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../../src/config/load-config.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { startGateway, type RunningGateway } from '../../src/server/start-gateway.ts';

export const ADMIN_KEY = 'admin-key-for-tests-3f9a1c';
export const GATEWAY_OPENAI_KEY = 'sk-gateway-openai-upstream';
export const GATEWAY_ANTHROPIC_KEY = 'sk-ant-gateway-upstream';

/** A pass-through proxy in front of the emulator that remembers the headers each upstream request carried. */
async function recordingProxy(target: string): Promise<{ url: string; headers: IncomingHttpHeaders[]; server: Server }> {
  const headers: IncomingHttpHeaders[] = [];
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    headers.push(incoming.headers);
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers, server };
}

export interface KeyStack {
  url: string;
  emulator: RunningEmulator;
  gateway: RunningGateway;
  directory: string;
  /** Headers of every request that reached the provider (the emulator). */
  upstreamHeaders: IncomingHttpHeaders[];
  createKey(request: Record<string, unknown>): Promise<{ id: string; secret: string }>;
  admin(method: string, path: string, body?: unknown, key?: string): Promise<Response>;
  close(): Promise<void>;
}

/** Emulator behind a recording proxy, and a gateway with virtual keys on. */
export async function startKeyStack(rawConfig: Record<string, unknown> = {}, directory = mkdtempSync(join(tmpdir(), 'costgate-keys-'))): Promise<KeyStack> {
  process.env.COSTGATE_ADMIN_KEY = ADMIN_KEY;
  const emulator = await startEmulator({ port: 0 });
  const proxy = await recordingProxy(emulator.url);
  const environment = {
    OPENAI_BASE_URL: `${proxy.url}/v1`,
    OPENAI_API_KEY: GATEWAY_OPENAI_KEY,
    ANTHROPIC_BASE_URL: proxy.url,
    ANTHROPIC_API_KEY: GATEWAY_ANTHROPIC_KEY,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: proxy.url,
    AWS_ACCESS_KEY_ID: 'AKIDGATEWAY',
    AWS_SECRET_ACCESS_KEY: 'gateway-secret',
    AWS_REGION: 'us-east-1',
  };
  const config = parseConfig({ ...rawConfig, keys: { enabled: true, cacheSeconds: 0, ...((rawConfig.keys as object | undefined) ?? {}) } }, environment, 'test');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'test' };
  const gateway = await startGateway({ loaded, port: 0, ledgerPath: join(directory, 'ledger.duckdb') });
  const admin = (method: string, path: string, body?: unknown, key = ADMIN_KEY) =>
    fetch(`${gateway.url}/costgate/admin/keys${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    url: gateway.url,
    emulator,
    gateway,
    directory,
    upstreamHeaders: proxy.headers,
    admin,
    async createKey(request) {
      const response = await admin('POST', '', request);
      if (response.status !== 201) throw new Error(`create key: ${response.status} ${await response.text()}`);
      const body = (await response.json()) as { key: { id: string }; secret: string };
      return { id: body.key.id, secret: body.secret };
    },
    async close() {
      await gateway.close();
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
      proxy.server.closeAllConnections();
      await emulator.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
