import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.ts';
import { startGateway } from '../server/start-gateway.ts';
import { CliError, parseInteger } from './cli-error.ts';

export const SERVE_HELP = `costgate serve [--port 4141] [--host 127.0.0.1] [--config costgate.yaml] [--ledger PATH] [--redis redis://HOST:6379]
  Starts the gateway. Point an SDK's base URL at it:
    OpenAI     http://HOST:PORT/v1      Anthropic  http://HOST:PORT      Bedrock  endpoint http://HOST:PORT
  --ledger: a DuckDB file, or postgres://USER@HOST:5432/DB?schema=NAME for one ledger shared by replicas.
  --redis: replicas share caches and planner evidence through this Redis (overrides redis.url).`;

/** Runs until SIGINT/SIGTERM, then drains in-flight calls and flushes the ledger. */
export async function waitForShutdown(close: () => Promise<void>, log: (line: string) => void): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log('second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      log(`${signal}: draining in-flight calls and flushing the ledger...`);
      close()
        .then(resolve)
        .catch((error: unknown) => {
          log(`shutdown error: ${String(error)}`);
          process.exitCode = 1;
          resolve();
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' }, config: { type: 'string' }, ledger: { type: 'string' }, redis: { type: 'string' } },
    strict: true,
  });
  const loaded = loadConfig(values.config);
  const log = (line: string) => console.error(`[costgate] ${line}`);
  const port = parseInteger(values.port, '--port');
  if (values.redis !== undefined && !/^rediss?:\/\//.test(values.redis)) throw new CliError(`--redis must be a redis:// or rediss:// URL, got "${values.redis}"`);
  const gateway = await startGateway({
    loaded,
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values.ledger ? { ledgerPath: values.ledger } : {}),
    ...(values.redis ? { redisUrl: values.redis } : {}),
    log,
  });
  log(`gateway listening on ${gateway.url} (config: ${loaded.source})`);
  const redisUrl = values.redis ?? loaded.config.redis.url;
  if (redisUrl) log(`shared state (caches, planner evidence) in redis ${redactPassword(redisUrl)}`);
  log(`upstreams: openai ${loaded.upstreams.openai.baseURL}, anthropic ${loaded.upstreams.anthropic.baseURL}, bedrock ${loaded.upstreams.bedrock.endpoint}`);
  await waitForShutdown(() => gateway.close(), log);
}

/** The URL without its password, for a log line. */
function redactPassword(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
