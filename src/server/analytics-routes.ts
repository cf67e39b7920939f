import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { AnomalyMonitor } from '../analytics/anomaly/anomaly-monitor.ts';
import { BreakEvenInputError, modelBreakEven } from '../analytics/break-even/break-even-report.ts';
import { DEFAULT_MODEL_UNIT_TERMS } from '../analytics/break-even/break-even.ts';
import type { PrometheusMetrics } from '../analytics/exports/prometheus-metrics.ts';
import type { ExportFormat, SavingsBy, SeriesDimension } from '../ledger/analytics.ts';
import { analyticsParameters, groupBy, toJson } from '../ledger/analytics-codec.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Pricer } from '../pricing/pricer.ts';
import { adminAuthorized, adminRefusal } from './admin-auth.ts';
import type { GatewayRequest, GatewayResponse } from './dual-protocol-server.ts';

export const ANALYTICS_PREFIX = '/costgate/admin/analytics/';

export interface AnalyticsRoutesOptions {
  ledger: Ledger;
  pricer: Pricer;
  adminKey: string | undefined;
  monitor?: AnomalyMonitor | undefined;
  metrics?: PrometheusMetrics | undefined;
  /** Built dashboard assets (index.html, app.js...); absent = /dashboard answers 404. */
  dashboardDir?: string | undefined;
}

function send(response: GatewayResponse, status: number, body: string, type = 'application/json'): void {
  response.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  response.end(body);
}

