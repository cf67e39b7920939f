import type { ProviderId } from '../../core/provider-id.ts';
import { bedrockOperation } from '../../providers/bedrock/bedrock-adapter.ts';
import { OPENAI_OPERATIONS } from '../../providers/openai/openai-adapter.ts';
import type { Operation, ParsedCall, ProviderAdapter } from '../../providers/provider.ts';
import type { UpstreamClient } from '../forward/upstream-client.ts';
import type { EmbedOptions, Embedder, Embedding, EmbeddingCall } from './embedder.ts';
import { normalize } from './vector-index.ts';

export class EmbeddingError extends Error {
  override name = 'EmbeddingError';
  constructor(
    message: string,
    readonly calls: EmbeddingCall[],
  ) {
    super(message);
  }
}

interface BufferedReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends one request through the gateway's own upstream pools and collects the whole reply. */
function sendBuffered(upstream: UpstreamClient, adapter: ProviderAdapter, call: ParsedCall, signal: AbortSignal): Promise<BufferedReply> {
  return adapter.prepareUpstream(call, false).then(
    (request) =>
      new Promise<BufferedReply>((resolve, reject) => {
        let status = 0;
        let headers: BufferedReply['headers'] = {};
        const chunks: Buffer[] = [];
        upstream.send(request, signal, {
          onStart(statusCode, replyHeaders) {
            status = statusCode;
            headers = replyHeaders;
          },
          onData(chunk) {
            chunks.push(chunk);
            return true;
          },
          onEnd: () => resolve({ status, headers, body: Buffer.concat(chunks) }),
          onError: reject,
        });
      }),
  );
}

function jsonCall(operation: Operation, model: string, body: Record<string, unknown>, options: EmbedOptions | undefined): ParsedCall {
  const headers: ParsedCall['headers'] = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [name, value] of Object.entries(options?.headers ?? {})) if (value !== undefined) headers[name] = value;
  return { operation, body, rawBody: Buffer.from(JSON.stringify(body)), model, stream: false, headers };
}

function toVector(values: unknown): Float32Array | undefined {
  let vector: Float32Array | undefined;
  if (typeof values === 'string') {
    const bytes = Buffer.from(values, 'base64');
    vector = new Float32Array(bytes.length / 4);
    Buffer.from(vector.buffer).set(bytes.subarray(0, vector.length * 4));
  } else if (Array.isArray(values) && values.every((value) => typeof value === 'number')) {
    vector = Float32Array.from(values as number[]);
  }
  return vector && normalize(vector) ? vector : undefined;
}

interface RemoteOptions {
  adapter: ProviderAdapter;
  upstream: UpstreamClient;
  model: string;
  dimensions: number | undefined;
  timeoutMs: number;
}

function timeoutSignal(timeoutMs: number, outer: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return outer ? AbortSignal.any([timeout, outer]) : timeout;
}

function record(provider: ProviderId, endpoint: string, model: string, adapter: ProviderAdapter, call: ParsedCall, reply: BufferedReply, startedAt: number): EmbeddingCall {
  const facts = adapter.readResponse(call, reply.status, reply.headers, reply.body);
  return { provider, endpoint, model, usage: facts.usage, status: reply.status, latencyMs: performance.now() - startedAt };
}

/**
 * An OpenAI-compatible /v1/embeddings endpoint, reached through the gateway's own OpenAI
 * configuration (base URL and key), so any compatible server, or the emulator, works.
 */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;

  constructor(private readonly options: RemoteOptions) {
    this.id = `openai:${options.model}:${options.dimensions ?? 'native'}`;
  }

  async embed(texts: readonly string[], embedOptions?: EmbedOptions): Promise<Embedding> {
    const { adapter, upstream, model, dimensions, timeoutMs } = this.options;
    const body: Record<string, unknown> = { model, input: texts, encoding_format: 'base64' };
    if (dimensions !== undefined) body.dimensions = dimensions;
    const call = jsonCall(OPENAI_OPERATIONS.embeddings, model, body, embedOptions);
    const startedAt = performance.now();
    const reply = await sendBuffered(upstream, adapter, call, timeoutSignal(timeoutMs, embedOptions?.signal));
    const calls = [record('openai', 'embeddings', model, adapter, call, reply, startedAt)];
    if (reply.status !== 200) throw new EmbeddingError(`embeddings returned ${reply.status}: ${reply.body.toString('utf8').slice(0, 200)}`, calls);
    const parsed = JSON.parse(reply.body.toString('utf8')) as { data?: Array<{ index?: number; embedding?: unknown }> };
    const vectors: Array<Float32Array | undefined> = texts.map(() => undefined);
    for (const [position, item] of (parsed.data ?? []).entries()) vectors[item.index ?? position] = toVector(item.embedding);
    return { vectors, calls };
  }
}

/** Amazon Titan Text Embeddings V2 through Bedrock InvokeModel, signed with the gateway's AWS credentials. */
export class TitanEmbedder implements Embedder {
  readonly id: string;
  private readonly operation: Operation;

  constructor(private readonly options: RemoteOptions) {
    this.id = `bedrock:${options.model}:${options.dimensions ?? 1024}`;
    this.operation = bedrockOperation('invoke', encodeURIComponent(options.model));
  }

  async embed(texts: readonly string[], embedOptions?: EmbedOptions): Promise<Embedding> {
    const { adapter, upstream, model, dimensions, timeoutMs } = this.options;
    const calls: EmbeddingCall[] = [];
    // Titan takes one text per call.
    const vectors = await Promise.all(
      texts.map(async (text) => {
        const body = { inputText: text, dimensions: dimensions ?? 1024, normalize: true, embeddingTypes: ['float'] };
        const call = jsonCall(this.operation, model, body, undefined);
        const startedAt = performance.now();
        const reply = await sendBuffered(upstream, adapter, call, timeoutSignal(timeoutMs, embedOptions?.signal));
        calls.push(record('bedrock', 'invoke', model, adapter, call, reply, startedAt));
        if (reply.status !== 200) throw new EmbeddingError(`Titan embeddings returned ${reply.status}: ${reply.body.toString('utf8').slice(0, 200)}`, calls);
        const parsed = JSON.parse(reply.body.toString('utf8')) as { embedding?: unknown; embeddingsByType?: { float?: unknown } };
        return toVector(parsed.embedding ?? parsed.embeddingsByType?.float);
      }),
    );
    return { vectors, calls };
  }
}
