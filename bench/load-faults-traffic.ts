import { Pool } from 'undici';

/**
 * The client side of bench:load: workers sending a mix of OpenAI and Anthropic calls, JSON and
 * streamed, under two virtual keys, spread round robin over the gateway replicas (the load
 * balancer). A call whose connection failed before any response header is sent again to the next
 * replica (failover, as a load balancer's health check would); anything else is the call's outcome.
 */

export type CallKind = 'openai-json' | 'openai-stream' | 'anthropic-json' | 'anthropic-stream';
export const CALL_KINDS: readonly CallKind[] = ['openai-json', 'openai-stream', 'anthropic-json', 'anthropic-stream'];

export type KeyName = 'main' | 'capped';

export type Outcome = 'ok' | 'refused' | 'failed';

export interface CallRecord {
  kind: CallKind;
  key: KeyName;
  /** Ms since the run started, when the call was first sent. */
  startedAt: number;
  latencyMs: number;
  /** Replicas the call was sent to, in order (more than one = failover). */
  replicas: string[];
  outcome: Outcome;
  /** Why it was refused or failed; absent for ok. */
  cause?: string;
  status?: number;
  /** x-costgate-request-id of the response, when headers arrived. */
  requestId?: string;
  /** x-costgate-served-by, when a fallback answered. */
  servedBy?: string;
}

export interface Replica {
  name: string;
  url: string;
}

export interface TrafficOptions {
  replicas: readonly Replica[];
  secrets: Record<KeyName, string>;
  /** Share of calls made with the capped key. */
  cappedShare: number;
  concurrency: number;
  durationMs: number;
  maxTokens: number;
  /** A worker pauses this long after a call that failed, as a client backing off would, so a fast-failing replica is not hammered in a tight loop. */
  failurePauseMs: number;
}

/** The error a client can see in either provider's error shape: type and message. */
function errorOf(body: string): { type: string; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { type?: unknown; message?: unknown } };
    return { type: String(parsed.error?.type ?? 'unknown'), message: String(parsed.error?.message ?? '') };
  } catch {
    return { type: 'unparsed', message: body.slice(0, 80) };
  }
}

/** A refusal the bench expects (the capped key over its budget); everything else non-2xx is a failure. */
function classify(status: number, body: string, key: KeyName): { outcome: Outcome; cause: string } {
  const error = errorOf(body);
  // Checked first: this message starts with "budget " too.
  if (status === 429 && error.message.startsWith('budget counters are unavailable')) return { outcome: 'failed', cause: 'budget counters unavailable (429, fail closed)' };
  if (status === 429 && error.message.startsWith('budget ')) {
    return key === 'capped' ? { outcome: 'refused', cause: 'budget exhausted (429)' } : { outcome: 'failed', cause: 'budget refused on the main key (429)' };
  }
  if (error.message.startsWith('the key store is unavailable')) return { outcome: 'failed', cause: `key store unavailable (${status})` };
  if (error.message.startsWith('invalid API key')) return { outcome: 'failed', cause: `invalid API key (${status})` };
  return { outcome: 'failed', cause: `upstream/gateway ${status} ${error.type}` };
}

/** A stream counts as answered only when its end marker arrived. */
function streamComplete(kind: CallKind, body: string): boolean {
  return kind === 'openai-stream' ? body.includes('data: [DONE]') : body.includes('message_stop');
}

function requestFor(kind: CallKind, key: KeyName, secret: string, sequence: number, maxTokens: number): { path: string; headers: Record<string, string>; body: string } {
  const stream = kind.endsWith('stream');
  const content = `Call ${sequence} (${key}): summarise the order status for the customer in two sentences.`;
  const common = { 'content-type': 'application/json', 'x-costgate-feature': `load-${kind}` };
  if (kind.startsWith('openai')) {
    return {
      path: '/v1/chat/completions',
      headers: { ...common, authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: maxTokens, stream, messages: [{ role: 'user', content }] }),
    };
  }
  return {
    path: '/v1/messages',
    headers: { ...common, 'x-api-key': secret, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: maxTokens, stream, messages: [{ role: 'user', content }] }),
  };
}

