import type { Usage } from '../../core/usage.ts';
import type { ResponseFacts, StreamObserver } from '../provider.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { ServerSentEventScanner, tryParseJson } from '../server-sent-events.ts';
import { convertOpenAIChatUsage, convertOpenAIResponsesUsage } from './convert-openai-usage.ts';

const EVENT_END = Buffer.from('\n\n');
const USAGE_OBJECT = '"usage":{';
const FINISH_REASON = '"finish_reason":"';
const MODEL_FIELD = '"model":"';
const USAGE_NULL = /,"usage":null/g;

/**
 * Chat Completions stream. This runs once per token, so it works on whole chunks with native
 * string search and parses JSON only for the usage event.
 * When the gateway itself asked for `include_usage`, the usage-only chunk and the `"usage":null`
 * fields it causes are removed, so the client sees exactly what it asked for.
 */
export function observeChatStream(stripInjectedUsage: boolean): StreamObserver {
  let held: Buffer | undefined;
  let usage: Usage | undefined;
  let model: string | undefined;
  let finishReason: string | undefined;

  /** Reads the facts from complete events; returns the text with the usage-only event cut out. */
  const inspect = (text: string): string => {
    if (model === undefined) {
      // Every chunk names the model; reading the first occurrence needs no JSON parse.
      const modelAt = text.indexOf(MODEL_FIELD);
      if (modelAt !== -1) model = text.slice(modelAt + MODEL_FIELD.length, text.indexOf('"', modelAt + MODEL_FIELD.length));
    }
    const finishAt = text.lastIndexOf(FINISH_REASON);
    if (finishAt !== -1) finishReason = text.slice(finishAt + FINISH_REASON.length, text.indexOf('"', finishAt + FINISH_REASON.length));
    const usageAt = text.indexOf(USAGE_OBJECT);
    if (usageAt === -1) return text;
    const start = text.lastIndexOf('data: ', usageAt);
    const end = text.indexOf('\n\n', usageAt);
    const chunk = objectField(tryParseJson(text.slice(start + 6, end)));
    usage = convertOpenAIChatUsage(chunk?.usage) ?? usage;
    const usageOnly = Array.isArray(chunk?.choices) && chunk.choices.length === 0;
    return usageOnly && stripInjectedUsage ? text.slice(0, start) + text.slice(end + 2) : text;
  };

  return {
    transform(chunk) {
      const bytes = held ? Buffer.concat([held, chunk]) : chunk;
      // Only complete events are inspected; a multi-byte character never spans an event end.
      const cut = bytes.lastIndexOf(EVENT_END);
      if (cut === -1) {
        held = bytes;
        return stripInjectedUsage ? Buffer.alloc(0) : chunk;
      }
      const complete = bytes.subarray(0, cut + 2);
      held = cut + 2 < bytes.length ? bytes.subarray(cut + 2) : undefined;
      const text = inspect(complete.toString('utf8'));
      if (!stripInjectedUsage) return chunk;
      // A held tail goes out with the next chunk, once its event is complete.
      return Buffer.from(text.replace(USAGE_NULL, ''));
    },
    finish(): ResponseFacts {
      if (held && stripInjectedUsage) held = undefined;
      return { usage, servedModel: model, stopReason: finishReason, errorType: undefined };
    },
  };
}

/** Responses stream: usage, model and status come on the terminal `response.*` event. */
export function observeResponsesStream(): StreamObserver {
  const scanner = new ServerSentEventScanner();
  let usage: Usage | undefined;
  let model: string | undefined;
  let stopReason: string | undefined;
  let errorType: string | undefined;
  return {
    transform(chunk) {
      for (const event of scanner.push(chunk)) {
        const name = event.event;
        if (name === 'response.created' || name === 'response.completed' || name === 'response.incomplete' || name === 'response.failed') {
          const response = objectField(objectField(tryParseJson(event.data))?.response);
          model = stringField(response?.model) ?? model;
          if (name !== 'response.created') {
            usage = convertOpenAIResponsesUsage(response?.usage);
            stopReason = stringField(objectField(response?.incomplete_details)?.reason) ?? stringField(response?.status);
          }
          if (name === 'response.failed') errorType = stringField(objectField(response?.error)?.code) ?? 'response_failed';
        } else if (name === 'error') {
          errorType = 'stream_error';
        }
      }
      return chunk;
    },
    finish() {
      return { usage, servedModel: model, stopReason, errorType };
    },
  };
}
