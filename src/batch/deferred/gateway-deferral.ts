import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load-config.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { batchPaths, createBatchApi } from '../batch-setup.ts';
import { ledgerLocalDir } from '../../ledger/open-ledger.ts';
import { openDuckDbBatchStore } from '../store/duckdb-batch-store.ts';
import { type DeferredBatcher, openDeferredBatcher } from './deferred-batcher.ts';

/**
 * Deferred requests inside a running gateway: the batch job store (`<ledger dir>/batch.duckdb`,
 * shared with `costgate batch`), the provider batch clients, and ledger rows through the gateway's
 * own usage recorder (it holds the ledger).
 */
export interface GatewayDeferral {
  batcher: DeferredBatcher;
  close(): Promise<void>;
}

export async function startGatewayDeferral(options: {
  loaded: LoadedConfig;
  ledgerPath: string;
  pricer: Pricer;
  usage: { record(event: UsageEvent): void };
  log?: (line: string) => void;
}): Promise<GatewayDeferral> {
  const { config } = options.loaded;
  const { storePath, workRoot } = batchPaths(config.batch, options.ledgerPath, config.ledger.localDir);
  const store = await openDuckDbBatchStore({ path: storePath, hold: true });
  const batcher = await openDeferredBatcher({
    config: config.batch,
    directory: join(ledgerLocalDir(options.ledgerPath, config.ledger.localDir), 'deferred'),
    workRoot,
    store,
    apiFor: (provider) => createBatchApi(provider, options.loaded),
    pricer: options.pricer,
    ledger: {
      // The recorder spools each event before returning, and the ledger ignores ids it has.
      async append(events) {
        for (const event of events) options.usage.record(event);
      },
      async close() {},
    },
    ...(options.log ? { log: options.log } : {}),
  });
  return {
    batcher,
    async close() {
      await batcher.close();
      await store.close();
    },
  };
}
