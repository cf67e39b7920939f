import type { Attribution } from '../../core/attribution.ts';
import type { Operation, ParsedCall, ProviderAdapter, ResponseFacts, UpstreamRequest } from '../provider.ts';
import { bodyBytes, forwardableHeaders, objectField, stringField } from '../forward-headers.ts';
import { tryParseJson } from '../server-sent-events.ts';
import { convertOpenAIChatUsage, convertOpenAIEmbeddingsUsage, convertOpenAIResponsesUsage } from './convert-openai-usage.ts';
import { openAIErrorType, renderOpenAIError } from './openai-errors.ts';
import { observeChatStream, observeResponsesStream } from './openai-stream.ts';

export interface OpenAIAdapterOptions {
  /** Including the version path, as OPENAI_BASE_URL does: https://api.openai.com/v1 */
  baseURL: string;
  apiKey: string | undefined;
}

export const OPENAI_OPERATIONS = {
  chat: { provider: 'openai', endpoint: 'chat.completions', upstreamPath: '/chat/completions', billable: true },
  responses: { provider: 'openai', endpoint: 'responses', upstreamPath: '/responses', billable: true },
  embeddings: { provider: 'openai', endpoint: 'embeddings', upstreamPath: '/embeddings', billable: true },
  models: { provider: 'openai', endpoint: 'models', upstreamPath: '/models', billable: false },
} as const satisfies Record<string, Operation>;

const CLIENT_AUTH = new Set(['authorization']);

/** True when the client did not ask for stream usage, so the gateway must ask and then hide it. */
function needsInjectedUsage(call: ParsedCall): boolean {
  if (!call.stream || call.operation.endpoint !== 'chat.completions' || !call.body) return false;
  return objectField(call.body.stream_options)?.include_usage !== true;
}

const INCLUDE_USAGE = Buffer.from('{"stream_options":{"include_usage":true},');

/**
 * Adds `stream_options` in front of the client's own bytes rather than re-serializing a body
 * that may be megabytes of context; the rest of the body stays byte for byte as sent.
 */
function withLeadingField(rawBody: Buffer | undefined): Buffer | undefined {
  if (!rawBody) return undefined;
  const open = rawBody.indexOf('{');
  if (open === -1 || rawBody.subarray(0, open).toString().trim() !== '') return undefined;
  let next = open + 1;
  while (next < rawBody.length && (rawBody[next] === 0x20 || rawBody[next] === 0x0a || rawBody[next] === 0x0d || rawBody[next] === 0x09)) next += 1;
  if (rawBody[next] === 0x7d) return undefined; // "{}": nothing to put a comma before
  return Buffer.concat([INCLUDE_USAGE, rawBody.subarray(open + 1)]);
}

export function createOpenAIAdapter(options: OpenAIAdapterOptions): ProviderAdapter {
  // Calls whose stream usage the gateway asked for on the client's behalf.
  const injected = new WeakSet<ParsedCall>();
  return {
    id: 'openai',

    bodyAttribution(call): Partial<Attribution> {
      const body = call.body;
      if (!body) return {};
      const metadata = objectField(body.metadata);
      const tags: Record<string, string> = {};
      for (const [key, value] of Object.entries(metadata ?? {})) if (typeof value === 'string') tags[key] = value;
      const result: Partial<Attribution> = { tags };
      const user = stringField(body.user) ?? stringField(body.safety_identifier);
      const feature = stringField(metadata?.feature);
      const customer = stringField(metadata?.customer) ?? stringField(metadata?.customer_id);
      if (user !== undefined) result.user = user;
      if (feature !== undefined) result.feature = feature;
      if (customer !== undefined) result.customer = customer;
      return result;
    },

    async prepareUpstream(call, bodyChanged): Promise<UpstreamRequest> {
      let body: Buffer | undefined;
      if (needsInjectedUsage(call) && call.body) {
        injected.add(call);
        const spliced = !bodyChanged && call.body.stream_options === undefined ? withLeadingField(call.rawBody) : undefined;
        call.body.stream_options = { ...objectField(call.body.stream_options), include_usage: true };
        body = spliced ?? bodyBytes(call.body, call.rawBody, true);
      } else {
        body = bodyBytes(call.body, call.rawBody, bodyChanged);
      }
      const headers = forwardableHeaders(call.headers, options.apiKey ? CLIENT_AUTH : undefined);
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      if (body) headers['content-length'] = String(body.length);
      return { url: new URL(options.baseURL + call.operation.upstreamPath), method: body ? 'POST' : 'GET', headers, body };
    },

    readResponse(call, status, _headers, body): ResponseFacts {
      if (status >= 400) return { usage: undefined, servedModel: undefined, stopReason: undefined, errorType: openAIErrorType(body) };
      const parsed = objectField(tryParseJson(body.toString('utf8')));
      const servedModel = stringField(parsed?.model);
      switch (call.operation.endpoint) {
        case 'chat.completions': {
          const choice = objectField(Array.isArray(parsed?.choices) ? parsed.choices[0] : undefined);
          return { usage: convertOpenAIChatUsage(parsed?.usage), servedModel, stopReason: stringField(choice?.finish_reason), errorType: undefined };
        }
        case 'responses':
          return {
            usage: convertOpenAIResponsesUsage(parsed?.usage),
            servedModel,
            stopReason: stringField(objectField(parsed?.incomplete_details)?.reason) ?? stringField(parsed?.status),
            errorType: undefined,
          };
        case 'embeddings':
          return { usage: convertOpenAIEmbeddingsUsage(parsed?.usage), servedModel, stopReason: undefined, errorType: undefined };
        default:
          return { usage: undefined, servedModel, stopReason: undefined, errorType: undefined };
      }
    },

    observeStream(call) {
      return call.operation.endpoint === 'responses' ? observeResponsesStream() : observeChatStream(injected.has(call));
    },

    renderError: renderOpenAIError,
  };
}
