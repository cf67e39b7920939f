import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's Postgres, as tests use it (trust auth, database `test`). */
export const TEST_POSTGRES_URL = process.env.COSTGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Unique schemas for one test run (other test files use the same database concurrently), each a
 * fresh, empty ledger; `dropAll` removes every schema this run made.
 */
export function testSchemas(prefix: string): { next(): string; url(schema: string, base?: string): string; dropAll(): Promise<void> } {
  const run = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const made: string[] = [];
  return {
    next() {
      const schema = `${run}_${made.length + 1}`;
      made.push(schema);
      return schema;
    },
    url(schema, base = TEST_POSTGRES_URL) {
      const url = new URL(base);
      url.searchParams.set('schema', schema);
      return url.toString();
    },
    async dropAll() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        for (const schema of made) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
