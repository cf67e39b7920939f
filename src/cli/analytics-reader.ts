import type { LedgerAnalytics } from '../ledger/analytics.ts';
import { analyticsSearch, MONEY_FIELDS, reviveMoney, type AnalyticsParameters } from '../ledger/analytics-codec.ts';
import { openLedger } from '../ledger/open-ledger.ts';
import { CliError } from './cli-error.ts';
import { adminHeaders, holdingGateway } from './ledger-reader.ts';

/** What the analytics commands read: the ledger's analytics, in-process or through a running gateway. */
export interface AnalyticsReader extends Pick<LedgerAnalytics, 'pareto' | 'growth' | 'costPercentiles' | 'tokenRatios' | 'savings' | 'hourlySeries' | 'modelProfile'> {
  /** Writes the export to `path`; returns the rows written. */
  exportTo(format: 'parquet' | 'csv', path: string, range: { from?: number; to?: number }): Promise<number>;
  close(): Promise<void>;
}

function remote(url: string): AnalyticsReader {
  const headers = adminHeaders();
  async function call<T>(method: string, parameters: AnalyticsParameters): Promise<T> {
    const response = await fetch(`${url}/costgate/admin/analytics/${method}?${analyticsSearch(parameters)}`, { headers });
    const body = (await response.json()) as { error?: { message: string } };
    if (!response.ok) throw new CliError(`gateway at ${url}: ${body.error?.message ?? response.status}`);
    return reviveMoney<T>(body, MONEY_FIELDS);
  }
  // The query objects carry the same optional names the codec reads (by, top, from, to, filter, dimension).
  const flat = (query: object): AnalyticsParameters => ({ ...(query as AnalyticsParameters) });
  return {
    pareto: (query) => call('pareto', flat(query)),
    growth: (query) => {
      const { by, top, to, periodMs, feature, customer, provider, model } = query;
      const filter = Object.fromEntries(Object.entries({ feature, customer, provider, model }).filter(([, value]) => value !== undefined));
      return call('growth', { ...(by ? { by } : {}), ...(top ? { top } : {}), ...(to !== undefined ? { to } : {}), ...(periodMs ? { periodMs } : {}), filter });
    },
    costPercentiles: (query) => call('percentiles', flat(query)),
    tokenRatios: (query) => call('ratios', flat(query)),
    savings: (query) => call('savings', flat(query)),
    hourlySeries: (query) => call('series', { ...flat(query), dimension: query.dimension }),
    modelProfile: () => Promise.reject(new CliError('break-even reads the ledger file; stop the gateway or use its dashboard (/dashboard#break-even)')),
    async exportTo(format, path, range) {
      const search = analyticsSearch(range);
      search.set('format', format);
      const response = await fetch(`${url}/costgate/admin/analytics/export?${search}`, { headers });
      if (!response.ok) throw new CliError(`gateway at ${url}: export failed (${response.status})`);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path, Buffer.from(await response.arrayBuffer()));
      return Number(response.headers.get('x-costgate-rows') ?? 0);
    },
    async close() {},
  };
}

/** The ledger itself (a DuckDB file or a postgres:// URL), or, while a gateway holds the file open, that gateway's admin API. */
export async function openAnalyticsReader(path: string): Promise<AnalyticsReader> {
  const gateway = holdingGateway(path);
  if (gateway) return remote(gateway);
  const ledger = await openLedger(path, { mustExist: true });
  return {
    pareto: (query) => ledger.pareto(query),
    growth: (query) => ledger.growth(query),
    costPercentiles: (query) => ledger.costPercentiles(query),
    tokenRatios: (query) => ledger.tokenRatios(query),
    savings: (query) => ledger.savings(query),
    hourlySeries: (query) => ledger.hourlySeries(query),
    modelProfile: (query) => ledger.modelProfile(query),
    exportTo: (format, file, range) => ledger.exportRows({ format, path: file, ...range }),
    close: () => ledger.close(),
  };
}
