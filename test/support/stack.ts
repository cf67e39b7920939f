import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../../src/config/load-config.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { startGateway, type RunningGateway } from '../../src/server/start-gateway.ts';

export interface Stack {
  emulator: RunningEmulator;
  gateway: RunningGateway;
  /** Gateway base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  directory: string;
  close(): Promise<void>;
}

/** Emulator upstream + gateway in this process, on random ports, with a throwaway ledger. */
export async function startStack(rawConfig: unknown = {}, options: { emulatorClock?: boolean } = {}): Promise<Stack> {
  const emulator = await startEmulator({ port: 0 });
  const directory = mkdtempSync(join(tmpdir(), 'costgate-test-'));
  const environment = {
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    OPENAI_API_KEY: 'sk-gateway-key',
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: 'sk-ant-gateway-key',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDGATEWAY',
    AWS_SECRET_ACCESS_KEY: 'gateway-secret',
    AWS_REGION: 'us-east-1',
  };
  const config = parseConfig(rawConfig, environment, 'test');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'test' };
  // With emulatorClock, stages that read time (breakers, planners) follow emulator.clock.advance().
  const gateway = await startGateway({ loaded, port: 0, ledgerPath: join(directory, 'ledger.duckdb'), ...(options.emulatorClock ? { clock: () => emulator.clock.now() } : {}) });
  return {
    emulator,
    gateway,
    url: gateway.url,
    directory,
    async close() {
      await gateway.close();
      await emulator.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Flushes the recorder and returns the ledger rows for these request ids. */
export async function ledgerRows(stack: Stack, requestIds: string[]) {
  await stack.gateway.recorder.flush();
  return stack.gateway.ledger.get(requestIds);
}

/** Expected cost in picodollars from per-million prices, computed independently of the pricer. */
export function picodollars(parts: Array<[tokens: number, usdPerMillion: number]>): bigint {
  let total = 0n;
  for (const [tokens, price] of parts) total += BigInt(tokens) * BigInt(Math.round(price * 1_000_000));
  return total;
}
