import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Each benchmarked server runs in its own process so its CPU time can be read on its own:
 * `process.cpuUsage()` covers every thread of one process and nothing else, whereas timing
 * inside a shared process would mix in the load generator and the emulator.
 * The parent drives each child over the IPC channel that `fork` opens.
 */

export interface ProcessMeasurement {
  /** CPU time (user + system, all threads) since the process started, in microseconds. */
  cpuMicroseconds: number;
  /** The JavaScript thread's share of it, where Linux tells (native threads such as DuckDB's make the rest). */
  mainThreadCpuMicroseconds: number | undefined;
  rssBytes: number;
  /** Highest resident set size over the process's life. */
  peakRssBytes: number;
}

/** What a child serves, plus hooks the parent can call between measured windows. */
export interface ServedTarget {
  url: string;
  /** Completes work deferred from the requests just served (a ledger flush), so the window pays for it. */
  settle?(): Promise<void>;
  /** Stops serving; the facts returned (rows written, say) are handed to the parent. */
  close(): Promise<Record<string, unknown>>;
}

type ParentMessage = { type: 'measure' } | { type: 'close' };

type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'measurement'; measurement: ProcessMeasurement }
  | { type: 'closed'; facts: Record<string, unknown> }
  | { type: 'failed'; message: string };

/** Nanosecond-precise time on CPU of the calling thread, from the scheduler's statistics. */
function mainThreadCpuMicroseconds(): number | undefined {
  try {
    const nanoseconds = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
    return Number.isFinite(nanoseconds) ? nanoseconds / 1000 : undefined;
  } catch {
    return undefined;
  }
}

function measureSelf(): ProcessMeasurement {
  const cpu = process.cpuUsage();
  return {
    cpuMicroseconds: cpu.user + cpu.system,
    mainThreadCpuMicroseconds: mainThreadCpuMicroseconds(),
    rssBytes: process.memoryUsage.rss(),
    // resourceUsage() reports maxRSS in kilobytes.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

function reply(message: ChildMessage, sent: () => void = () => {}): void {
  process.send?.(message, sent);
}

/** Child side: starts the target, then answers the parent's commands one at a time. */
export function serveTarget(start: () => Promise<ServedTarget>): void {
  if (!process.send) throw new Error('run this file through the benchmark (bench/overhead.ts); it needs an IPC channel');
  // An orphaned child would keep its port and CPU busy after a crashed parent.
  process.on('disconnect', () => process.exit(0));
  let queue = Promise.resolve();
  start().then(
    (target) => {
      process.on('message', (message: ParentMessage) => {
        queue = queue.then(async () => {
          if (message.type === 'measure') {
            await target.settle?.();
            reply({ type: 'measurement', measurement: measureSelf() });
          } else {
            const facts = await target.close();
            // Exit only once the answer has left, or the parent would wait for it forever.
            reply({ type: 'closed', facts }, () => process.exit(0));
          }
        }).catch((error: unknown) => reply({ type: 'failed', message: String((error as Error).stack ?? error) }));
      });
      reply({ type: 'ready', url: target.url });
    },
    (error: unknown) => {
      reply({ type: 'failed', message: String((error as Error).stack ?? error) });
      process.exit(1);
    },
  );
}

export interface SpawnOptions {
  /** Extra Node flags, such as --cpu-prof. */
  nodeFlags?: readonly string[];
  environment?: Record<string, string>;
}

/** Parent side: one benchmarked server in a child process. */
export class TargetProcess {
  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async spawn(name: string, script: string, args: readonly string[], options: SpawnOptions = {}): Promise<TargetProcess> {
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), [...args], {
      execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
      env: { ...process.env, ...options.environment },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${name} exited with code ${code} before it was ready`));
      child.once('exit', onExit);
      child.once('message', (message: ChildMessage) => {
        child.off('exit', onExit);
        if (message.type === 'ready') resolve(message.url);
        else reject(new Error(`${name} failed to start: ${message.type === 'failed' ? message.message : message.type}`));
      });
    });
    return new TargetProcess(name, url, child);
  }

  private ask(message: ParentMessage): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${this.name} exited with code ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (answer: ChildMessage) => {
        this.child.off('exit', onExit);
        if (answer.type === 'failed') reject(new Error(`${this.name}: ${answer.message}`));
        else resolve(answer);
      });
      this.child.send(message);
    });
  }

  async measure(): Promise<ProcessMeasurement> {
    const answer = await this.ask({ type: 'measure' });
    if (answer.type !== 'measurement') throw new Error(`${this.name} answered ${answer.type} to measure`);
    return answer.measurement;
  }

  /** Asks the child to close cleanly (so a CPU profile gets written) and waits for it to exit. */
  async close(): Promise<Record<string, unknown>> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    const answer = await this.ask({ type: 'close' });
    await exited;
    return answer.type === 'closed' ? answer.facts : {};
  }

  /** Last resort when the parent fails part way. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}
