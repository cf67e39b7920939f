import { existsSync, readFileSync } from 'node:fs';
import type { Outcome, OutcomeQuery } from '../core/outcome.ts';
import { isPostgresUrl, openLedger } from '../ledger/open-ledger.ts';
import type { Ledger, ReportQuery, ReportRow, UnpricedModel } from '../ledger/ledger.ts';
import type { OutputStatisticsQuery, OutputStatisticsRow } from '../ledger/output-statistics.ts';
import { outputStatisticsSearch } from '../server/admin-routes.ts';
import { holderMarkerPath } from '../server/start-gateway.ts';
import { CliError } from './cli-error.ts';

export type LedgerReader = Pick<Ledger, 'report' | 'unpricedModels' | 'outputStatistics' | 'outcomes' | 'close'>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The URL of a running gateway that holds `path` open, if there is one (never for Postgres, which any process reads). */
export function holdingGateway(path: string): string | undefined {
  if (isPostgresUrl(path)) return undefined;
  const marker = holderMarkerPath(path);
  if (!existsSync(marker)) return undefined;
  const holder = JSON.parse(readFileSync(marker, 'utf8')) as { url: string; pid: number };
  return alive(holder.pid) ? holder.url : undefined;
}

/** The admin API's credential, when the gateway requires one. */
export function adminHeaders(): Record<string, string> {
  return process.env.COSTGATE_ADMIN_KEY ? { authorization: `Bearer ${process.env.COSTGATE_ADMIN_KEY}` } : {};
}

/** Reads through a running gateway's admin API: the gateway holds the ledger file open. */
function remoteReader(url: string): LedgerReader {
  const headers = adminHeaders();
  async function get<T>(path: string, search: URLSearchParams): Promise<T> {
    const response = await fetch(`${url}/costgate/admin/${path}?${search}`, { headers });
    const body = (await response.json()) as T & { error?: { message: string } };
    if (!response.ok) throw new CliError(`gateway at ${url}: ${body.error?.message ?? response.status}`);
    return body;
  }
  return {
    async report(query: ReportQuery): Promise<ReportRow[]> {
      const search = new URLSearchParams({ by: query.by });
      for (const key of ['from', 'to', 'top'] as const) if (query[key] !== undefined) search.set(key, String(query[key]));
      for (const [key, value] of Object.entries(query.filter ?? {})) if (value) search.set(key, value);
      type Money = 'cost' | 'baselineCost' | 'cacheWritePremium' | 'cacheReadSavings';
      const rows = await get<Array<Omit<ReportRow, Money> & Record<Money, string>>>('report', search);
      return rows.map((row) => ({
        ...row,
        cost: BigInt(row.cost),
        baselineCost: BigInt(row.baselineCost),
        cacheWritePremium: BigInt(row.cacheWritePremium),
        cacheReadSavings: BigInt(row.cacheReadSavings),
      }));
    },
    unpricedModels: () => get<UnpricedModel[]>('unpriced', new URLSearchParams()),
    outcomes(query: OutcomeQuery = {}): Promise<Outcome[]> {
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
      return get<Outcome[]>('outcomes', search);
    },
    async outputStatistics(query: OutputStatisticsQuery = {}): Promise<OutputStatisticsRow[]> {
      const search = outputStatisticsSearch(query);
      type Money = 'cost' | 'outputPolicySaving';
      const rows = await get<Array<Omit<OutputStatisticsRow, Money> & Record<Money, string>>>('output-statistics', search);
      return rows.map((row) => ({ ...row, cost: BigInt(row.cost), outputPolicySaving: BigInt(row.outputPolicySaving) }));
    },
    async close() {},
  };
}

/** The ledger itself (a DuckDB file or a postgres:// URL), or, while a gateway holds the file open, that gateway's admin API. */
export async function openLedgerReader(path: string): Promise<LedgerReader> {
  const gateway = holdingGateway(path);
  return gateway ? remoteReader(gateway) : openLedger(path, { mustExist: true });
}
