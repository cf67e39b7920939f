import type { Attribution } from '../../core/attribution.ts';
import type { Operation, ProviderAdapter, ResponseFacts, UpstreamRequest } from '../provider.ts';
import { bodyBytes, forwardableHeaders, objectField, stringField } from '../forward-headers.ts';
import { ServerSentEventScanner, tryParseJson } from '../server-sent-events.ts';
import { anthropicErrorType, renderAnthropicError } from './anthropic-errors.ts';
import { AnthropicEventTracker } from './anthropic-events.ts';
import { convertAnthropicUsage } from './convert-anthropic-usage.ts';

export interface AnthropicAdapterOptions {
  baseURL: string;
  apiKey: string | undefined;
}

export const ANTHROPIC_OPERATIONS = {
  messages: { provider: 'anthropic', endpoint: 'messages', upstreamPath: '/v1/messages', billable: true },
  // Token counting is free, so it is forwarded but not a ledger row.
  countTokens: { provider: 'anthropic', endpoint: 'messages.count_tokens', upstreamPath: '/v1/messages/count_tokens', billable: false },
} as const satisfies Record<string, Operation>;

const CLIENT_AUTH = new Set(['x-api-key', 'authorization']);

/** Anthropic Messages facts from a full body: shared by the direct API and Bedrock InvokeModel. */
export function readAnthropicMessage(parsed: Record<string, unknown> | undefined): ResponseFacts {
  return {
    usage: convertAnthropicUsage(parsed?.usage),
    servedModel: stringField(parsed?.model),
    stopReason: stringField(parsed?.stop_reason),
    errorType: undefined,
  };
}

export function anthropicBodyAttribution(body: Record<string, unknown> | undefined): Partial<Attribution> {
  const user = stringField(objectField(body?.metadata)?.user_id);
  return user === undefined ? {} : { user };
}

export function createAnthropicAdapter(options: AnthropicAdapterOptions): ProviderAdapter {
  return {
    id: 'anthropic',

    bodyAttribution: (call) => anthropicBodyAttribution(call.body),

    async prepareUpstream(call, bodyChanged): Promise<UpstreamRequest> {
      const headers = forwardableHeaders(call.headers, options.apiKey ? CLIENT_AUTH : undefined);
      if (options.apiKey) headers['x-api-key'] = options.apiKey;
      const body = bodyBytes(call.body, call.rawBody, bodyChanged);
      if (body) headers['content-length'] = String(body.length);
      return { url: new URL(options.baseURL + call.operation.upstreamPath), method: 'POST', headers, body };
    },

    readResponse(_call, status, _headers, body): ResponseFacts {
      if (status >= 400) return { usage: undefined, servedModel: undefined, stopReason: undefined, errorType: anthropicErrorType(body) };
      return readAnthropicMessage(objectField(tryParseJson(body.toString('utf8'))));
    },

    observeStream() {
      const scanner = new ServerSentEventScanner();
      const tracker = new AnthropicEventTracker();
      return {
        transform(chunk) {
          for (const event of scanner.push(chunk)) {
            if (!AnthropicEventTracker.wants(event.event)) continue;
            const parsed = objectField(tryParseJson(event.data));
            if (parsed) tracker.onEvent(parsed);
          }
          return chunk;
        },
        finish: () => tracker.facts(),
      };
    },

    renderError: renderAnthropicError,
  };
}
