import { objectField, stringField } from '../forward-headers.ts';
import type { ParsedCall } from '../provider.ts';
import { tryParseJson } from '../server-sent-events.ts';
import { bedrockOperation } from './bedrock-adapter.ts';
import { EventStreamReader, headerString } from './event-stream-reader.ts';

/**
 * Anthropic Messages calls served by the same Claude model on Bedrock (a fallback): InvokeModel
 * takes the Messages body with `anthropic_version` in it instead of a header and the model in the
 * path, and answers with the same Messages JSON; its stream carries each Messages event base64
 * encoded inside an AWS event-stream frame, which is turned back into the SSE the client expects.
 */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

export function anthropicCallOnBedrock(call: ParsedCall, modelId: string): ParsedCall {
  const { model: _model, stream: _stream, ...rest } = call.body ?? {};
  const body: Record<string, unknown> = { ...rest, anthropic_version: BEDROCK_ANTHROPIC_VERSION };
  // Beta features travel in the body on Bedrock.
  const beta = call.headers['anthropic-beta'];
  const betas = (Array.isArray(beta) ? beta.join(',') : beta)?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (betas && betas.length > 0 && body.anthropic_beta === undefined) body.anthropic_beta = betas;
  return {
    operation: bedrockOperation(call.stream ? 'invoke-with-response-stream' : 'invoke', encodeURIComponent(modelId)),
    body,
    rawBody: undefined,
    model: modelId,
    stream: call.stream,
    // Only what Bedrock needs: the Anthropic credential and version headers must not travel there.
    headers: { 'content-type': 'application/json', accept: call.stream ? 'application/vnd.amazon.eventstream' : 'application/json' },
  };
}

/** Bedrock's in-stream exceptions in Anthropic's error event shape. */
const ANTHROPIC_ERROR_BY_EXCEPTION: Record<string, string> = {
  throttlingException: 'rate_limit_error',
  ThrottlingException: 'rate_limit_error',
  serviceUnavailableException: 'overloaded_error',
  ServiceUnavailableException: 'overloaded_error',
  modelStreamErrorException: 'api_error',
  validationException: 'invalid_request_error',
};

function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Turns an InvokeModelWithResponseStream body (AWS event stream) into Anthropic Messages SSE. */
export class BedrockInvokeStreamToSse {
  readonly #reader = new EventStreamReader();

  push(chunk: Buffer): Buffer {
    let text = '';
    for (const message of this.#reader.push(chunk)) {
      if (headerString(message, ':message-type') === 'exception') {
        const exception = headerString(message, ':exception-type') ?? 'InternalServerException';
        const detail = stringField(objectField(tryParseJson(Buffer.from(message.body).toString('utf8')))?.message) ?? exception;
        text += sse('error', { type: 'error', error: { type: ANTHROPIC_ERROR_BY_EXCEPTION[exception] ?? 'api_error', message: detail } });
        continue;
      }
      if (headerString(message, ':event-type') !== 'chunk') continue;
      const bytes = stringField(objectField(tryParseJson(Buffer.from(message.body).toString('utf8')))?.bytes);
      if (!bytes) continue;
      const event = objectField(tryParseJson(Buffer.from(bytes, 'base64').toString('utf8')));
      const type = stringField(event?.type);
      if (!event || !type) continue;
      // Bedrock's own metrics ride on message_stop; the Messages API has no such field.
      delete event['amazon-bedrock-invocationMetrics'];
      text += sse(type, event);
    }
    return Buffer.from(text, 'utf8');
  }
}