function fail(response: GatewayResponse, status: number, message: string, type: string): void {
  send(response, status, toJson({ error: { message, type } }));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

function number(search: URLSearchParams, name: string, fallback: number): number {
  const text = search.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got "${text}"`);
  return value;
}

/**
 * The analytics half of the admin API (/costgate/admin/analytics/*), Prometheus /metrics and the
 * dashboard's static files. Everything that carries ledger data needs the admin key when one is
 * set; the dashboard page itself is static and asks for the key to call the API.
 */
export function createAnalyticsRoutes(options: AnalyticsRoutesOptions) {
  const { ledger } = options;

  async function analytics(method: string, url: URL, response: GatewayResponse): Promise<void> {
    const parameters = analyticsParameters(url.searchParams);
    const range = {
      ...(parameters.from !== undefined ? { from: parameters.from } : {}),
      ...(parameters.to !== undefined ? { to: parameters.to } : {}),
      ...(parameters.filter ? { filter: parameters.filter } : {}),
    };
    const by = groupBy(parameters.by);
    const top = parameters.top !== undefined ? { top: parameters.top } : {};
    switch (method) {
      case 'pareto':
        return send(response, 200, toJson(await ledger.pareto({ ...range, ...top, ...(by ? { by } : {}) })));
      case 'growth':
        return send(
          response,
          200,
          toJson(
            await ledger.growth({
              ...parameters.filter,
              ...top,
              ...(by ? { by } : {}),
              ...(parameters.to !== undefined ? { to: parameters.to } : {}),
              ...(parameters.periodMs !== undefined ? { periodMs: parameters.periodMs } : {}),
            }),
          ),
        );
      case 'percentiles':
        return send(response, 200, toJson(await ledger.costPercentiles({ ...range, ...top, ...(by ? { by } : {}) })));
      case 'ratios':
        return send(response, 200, toJson(await ledger.tokenRatios({ ...range, ...top, ...(by ? { by } : {}) })));
      case 'savings': {
        const savingsBy = parameters.by as SavingsBy | undefined;
        return send(response, 200, toJson(await ledger.savings({ ...range, ...(savingsBy ? { by: savingsBy } : {}) })));
      }
      case 'series':
        return send(response, 200, toJson(await ledger.hourlySeries({ ...range, dimension: (parameters.dimension ?? 'total') as SeriesDimension })));
      case 'anomalies':
        return send(response, 200, toJson({ enabled: options.monitor !== undefined, alerts: options.monitor?.recent() ?? [] }));
      case 'breakeven': {
        if (!parameters.model) throw new RangeError('model is required');
        const search = url.searchParams;
        const report = await modelBreakEven(ledger, options.pricer, {
          model: parameters.model,
          ...(parameters.from !== undefined ? { from: parameters.from } : {}),
          ...(parameters.to !== undefined ? { to: parameters.to } : {}),
          maxUnits: Math.min(50, Math.max(1, number(search, 'maxUnits', 10))),
          terms: {
            oneMonthPerHour: number(search, 'oneMonthPerHour', DEFAULT_MODEL_UNIT_TERMS.oneMonthPerHour),
            sixMonthPerHour: number(search, 'sixMonthPerHour', DEFAULT_MODEL_UNIT_TERMS.sixMonthPerHour),
            inputTokensPerMinute: number(search, 'inputTokensPerMinute', DEFAULT_MODEL_UNIT_TERMS.inputTokensPerMinute) || 1,
            outputTokensPerMinute: number(search, 'outputTokensPerMinute', DEFAULT_MODEL_UNIT_TERMS.outputTokensPerMinute) || 1,
          },
        });
        return send(response, 200, toJson(report));
      }
      case 'export':
        return exportFile(url, response);
      default:
        return fail(response, 404, `no analytics route ${method}`, 'not_found');
    }
  }

  /** COPY into a temporary file, then stream it: the caller (the CLI) writes it where asked. */
  async function exportFile(url: URL, response: GatewayResponse): Promise<void> {
    const format = (url.searchParams.get('format') ?? 'parquet') as ExportFormat;
    if (format !== 'parquet' && format !== 'csv') throw new RangeError(`format must be parquet or csv, got "${format}"`);
    const parameters = analyticsParameters(url.searchParams);
    const folder = mkdtempSync(join(tmpdir(), 'costgate-export-'));
    const path = join(folder, `ledger.${format}`);
    try {
      const rows = await ledger.exportRows({
        format,
        path,
        ...(parameters.from !== undefined ? { from: parameters.from } : {}),
        ...(parameters.to !== undefined ? { to: parameters.to } : {}),
      });
      response.writeHead(200, {
        'content-type': format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet',
        'content-length': String(statSync(path).size),
        'x-costgate-rows': String(rows),
      });
      await new Promise<void>((resolve, reject) => {
        const stream = createReadStream(path);
        stream.on('error', reject);
        response.on('close', () => resolve());
        stream.pipe(response as NodeJS.WritableStream);
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  async function dashboard(pathname: string, response: GatewayResponse): Promise<void> {
    const root = options.dashboardDir;
    if (!root || !existsSync(join(root, 'index.html'))) return fail(response, 404, 'dashboard assets are not built: run npm run build:dashboard', 'not_found');
    const relative = pathname === '/dashboard' || pathname === '/dashboard/' ? 'index.html' : pathname.slice('/dashboard/'.length);
    const file = normalize(join(root, relative));
    if (!file.startsWith(normalize(root)) || !existsSync(file) || !statSync(file).isFile()) return fail(response, 404, `no dashboard file ${relative}`, 'not_found');
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': String(body.length) });
    response.end(body);
  }

  return async function handlePage(request: GatewayRequest, response: GatewayResponse, pathname: string, rawUrl: string): Promise<boolean> {
    if (pathname === '/dashboard' || pathname.startsWith('/dashboard/')) {
      await dashboard(pathname, response);
      return true;
    }
    const isMetrics = pathname === '/metrics' && options.metrics !== undefined;
    if (!isMetrics && !pathname.startsWith(ANALYTICS_PREFIX)) return false;
    if (!adminAuthorized(request, options.adminKey)) {
      fail(response, 401, adminRefusal(options.adminKey), 'authentication_error');
      return true;
    }
    if (isMetrics) {
      send(response, 200, options.metrics?.render() ?? '', 'text/plain; version=0.0.4; charset=utf-8');
      return true;
    }
    try {
      await analytics(pathname.slice(ANALYTICS_PREFIX.length), new URL(rawUrl, 'http://gateway'), response);
    } catch (error) {
      const known = error instanceof RangeError || error instanceof BreakEvenInputError;
      if (!response.headersSent) fail(response, known ? 400 : 500, (error as Error).message, known ? 'invalid_request_error' : 'internal_error');
    }
    return true;
  };
}