/** Errors that mean the replica never took the call: nothing listening, or the socket died before headers. */
function connectionError(error: unknown): string {
  const code = (error as { code?: string }).code ?? '';
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? '';
  return code || cause || (error as Error).message;
}

export class Traffic {
  private readonly pools: Map<string, Pool>;
  private sequence = 0;
  private nextReplica = 0;
  readonly records: CallRecord[] = [];

  constructor(private readonly options: TrafficOptions) {
    this.pools = new Map(options.replicas.map((replica) => [replica.name, new Pool(replica.url, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 10_000 })]));
  }

  private async attempt(replica: Replica, request: ReturnType<typeof requestFor>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string } | { error: string; afterHeaders: boolean; status?: number; requestId?: string }> {
    const pool = this.pools.get(replica.name);
    if (!pool) throw new Error(`no pool for ${replica.name}`);
    let status: number | undefined;
    let requestId: string | undefined;
    try {
      const response = await pool.request({ path: request.path, method: 'POST', headers: request.headers, body: request.body, headersTimeout: 60_000, bodyTimeout: 60_000 });
      status = response.statusCode;
      const header = response.headers['x-costgate-request-id'];
      requestId = typeof header === 'string' ? header : undefined;
      const body = await response.body.text();
      return { status: response.statusCode, headers: response.headers, body };
    } catch (error) {
      return { error: connectionError(error), afterHeaders: status !== undefined, ...(status !== undefined ? { status } : {}), ...(requestId ? { requestId } : {}) };
    }
  }

  private async call(startedAtRun: number): Promise<CallRecord> {
    const { replicas, secrets, cappedShare, maxTokens } = this.options;
    this.sequence += 1;
    // Drawn at random: a kind taken in turn would go to the same replica every time (4 kinds, 2 replicas).
    const kind = CALL_KINDS[Math.floor(Math.random() * CALL_KINDS.length)] ?? 'openai-json';
    const key: KeyName = Math.random() < cappedShare ? 'capped' : 'main';
    const request = requestFor(kind, key, secrets[key], this.sequence, maxTokens);
    const sentAt = performance.now();
    const first = this.nextReplica++ % replicas.length;
    const record: CallRecord = { kind, key, startedAt: startedAtRun, latencyMs: 0, replicas: [], outcome: 'failed' };
    for (let offset = 0; offset < replicas.length; offset += 1) {
      const replica = replicas[(first + offset) % replicas.length];
      if (!replica) break;
      record.replicas.push(replica.name);
      const answer = await this.attempt(replica, request);
      if ('error' in answer) {
        if (!answer.afterHeaders) {
          record.cause = `no answer: ${answer.error}`;
          continue;
        }
        record.cause = `connection lost mid-response: ${answer.error}`;
        if (answer.status !== undefined) record.status = answer.status;
        if (answer.requestId) record.requestId = answer.requestId;
        break;
      }
      record.status = answer.status;
      const requestId = answer.headers['x-costgate-request-id'];
      if (typeof requestId === 'string') record.requestId = requestId;
      const servedBy = answer.headers['x-costgate-served-by'];
      if (typeof servedBy === 'string') record.servedBy = servedBy;
      if (answer.status >= 200 && answer.status < 300) {
        if (kind.endsWith('stream') && !streamComplete(kind, answer.body)) {
          record.cause = 'stream ended without its end marker';
        } else {
          record.outcome = 'ok';
          delete record.cause;
        }
      } else {
        const { outcome, cause } = classify(answer.status, answer.body, key);
        record.outcome = outcome;
        record.cause = cause;
      }
      break;
    }
    record.latencyMs = performance.now() - sentAt;
    return record;
  }

  /** Runs the workers for the duration; `runStart` is the performance.now() that t=0 stands for. */
  async run(runStart: number): Promise<void> {
    const deadline = runStart + this.options.durationMs;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const record = await this.call(performance.now() - runStart);
        this.records.push(record);
        if (record.outcome !== 'ok') await new Promise((resolve) => setTimeout(resolve, this.options.failurePauseMs));
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
