/**
 * Per-call upstream deadlines, enforced by undici: until the response headers, and between two
 * body chunks. (The connect deadline belongs to the connection pool, see UpstreamClient.)
 */
export interface UpstreamTimeouts {
  firstByteMs: number;
  idleMs: number;
}

export type TimeoutKind = 'connect' | 'first_byte' | 'idle';

const KIND_BY_CODE: Record<string, TimeoutKind> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'first_byte',
  UND_ERR_BODY_TIMEOUT: 'idle',
};

/** Which deadline an upstream error is, if it is one. */
export function timeoutKind(error: Error): TimeoutKind | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? KIND_BY_CODE[code] : undefined;
}

/** The ledger's error type for a call cut by a deadline. */
export function timeoutErrorType(kind: TimeoutKind): string {
  return `upstream_${kind}_timeout`;
}

/** A deadline that passed, with the code undici gives its own timeouts so one mapping reads both. */
export class UpstreamTimeoutError extends Error {
  readonly code: string;

  constructor(kind: 'first_byte' | 'idle', ms: number) {
    super(kind === 'first_byte' ? `no response headers within ${ms} ms` : `no response data for ${ms} ms`);
    this.name = 'UpstreamTimeoutError';
    this.code = kind === 'first_byte' ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT';
  }
}

/**
 * The first-byte and idle deadlines of one upstream call, on native timers: undici's own are
 * checked about once a second, too coarse for sub-second settings. While the gateway holds the
 * upstream paused (the client reads slowly), the idle deadline does not run.
 */
export class UpstreamDeadline {
  #timer: NodeJS.Timeout | undefined;
  #abort: ((error: Error) => void) | undefined;

  constructor(private readonly timeouts: UpstreamTimeouts) {}

  start(abort: (error: Error) => void): void {
    this.#abort = abort;
    this.#arm('first_byte', this.timeouts.firstByteMs);
  }

  headersArrived(): void {
    this.#arm('idle', this.timeouts.idleMs);
  }

  data(): void {
    this.#timer?.refresh();
  }

  hold(): void {
    this.clear();
  }

  resume(): void {
    this.#arm('idle', this.timeouts.idleMs);
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(kind: 'first_byte' | 'idle', ms: number): void {
    this.clear();
    this.#timer = setTimeout(() => this.#abort?.(new UpstreamTimeoutError(kind, ms)), ms);
    this.#timer.unref();
  }
}
