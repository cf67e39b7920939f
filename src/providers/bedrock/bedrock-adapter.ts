import type { Attribution } from '../../core/attribution.ts';
import type { Usage } from '../../core/usage.ts';
import { anthropicBodyAttribution, readAnthropicMessage } from '../anthropic/anthropic-adapter.ts';
import { AnthropicEventTracker } from '../anthropic/anthropic-events.ts';
import { bodyBytes, forwardableHeaders, objectField, stringField } from '../forward-headers.ts';
import type { Operation, ParsedCall, ProviderAdapter, ResponseFacts, StreamObserver, UpstreamRequest } from '../provider.ts';
import { tryParseJson } from '../server-sent-events.ts';
import { bedrockErrorType, renderBedrockError } from './bedrock-errors.ts';
import { convertBedrockConverseUsage, convertTitanEmbeddingUsage } from './convert-bedrock-usage.ts';
import { EventStreamReader, headerString } from './event-stream-reader.ts';
import { createBedrockSigner, signRequest, type AwsCredentials } from './sign-request.ts';

export interface BedrockAdapterOptions {
  region: string;
  /** Runtime endpoint, e.g. https://bedrock-runtime.us-east-1.amazonaws.com */
  endpoint: string;
  credentials: AwsCredentials | undefined;
}

export type BedrockAction = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream';

export function bedrockOperation(action: BedrockAction, encodedModelId: string): Operation {
  return {
    provider: 'bedrock',
    endpoint: action,
    // Kept as the client encoded it: the signature covers this exact path.
    upstreamPath: `/model/${encodedModelId}/${action}`,
    pathModel: decodeURIComponent(encodedModelId),
    streamByRoute: action.endsWith('stream'),
    billable: true,
  };
}

// The client's signature was made for the gateway's host; the gateway signs afresh.
const CLIENT_SIGNATURE = new Set(['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'amz-sdk-invocation-id', 'amz-sdk-request']);

/** InvokeModel bodies are model-native: Anthropic Messages, Titan embeddings, or Converse-like (Nova). */
function readInvokeBody(parsed: Record<string, unknown> | undefined): ResponseFacts {
  if (parsed && 'inputTextTokenCount' in parsed) {
    return { usage: convertTitanEmbeddingUsage(parsed), servedModel: undefined, stopReason: undefined, errorType: undefined };
  }
  const usage = objectField(parsed?.usage);
  if (usage && 'inputTokens' in usage) {
    return { usage: convertBedrockConverseUsage(usage), servedModel: undefined, stopReason: stringField(parsed?.stopReason), errorType: undefined };
  }
  // The body names the Anthropic model; the ledger keeps the Bedrock id the call was billed under.
  return { ...readAnthropicMessage(parsed), servedModel: undefined };
}

function observeConverseStream(): StreamObserver {
  const reader = new EventStreamReader();
  let usage: Usage | undefined;
  let stopReason: string | undefined;
  let errorType: string | undefined;
  return {
    transform(chunk) {
      for (const message of reader.push(chunk)) {
        const type = headerString(message, ':event-type');
        if (headerString(message, ':message-type') === 'exception') {
          errorType = headerString(message, ':exception-type') ?? 'stream_exception';
        } else if (type === 'metadata') {
          usage = convertBedrockConverseUsage(objectField(tryParseJson(Buffer.from(message.body).toString('utf8')))?.usage);
        } else if (type === 'messageStop') {
          stopReason = stringField(objectField(tryParseJson(Buffer.from(message.body).toString('utf8')))?.stopReason);
        }
      }
      return chunk;
    },
    finish: () => ({ usage, servedModel: undefined, stopReason, errorType }),
  };
}

function observeInvokeStream(): StreamObserver {
  const reader = new EventStreamReader();
  const tracker = new AnthropicEventTracker();
  let errorType: string | undefined;
  return {
    transform(chunk) {
      for (const message of reader.push(chunk)) {
        if (headerString(message, ':message-type') === 'exception') {
          errorType = headerString(message, ':exception-type') ?? 'stream_exception';
          continue;
        }
        if (headerString(message, ':event-type') !== 'chunk') continue;
        const bytes = stringField(objectField(tryParseJson(Buffer.from(message.body).toString('utf8')))?.bytes);
        if (!bytes) continue;
        const event = objectField(tryParseJson(Buffer.from(bytes, 'base64').toString('utf8')));
        if (event && AnthropicEventTracker.wants(stringField(event.type))) tracker.onEvent(event);
      }
      return chunk;
    },
    finish() {
      const facts = tracker.facts();
      return { ...facts, servedModel: undefined, errorType: errorType ?? facts.errorType };
    },
  };
}

function bedrockAttribution(call: ParsedCall): Partial<Attribution> {
  if (call.operation.endpoint.startsWith('invoke')) return anthropicBodyAttribution(call.body);
  // Converse carries free-form string pairs in requestMetadata; use the same names as our headers.
  const metadata = objectField(call.body?.requestMetadata);
  if (!metadata) return {};
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (typeof value === 'string') tags[key] = value;
  const result: Partial<Attribution> = { tags };
  const feature = stringField(metadata.feature);
  const customer = stringField(metadata.customer);
  const user = stringField(metadata.user);
  if (feature !== undefined) result.feature = feature;
  if (customer !== undefined) result.customer = customer;
  if (user !== undefined) result.user = user;
  return result;
}

export function createBedrockAdapter(options: BedrockAdapterOptions): ProviderAdapter {
  const signer = options.credentials ? createBedrockSigner(options.region, options.credentials) : undefined;
  return {
    id: 'bedrock',

    bodyAttribution: bedrockAttribution,

    async prepareUpstream(call, bodyChanged): Promise<UpstreamRequest> {
      const url = new URL(options.endpoint + call.operation.upstreamPath);
      const body = bodyBytes(call.body, call.rawBody, bodyChanged);
      let headers = forwardableHeaders(call.headers, CLIENT_SIGNATURE);
      if (body) headers['content-length'] = String(body.length);
      if (signer) headers = await signRequest(signer, url, 'POST', headers, body);
      return { url, method: 'POST', headers, body };
    },

    readResponse(call, status, headers, body): ResponseFacts {
      if (status >= 400) {
        return { usage: undefined, servedModel: undefined, stopReason: undefined, errorType: bedrockErrorType(headers, body) };
      }
      const parsed = objectField(tryParseJson(body.toString('utf8')));
      if (call.operation.endpoint === 'converse') {
        return { usage: convertBedrockConverseUsage(parsed?.usage), servedModel: undefined, stopReason: stringField(parsed?.stopReason), errorType: undefined };
      }
      return readInvokeBody(parsed);
    },

    observeStream: (call) => (call.operation.endpoint === 'converse-stream' ? observeConverseStream() : observeInvokeStream()),

    renderError: renderBedrockError,
  };
}
