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
