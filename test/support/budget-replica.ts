/**
 * One gateway replica for the multi-process budget test: its own process, its own ledger, the
 * shared key file and the shared Redis. Prints {"url"} once listening; closes on SIGTERM.
 */
import { join } from 'node:path';
import { parseConfig, resolveUpstreams } from '../../src/config/load-config.ts';
import { startGateway } from '../../src/server/start-gateway.ts';

const { EMULATOR_URL, KEYS_PATH, REDIS_URL, REDIS_PREFIX, LEDGER_DIR } = process.env;
if (!EMULATOR_URL || !KEYS_PATH || !REDIS_URL || !REDIS_PREFIX || !LEDGER_DIR) throw new Error('budget replica: missing environment');
const environment = { OPENAI_BASE_URL: `${EMULATOR_URL}/v1`, OPENAI_API_KEY: 'sk-gateway-openai-upstream' };
const config = parseConfig({ keys: { enabled: true, path: KEYS_PATH }, redis: { url: REDIS_URL, keyPrefix: REDIS_PREFIX } }, environment, 'replica');
const gateway = await startGateway({ loaded: { config, upstreams: resolveUpstreams(config, environment), source: 'replica' }, port: 0, ledgerPath: join(LEDGER_DIR, 'ledger.duckdb'), log: (line) => console.error(line) });
console.log(JSON.stringify({ url: gateway.url }));
process.once('SIGTERM', () => {
  gateway.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
