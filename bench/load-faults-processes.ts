import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The emulator and the gateway replicas of bench:load, each a `costgate` CLI process as an
 * operator would run it, so a replica can be killed with SIGKILL and started again on the same
 * port (which is what makes it find and replay its own spool). Their logs go to files.
 */

const CLI = fileURLToPath(new URL('../bin/costgate.js', import.meta.url));

/** A port nothing listens on right now (the OS's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class CliProcess {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;
  /** Times started, including the first. */
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: readonly string[],
    private readonly environment: Record<string, string>,
    logPath: string,
    /** A line of the process's stderr that says it is serving. */
    private readonly readyLine: string,
  ) {
    this.log = createWriteStream(logPath, { flags: 'a' });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeoutMs = 60_000): Promise<number> {
    const startedAt = performance.now();
    this.starts += 1;
    this.log.write(`--- start ${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [CLI, ...this.args, '--port', String(this.port)], {
      env: { ...process.env, ...this.environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      let ready = false;
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready within ${timeoutMs} ms (log: ${this.log.path})`)), timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited with code ${code} before it was ready (log: ${this.log.path})`));
      };
      child.once('exit', onExit);
      child.stderr?.on('data', (chunk: Buffer) => {
        this.log.write(chunk);
        if (ready) return;
        seen += chunk.toString('utf8');
        if (seen.includes(this.readyLine)) {
          ready = true;
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve();
        } else if (seen.length > 65_536) seen = seen.slice(-4096);
      });
    });
    return performance.now() - startedAt;
  }

  /** SIGKILL: no drain, no flush; what it acknowledged is only in its spool. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.log.write(`--- killed (SIGKILL) at ${new Date().toISOString()}\n`);
  }

  /** SIGTERM: the gateway drains in-flight calls and flushes its ledger before exiting. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    this.log.write(`--- stopped (SIGTERM) at ${new Date().toISOString()}, exit code ${code}\n`);
    return code;
  }

  /** Last resort when the benchmark fails part way. */
  forceKill(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }

  closeLog(): Promise<void> {
    return new Promise((resolve) => this.log.end(resolve));
  }
}

export function emulatorProcess(port: number, latencyMs: number, logPath: string): CliProcess {
  return new CliProcess('emulator', port, ['emulate', '--latency-ms', String(latencyMs)], {}, logPath, 'listening on');
}

export function gatewayProcess(name: string, port: number, configPath: string, environment: Record<string, string>, logPath: string): CliProcess {
  return new CliProcess(name, port, ['serve', '--config', configPath], environment, logPath, 'gateway listening on');
}
