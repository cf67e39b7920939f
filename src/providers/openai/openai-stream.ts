import type { Usage } from '../../core/usage.ts';
import type { ResponseFacts, StreamObserver } from '../provider.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { ServerSentEventScanner, tryParseJson } from '../server-sent-events.ts';
import { convertOpenAIChatUsage, convertOpenAIResponsesUsage } from './convert-openai-usage.ts';

/**
 * Chat Completions stream. When the gateway itself asked for `include_usage`, the usage-only chunk
 * and the `"usage":null` fields it causes are removed, so the client sees exactly what it asked for.
 */
export function observeChatStream(stripInjectedUsage: boolean): StreamObserver {
  const scanner = new ServerSentEventScanner();
  let usage: Usage | undefined;
  let model: string | undefined;
  let finishReason: string | undefined;

  const inspect = (data: string): boolean => {
    // Cheap string tests first: most chunks carry one token and need no JSON parse.
    const hasUsage = data.includes('"usage":{') || data.includes('"usage": {');
    const hasFinish = !data.includes('"finish_reason":null') && data.includes('"finish_reason"');
    if (model === undefined || hasUsage || hasFinish) {
      const chunk = objectField(tryParseJson(data));
      model ??= stringField(chunk?.model);
      if (hasUsage) usage = convertOpenAIChatUsage(chunk?.usage);
      if (hasFinish && Array.isArray(chunk?.choices)) {
        for (const choice of chunk.choices) finishReason = stringField(objectField(choice)?.finish_reason) ?? finishReason;
      }
      if (hasUsage && Array.isArray(chunk?.choices) && chunk.choices.length === 0) return true;
    }
    return false;
  };

  return {
    transform(chunk) {
      const events = scanner.push(chunk);
      if (!stripInjectedUsage) {
        for (const event of events) inspect(event.data);
        return chunk;
      }
      let out = '';
      for (const event of events) {
        const usageOnly = inspect(event.data);
        if (!usageOnly) out += event.raw.replace(/,"usage":null/g, '');
      }
      return Buffer.from(out);
    },
    finish(): ResponseFacts {
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
