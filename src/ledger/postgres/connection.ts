import pg from 'pg';

/**
 * Where a Postgres ledger lives: a postgres:// (or postgresql://) URL. `?schema=` picks the schema
 * the tables go in (default "costgate", created if missing); every other parameter (sslmode,
 * application_name, options...) goes to the pg driver as given, except that the schema replaces
 * any search_path set through `options`.
 */
export interface PostgresLocation {
  /** The URL without `schema` and `options`, for the driver. */
  connectionString: string;
  schema: string;
  /** The URL's `options` (server settings such as -c work_mem=64MB), if any. */
  serverOptions: string;
  /** host:port/database/schema, without credentials: for messages and spool folder names. */
  label: string;
}

export const DEFAULT_SCHEMA = 'costgate';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export function parsePostgresUrl(location: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch (error) {
    throw new Error(`ledger URL ${redact(location)} is not a valid postgres:// URL`, { cause: error });
  }
  const schema = url.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  // Unquoted everywhere (search_path, DDL), so only plain lower-case identifiers are accepted.
  if (!SCHEMA_NAME.test(schema)) throw new Error(`ledger schema "${schema}" must be a lower-case identifier (letters, digits, _)`);
  const serverOptions = url.searchParams.get('options') ?? '';
  url.searchParams.delete('schema');
  url.searchParams.delete('options');
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  return {
    connectionString: url.toString(),
    schema,
    serverOptions,
    label: `${url.hostname || 'localhost'}:${url.port || '5432'}/${database}/${schema}`,
  };
}

/** The URL with its password hidden, for messages. */
export function redact(location: string): string {
  return location.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

export interface PoolOptions {
  /** Connections kept; a gateway writes from one flush at a time, reports take the rest. Default 4. */
  max?: number;
  /** Longest a statement may run on the server before it is cancelled. Default 120 s. */
  statementTimeoutMs?: number;
  /** Longest a connection attempt may take. Default 5 s. */
  connectTimeoutMs?: number;
}

/**
 * A pool whose every connection uses the ledger's schema and UTC, and that cannot hang when the
 * server vanishes: connecting, each statement and each query's round trip are bounded, and TCP
 * keepalive notices a peer that went away silently. Errors of idle connections are reported,
 * not thrown (an unhandled 'error' event would end the process).
 */
export function createPool(location: PostgresLocation, options: PoolOptions = {}, onError?: (error: Error) => void): pg.Pool {
  const statementTimeoutMs = options.statementTimeoutMs ?? 120_000;
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    // The client gives up a little after the server would have, in case the server cannot answer at all.
    query_timeout: statementTimeoutMs + 5_000,
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // Later -c settings win, so the schema overrides a search_path in the URL's options.
    options: `${location.serverOptions} -c search_path=${location.schema} -c TimeZone=UTC`.trim(),
  });
  pool.on('error', (error) => onError?.(error));
  return pool;
}

/** SQL with $name placeholders and their values, as the DuckDB backend writes it. */
export interface NamedQuery {
  sql: string;
  values: Record<string, unknown>;
}

/**
 * Turns $name placeholders into pg's $1, $2... (a name used twice gets one number). Names are
 * letters, digits and _ after a $; the SQL here has no other use of $ (no dollar quoting).
 */
export function positional({ sql, values }: NamedQuery): { text: string; values: unknown[] } {
  const numbers = new Map<string, number>();
  const list: unknown[] = [];
  const text = sql.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
    let number = numbers.get(name);
    if (number === undefined) {
      if (!(name in values)) throw new Error(`no value for query parameter $${name}`);
      list.push(values[name]);
      number = list.length;
      numbers.set(name, number);
    }
    return `$${number}`;
  });
  return { text, values: list };
}
