import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';

/**
 * The machine's own Redis and Postgres, stopped and started by bench:load to inject outages.
 * Only a benchmark may do this (tests put a proxy in front instead): every stop is paired with
 * `restoreServices()`, which the benchmark runs in a finally block and on SIGINT.
 */

const run = promisify(execFile);

export const REDIS_PORT = 6379;
export const POSTGRES_PORT = 5432;

const REDIS_START_ARGS = ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'];

function postgresVersion(): string {
  const versions = readdirSync('/etc/postgresql');
  const version = versions[0];
  if (versions.length !== 1 || version === undefined) throw new Error(`expected one Postgres version in /etc/postgresql, found ${versions.join(', ') || 'none'}`);
  return version;
}

function postgresCluster(action: 'start' | 'stop'): Promise<unknown> {
  return run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', action]);
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function redisAnswers(): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(REDIS_PORT), 'ping'], { timeout: 2000 });
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

async function postgresAnswers(): Promise<boolean> {
  try {
    await run('pg_isready', ['-h', '127.0.0.1', '-p', String(POSTGRES_PORT)], { timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not come back within ${timeoutMs} ms`);
}

export async function stopRedis(): Promise<void> {
  // `shutdown nosave` closes the connection as Redis exits, which redis-cli reports as an error.
  await run('redis-cli', ['-p', String(REDIS_PORT), 'shutdown', 'nosave'], { timeout: 5000 }).catch(() => {});
  await waitFor(async () => !(await listening(REDIS_PORT)), 'Redis shutdown', 10_000);
}

export async function startRedis(): Promise<void> {
  if (await redisAnswers()) return;
  await run('redis-server', REDIS_START_ARGS, { timeout: 10_000 });
  await waitFor(redisAnswers, 'Redis');
}

export async function stopPostgres(): Promise<void> {
  await postgresCluster('stop');
}

export async function startPostgres(): Promise<void> {
  if (await postgresAnswers()) return;
  await postgresCluster('start');
  await waitFor(postgresAnswers, 'Postgres');
}

/** Both services up, whatever state a crash left them in; errors are reported, not thrown. */
export async function restoreServices(log: (line: string) => void): Promise<void> {
  for (const [name, start] of [['Redis', startRedis], ['Postgres', startPostgres]] as const) {
    try {
      await start();
    } catch (error) {
      log(`could not restore ${name}: ${(error as Error).message} — start it by hand`);
    }
  }
}

export async function servicesUp(): Promise<{ redis: boolean; postgres: boolean }> {
  return { redis: await redisAnswers(), postgres: await postgresAnswers() };
}
