import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.ts';
import { formatUsd } from '../core/money.ts';
import { DuplicateKeyError, type KeyStore } from '../keys/key-store.ts';
import { InvalidKeyRequestError, keyFields, type KeyRequest } from '../keys/key-request.ts';
import { openKeyStore } from '../keys/open-key-store.ts';
import { issueKey, publicKey, type StoredKey } from '../keys/virtual-key.ts';
import { CliError, parseInteger } from './cli-error.ts';
import { adminHeaders, holdingGateway } from './ledger-reader.ts';

export const KEYS_HELP = `costgate keys create --name NAME [--team T] [--customer C] [--models m1,m2,prefix*]
    [--rpm N] [--tpm N] [--daily-usd D] [--monthly-usd D] [--gateway URL] [--config FILE] [--format text|json]
costgate keys list [--gateway URL] [--config FILE] [--ledger PATH|URL] [--format text|json]
costgate keys revoke ID [--gateway URL] [--config FILE]
  Virtual keys (config keys.enabled). Talks to the running gateway's admin API (--gateway, or the
  gateway holding the configured ledger; COSTGATE_ADMIN_KEY is sent), else writes the configured key
  store directly: keys.postgresUrl, else the Postgres ledger's own database, else keys.json in the
  ledger's local folder. --ledger picks the ledger as elsewhere. The secret is printed once.`;

type PublicKey = Omit<StoredKey, 'hash'>;

interface KeyClient {
  create(request: KeyRequest): Promise<{ key: PublicKey; secret: string }>;
  list(): Promise<PublicKey[]>;
  revoke(id: string): Promise<boolean>;
  close(): Promise<void>;
}

function remoteClient(url: string): KeyClient {
  async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(`${url}/costgate/admin/keys${path}`, {
        method,
        headers: { ...adminHeaders(), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CliError(`cannot reach the gateway at ${url}: ${(error as Error).message}`);
    }
    const parsed = (await response.json()) as T & { error?: { message: string } };
    if (!response.ok && response.status !== 404) throw new CliError(`gateway at ${url}: ${parsed.error?.message ?? response.status}`);
    return { status: response.status, body: parsed };
  }
  return {
    async create(request) {
      const answer = await call<{ key: PublicKey; secret: string }>('POST', '', request);
      if (answer.status === 404) throw new CliError(`the gateway at ${url} has no key routes (is keys.enabled set?)`);
      return answer.body;
    },
    async list() {
      const answer = await call<PublicKey[]>('GET', '');
      if (answer.status === 404) throw new CliError(`the gateway at ${url} has no key routes (is keys.enabled set?)`);
      return answer.body;
    },
    async revoke(id) {
      return (await call('POST', `/${encodeURIComponent(id)}/revoke`)).status === 200;
    },
    close: async () => {},
  };
}

function storeClient(store: KeyStore): KeyClient {
  return {
    async create(request) {
      try {
        const { secret, key } = issueKey(keyFields(request));
        await store.create(key);
        return { key: publicKey(key), secret };
      } catch (error) {
        if (error instanceof InvalidKeyRequestError || error instanceof DuplicateKeyError) throw new CliError(error.message);
        throw error;
      }
    },
    list: async () => (await store.list()).map(publicKey),
    revoke: (id) => store.revoke(id),
    close: () => store.close(),
  };
}

function describeKey(key: PublicKey): string {
  const limits: string[] = [];
  if (key.limits.requestsPerMinute !== undefined) limits.push(`${key.limits.requestsPerMinute} req/min`);
  if (key.limits.tokensPerMinute !== undefined) limits.push(`${key.limits.tokensPerMinute} tok/min`);
  if (key.limits.dailyBudget !== undefined) limits.push(`$${formatUsd(BigInt(key.limits.dailyBudget))}/day`);
  if (key.limits.monthlyBudget !== undefined) limits.push(`$${formatUsd(BigInt(key.limits.monthlyBudget))}/month`);
  const owner = [key.team ? `team=${key.team}` : '', key.customer ? `customer=${key.customer}` : ''].filter(Boolean).join(' ');
  const state = key.revokedAt !== undefined ? `revoked ${new Date(key.revokedAt).toISOString()}` : 'active';
  return [key.id, key.name, owner || '-', key.models?.join(',') ?? 'any model', limits.join(', ') || 'no limits', state].join('  ');
}

export async function keysCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      team: { type: 'string' },
      customer: { type: 'string' },
      models: { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      'daily-usd': { type: 'string' },
      'monthly-usd': { type: 'string' },
      gateway: { type: 'string' },
      config: { type: 'string' },
      ledger: { type: 'string' },
      format: { type: 'string', default: 'text' },
    },
  });
  const [action, id] = positionals;
  if (action !== 'create' && action !== 'list' && action !== 'revoke') throw new CliError(`usage:\n${KEYS_HELP}`);
  const json = values.format === 'json';
  const loaded = loadConfig(values.config);
  const ledger = values.ledger ?? loaded.config.ledger.path;
  const url = values.gateway ?? holdingGateway(ledger);
  const client = url ? remoteClient(url.replace(/\/$/, '')) : storeClient(openKeyStore(loaded.config.keys, ledger, loaded.config.ledger.localDir));
  try {
    if (action === 'create') {
      if (!values.name) throw new CliError('keys create needs --name');
      const request: KeyRequest = { name: values.name };
      if (values.team) request.team = values.team;
      if (values.customer) request.customer = values.customer;
      if (values.models) request.models = values.models.split(',').map((model) => model.trim()).filter(Boolean);
      const rpm = parseInteger(values.rpm, '--rpm', 1);
      const tpm = parseInteger(values.tpm, '--tpm', 1);
      if (rpm !== undefined) request.requestsPerMinute = rpm;
      if (tpm !== undefined) request.tokensPerMinute = tpm;
      if (values['daily-usd']) request.dailyBudgetUsd = values['daily-usd'];
      if (values['monthly-usd']) request.monthlyBudgetUsd = values['monthly-usd'];
      const created = await client.create(request);
      if (json) console.log(JSON.stringify(created));
      else console.log(`${describeKey(created.key)}\nsecret (shown once, store it now): ${created.secret}`);
    } else if (action === 'list') {
      const keys = await client.list();
      if (json) console.log(JSON.stringify(keys));
      else console.log(keys.length === 0 ? 'no keys' : keys.map(describeKey).join('\n'));
    } else {
      if (!id) throw new CliError('keys revoke needs a key id');
      if (!(await client.revoke(id))) throw new CliError(`no key ${id}`);
      console.log(`revoked ${id}`);
    }
  } finally {
    await client.close();
  }
}
