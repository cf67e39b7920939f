import type { Attribution } from '../core/attribution.ts';
import type { GatewayError } from '../core/errors.ts';
import type { ProviderId } from '../core/provider-id.ts';
import type { Usage } from '../core/usage.ts';

/** One gateway route of one provider, e.g. OpenAI "chat.completions" or Bedrock "converse-stream". */
export interface Operation {
  provider: ProviderId;
  /** Stable name recorded on the ledger row. */
  endpoint: string;
  /** Upstream path (after the base URL), e.g. "/v1/chat/completions" or "/model/{id}/converse". */
  upstreamPath: string;
  /** Model from the URL (Bedrock) when the body does not carry it. */
  pathModel?: string;
  /** Whether the response is a stream regardless of the body (Bedrock *-stream routes). */
  streamByRoute?: boolean;
  /** Whether the operation can be priced from usage at all (GET /v1/models cannot). */
  billable: boolean;
}

/** What an adapter learned from the response once it has ended. */
export interface ResponseFacts {
  usage: Usage | undefined;
  servedModel: string | undefined;
  stopReason: string | undefined;
  errorType: string | undefined;
}

/**
 * Watches a streamed response as it passes through. `transform` returns the bytes to send to the
 * client (usually the same buffer), letting an adapter remove what the gateway itself asked for.
 */
export interface StreamObserver {
  transform(chunk: Buffer): Buffer;
  finish(): ResponseFacts;
}

export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export interface ParsedCall {
  operation: Operation;
  /** The client's body, parsed; unknown fields are kept as they are. */
  body: Record<string, unknown> | undefined;
  /** The client's raw body bytes, forwarded untouched unless a stage changed the body. */
  rawBody: Buffer | undefined;
  model: string | undefined;
  stream: boolean;
  /** Incoming request headers, lower-cased names. */
  headers: Record<string, string | string[] | undefined>;
}

export interface ProviderAdapter {
  readonly id: ProviderId;
  /** Attribution the provider's own body fields carry (OpenAI `user`/`metadata`, Anthropic `metadata.user_id`). */
  bodyAttribution(call: ParsedCall): Partial<Attribution>;
  /**
   * Builds the upstream request. `bodyChanged` tells the adapter it must re-serialize `call.body`;
   * otherwise it forwards `call.rawBody` byte for byte.
   */
  prepareUpstream(call: ParsedCall, bodyChanged: boolean): Promise<UpstreamRequest>;
  /** Facts from a complete (non-streamed) response body. */
  readResponse(call: ParsedCall, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): ResponseFacts;
  observeStream(call: ParsedCall, status: number): StreamObserver;
  /** Renders a gateway-raised error in this provider's wire shape. */
  renderError(error: GatewayError): { status: number; headers: Record<string, string>; body: string };
}
