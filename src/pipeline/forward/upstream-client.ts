import { Pool, type Dispatcher } from 'undici';
import type { UpstreamRequest } from '../../providers/provider.ts';
import { UpstreamDeadline, type UpstreamTimeouts } from './upstream-timeouts.ts';

export interface UpstreamHandler {
  onStart(status: number, headers: Record<string, string | string[] | undefined>): void;
  /** Return false to pause the upstream until `resume` is called. */
  onData(chunk: Buffer, resume: () => void): boolean;
  onEnd(): void;
  onError(error: Error): void;
}

/**
 * Keep-alive connection pools per upstream origin, driven through undici's lowest-level
 * `dispatch` so the gateway adds as little CPU per request as a bare proxy would.
 */
export class UpstreamClient {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: { connections?: number; headersTimeoutMs?: number; bodyTimeoutMs?: number; connectTimeoutMs?: number } = {}) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connections ?? 128,
        // Long generations can take minutes before headers; streams can idle between tokens.
        headersTimeout: this.options.headersTimeoutMs ?? 10 * 60_000,
        bodyTimeout: this.options.bodyTimeoutMs ?? 10 * 60_000,
        keepAliveTimeout: 30_000,
        ...(this.options.connectTimeoutMs === undefined ? {} : { connect: { timeout: this.options.connectTimeoutMs } }),
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  send(request: UpstreamRequest, signal: AbortSignal, handler: UpstreamHandler, timeouts?: UpstreamTimeouts): void {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      deadline?.clear();
      return true;
    };
    const deadline = timeouts ? new UpstreamDeadline(timeouts) : undefined;
    const dispatchHandler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        if (signal.aborted) {
          controller.abort(new Error('client aborted'));
          return;
        }
        signal.addEventListener('abort', () => controller.abort(new Error('client aborted')), { once: true });
        deadline?.start((error) => controller.abort(error));
      },
      onResponseStart(_controller, statusCode, headers) {
        deadline?.headersArrived();
        handler.onStart(statusCode, headers as Record<string, string | string[] | undefined>);
      },
      onResponseData(controller, chunk) {
        deadline?.data();
        const keepGoing = handler.onData(chunk, () => {
          if (!settled) deadline?.resume();
          controller.resume();
        });
        if (!keepGoing) {
          deadline?.hold();
          controller.pause();
        }
      },
      onResponseEnd() {
        if (settle()) handler.onEnd();
      },
      onResponseError(_controller, error) {
        if (settle()) handler.onError(error);
      },
    };
    this.pool(request.url.origin).dispatch(
      {
        origin: request.url.origin,
        path: request.url.pathname + request.url.search,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body ?? null,
      },
      dispatchHandler,
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}
