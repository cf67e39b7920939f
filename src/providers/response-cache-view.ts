import type { ParsedCall } from './provider.ts';
import { anthropicCacheView, anthropicResponseText } from './anthropic/anthropic-response-cache-view.ts';
import { bedrockCacheView, bedrockResponseText } from './bedrock/bedrock-response-cache-view.ts';
import { openAICacheView, openAIResponseText } from './openai/openai-response-cache-view.ts';

/**
 * What a response cache needs to know about a request, read by the provider that understands its
 * wire format. Everything provider-specific about caching lives behind this one function.
 */
export interface ResponseCacheView {
  /**
   * Canonical text of everything that can change the answer (model parameters, messages, tools,
   * answer-relevant headers), without what cannot (attribution metadata, cache markers, user ids).
   */
  keyMaterial: string;
  /** Present when the request ends with one user question that a semantic cache could match. */
  semantic: SemanticView | undefined;
  /** Set when the request must never be cached (an asynchronous background response, say). */
  uncacheable?: string;
}

export interface SemanticView {
  /** Text of the final user message. */
  prompt: string;
  /** Canonical text of everything but that prompt: system, parameters, earlier turns, tools. */
  context: string;
  /** User messages in the request, the final one included. */
  userTurns: number;
  /** Assistant or tool turns before the final question (or a server-side history reference). */
  priorTurns: number;
  hasTools: boolean;
  /** Images, audio, documents or video anywhere in the request. */
  hasMedia: boolean;
  /** As sent; undefined when the request leaves the provider's default (1.0 for all three). */
  temperature: number | undefined;
}

export function responseCacheView(call: ParsedCall): ResponseCacheView | undefined {
  if (!call.body) return undefined;
  switch (call.operation.provider) {
    case 'openai':
      return openAICacheView(call.operation.endpoint, call.body, call.headers);
    case 'anthropic':
      return call.operation.endpoint === 'messages' ? anthropicCacheView(call.body, call.headers) : undefined;
    case 'bedrock':
      return bedrockCacheView(call.operation.endpoint, call.body, call.headers);
    default:
      return undefined;
  }
}

/** The answer's text from a complete response body or a recorded stream, for comparing two answers. */
export function responseText(call: ParsedCall, body: Buffer): string | undefined {
  switch (call.operation.provider) {
    case 'openai':
      return openAIResponseText(call.operation.endpoint, call.stream, body);
    case 'anthropic':
      return anthropicResponseText(call.stream, body);
    case 'bedrock':
      return bedrockResponseText(call.operation.endpoint, body);
    default:
      return undefined;
  }
}

/** Values of the request headers that change the answer, lower-cased names, in a fixed order. */
export function answerHeaders(headers: ParsedCall['headers'], names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (value !== undefined) picked[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
}

/** Joins the text parts of a message content, noting whether anything else (media, tool data) is there. */
export interface ContentText {
  text: string;
  hasMedia: boolean;
  hasToolData: boolean;
}
