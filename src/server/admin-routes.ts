import type { OutcomeQuery } from '../core/outcome.ts';
import { GROUP_BY_VALUES, type GroupBy, type Ledger, type ReportQuery } from '../ledger/ledger.ts';
import { usageEventFromJson } from '../ledger/spool/usage-event-json.ts';
import type { OutputStatisticsQuery } from '../ledger/output-statistics.ts';
import { adminAuthorized, adminRefusal } from './admin-auth.ts';
import type { GatewayRequest, GatewayResponse } from './dual-protocol-server.ts';
import { KEYS_ROUTE, type createKeyAdminRoutes } from './key-admin-routes.ts';

type KeyAdminRoutes = ReturnType<typeof createKeyAdminRoutes>;

export const ADMIN_PREFIX = '/costgate/admin/';

function send(response: GatewayResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  response.end(text);
}

function number(value: string | null): number | undefined {
  return value === null || value === '' ? undefined : Number(value);
}

/** Parses report parameters; they mirror `costgate report`'s flags. Throws a message on bad input. */
export function reportQueryFromSearch(search: URLSearchParams): ReportQuery {
  const by = (search.get('by') ?? 'feature') as GroupBy;
  if (!GROUP_BY_VALUES.includes(by)) throw new Error(`by must be one of ${GROUP_BY_VALUES.join(', ')}`);
  const query: ReportQuery = { by, filter: {} };
  const from = number(search.get('from'));
  const to = number(search.get('to'));
  const top = number(search.get('top'));
  for (const [name, value] of [['from', from], ['to', to], ['top', top]] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new Error(`${name} must be a number`);
  }
  if (from !== undefined) query.from = from;
  if (to !== undefined) query.to = to;
  if (top !== undefined) query.top = top;
  for (const key of ['feature', 'customer', 'provider', 'model'] as const) {
    const value = search.get(key);
    if (value && query.filter) query.filter[key] = value;
  }
  return query;
}

const OUTPUT_STATISTICS_NUMBERS = ['from', 'to', 'percentile', 'headroom', 'floor', 'targetTruncation'] as const;

/** `costgate audit output`'s query as admin API parameters (the inverse of outputStatisticsQueryFromSearch). */
export function outputStatisticsSearch(query: OutputStatisticsQuery): URLSearchParams {
  const search = new URLSearchParams();
  for (const key of OUTPUT_STATISTICS_NUMBERS) if (query[key] !== undefined) search.set(key, String(query[key]));
  for (const [key, value] of Object.entries(query.filter ?? {})) if (value) search.set(key, value);
  return search;
}

export function outputStatisticsQueryFromSearch(search: URLSearchParams): OutputStatisticsQuery {
  const query: OutputStatisticsQuery = { filter: {} };
  for (const key of OUTPUT_STATISTICS_NUMBERS) {
    const value = number(search.get(key));
    if (value === undefined) continue;
    if (!Number.isFinite(value)) throw new Error(`${key} must be a number`);
    query[key] = value;
  }
  for (const key of ['feature', 'customer', 'provider', 'model'] as const) {
    const value = search.get(key);
    if (value && query.filter) query.filter[key] = value;
  }
  return query;
}

/** Parses outcome filters for `router train --from-ledger` reading through a running gateway. */
export function outcomeQueryFromSearch(search: URLSearchParams): OutcomeQuery {
  const query: OutcomeQuery = {};
  for (const key of ['from', 'to', 'limit'] as const) {
    const value = number(search.get(key));
    if (value === undefined) continue;
    if (!Number.isFinite(value)) throw new Error(`${key} must be a number`);
    query[key] = value;
  }
  const source = search.get('source');
  if (source === 'feedback' || source === 'shadow') query.source = source;
  else if (source) throw new Error('source must be feedback or shadow');
  const feature = search.get('feature');
  if (feature) query.feature = feature;
  if (search.get('withPrompt') === 'true') query.withPrompt = true;
  return query;
}

/**
 * The admin API reads the gateway's own ledger. It is how other processes (the CLI, a dashboard)
 * read a ledger file the gateway holds open. When COSTGATE_ADMIN_KEY is set, it is required.
 */
export function createAdminRoutes(ledger: Ledger, adminKey: string | undefined, keys?: KeyAdminRoutes) {
  return async function handleAdmin(request: GatewayRequest, response: GatewayResponse, url: URL): Promise<void> {
    if (!adminAuthorized(request, adminKey)) {
      send(response, 401, { error: { message: adminRefusal(adminKey), type: 'authentication_error' } });
      return;
    }
    const route = url.pathname.slice(ADMIN_PREFIX.length);
    if (keys && (route === KEYS_ROUTE || route.startsWith(`${KEYS_ROUTE}/`))) {
      await keys(request, response, route);
      return;
    }
    try {
      switch (url.pathname.slice(ADMIN_PREFIX.length)) {
        case 'report':
          send(response, 200, await ledger.report(reportQueryFromSearch(url.searchParams)));
          return;
        case 'output-statistics':
          send(response, 200, await ledger.outputStatistics(outputStatisticsQueryFromSearch(url.searchParams)));
          return;
        case 'outcomes':
          send(response, 200, await ledger.outcomes(outcomeQueryFromSearch(url.searchParams)));
          return;
        case 'usage-events': {
          // Rows from processes that cannot open the ledger while this gateway holds it (batch jobs).
          if (request.method !== 'POST') throw new Error('POST newline-delimited usage events');
          const chunks: Buffer[] = [];
          for await (const chunk of request) chunks.push(chunk as Buffer);
          const events = Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => line.trim() !== '').map(usageEventFromJson);
          await ledger.append(events);
          send(response, 200, { appended: events.length });
          return;
        }
        case 'unpriced':
          send(response, 200, await ledger.unpricedModels());
          return;
        default:
          send(response, 404, { error: { message: `no admin route ${url.pathname}`, type: 'not_found' } });
      }
    } catch (error) {
      send(response, 400, { error: { message: (error as Error).message, type: 'invalid_request_error' } });
    }
  };
}
