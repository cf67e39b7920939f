import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { REDIS_DEFAULTS } from '../../../config/redis-config.ts';
import { createSharedRedis, type SharedRedis } from '../shared-redis.ts';

/** The machine's Redis, used by tests under a key prefix of their own (never flushed, never stopped). */
export const TEST_REDIS_URL = process.env.COSTGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses. */
export function uniquePrefix(): string {
  return `costgate-test:${randomUUID()}:`;
}

export function connectTestRedis(keyPrefix: string, url = TEST_REDIS_URL, log: (line: string) => void = () => {}): SharedRedis {
  return createSharedRedis({ config: { ...REDIS_DEFAULTS, url, keyPrefix, maxReconnectDelayMs: 200 }, log });
}

/** Deletes every key under `keyPrefix` (this run's keys only). */
export async function deleteKeys(redis: SharedRedis, keyPrefix: string): Promise<void> {
  if (!(await redis.whenReady(2_000))) return;
  let cursor = '0';
  do {
    const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.client.del(...keys);
  } while (cursor !== '0');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own on a free port, without persistence: the one a test may kill. */
export interface ThrowawayRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (empty, as after a crash without persistence). */
  restart(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server did not open port ${port}`);
}

export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(port, child);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await launch();
  return { url: `redis://127.0.0.1:${port}`, port, stop, restart: launch };
}
