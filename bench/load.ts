import { Pool, type Dispatcher } from 'undici';

/**
 * The load generator: N workers, each with one request in flight at a time, over a keep-alive
 * undici Pool, for a fixed time. Requests go through `dispatch()` so the generator spends as
 * little of the shared CPUs as it can, and times are taken in the handler callbacks themselves.
 */

export interface LoadRequest {
  path: string;
  headers: readonly string[];
  body: Buffer;
}

export interface LoadResult {
  requests: number;
  failures: number;
  firstFailure: string | undefined;
  elapsedMs: number;
  /** Request sent to last byte received, per successful request. */
  latenciesMs: number[];
  /** Request sent to first body byte received, per successful request. */
  firstByteMs: number[];
}

interface Sample {
  ok: boolean;
  latencyMs: number;
  firstByteMs: number;
  failure?: string;
}

export class LoadGenerator {
  private readonly pool: Pool;
  private readonly origin: string;

  constructor(url: string, connections: number) {
    this.origin = new URL(url).origin;
    this.pool = new Pool(this.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  private send(request: LoadRequest): Promise<Sample> {
    return new Promise((resolve) => {
      const sentAt = performance.now();
      let firstByteAt = 0;
      let status = 0;
      const handler: Dispatcher.DispatchHandler = {
        // undici takes a handler for the new callback API only when it has onRequestStart.
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          status = statusCode;
        },
        onResponseData() {
          if (firstByteAt === 0) firstByteAt = performance.now();
        },
        onResponseEnd() {
          const endedAt = performance.now();
          const ok = status === 200;
          resolve({
            ok,
            latencyMs: endedAt - sentAt,
            firstByteMs: (firstByteAt || endedAt) - sentAt,
            ...(ok ? {} : { failure: `HTTP ${status}` }),
          });
        },
        onResponseError(_controller, error) {
          resolve({ ok: false, latencyMs: 0, firstByteMs: 0, failure: error.message });
        },
      };
      this.pool.dispatch(
        { origin: this.origin, path: request.path, method: 'POST', headers: request.headers as string[], body: request.body },
        handler,
      );
    });
  }

  /** Runs `concurrency` workers until `durationMs` has passed, then waits for the last responses. */
  async run(request: LoadRequest, concurrency: number, durationMs: number): Promise<LoadResult> {
    const result: LoadResult = { requests: 0, failures: 0, firstFailure: undefined, elapsedMs: 0, latenciesMs: [], firstByteMs: [] };
    const startedAt = performance.now();
    const deadline = startedAt + durationMs;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const sample = await this.send(request);
        if (sample.ok) {
          result.requests += 1;
          result.latenciesMs.push(sample.latencyMs);
          result.firstByteMs.push(sample.firstByteMs);
        } else {
          result.failures += 1;
          result.firstFailure ??= sample.failure;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    result.elapsedMs = performance.now() - startedAt;
    return result;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** One complete response, for the correctness check before any timing. */
export async function fetchOnce(
  url: string,
  request: LoadRequest,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const origin = new URL(url).origin;
  const pool = new Pool(origin, { connections: 1 });
  try {
    const response = await pool.request({ path: request.path, method: 'POST', headers: request.headers as string[], body: request.body });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  } finally {
    await pool.close();
  }
}
