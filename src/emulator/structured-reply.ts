import { isRecord, type RequestContext } from './context.ts';

/**
 * What a request's output format does to the reply. A JSON format (a schema, or JSON mode) makes the
 * answer the JSON object alone: the length the `x-emulator-structured-reply-tokens` header gives
 * (the same answer without the prose a free-form reply wraps it in), else the plain reply length.
 * `format` is the provider's own format object: Chat `response_format`, Responses `text.format`,
 * Anthropic `output_config.format`, Converse `outputConfig.textFormat`.
 */
export function replyShape(context: RequestContext, format: unknown): { wantedTokens: number; json: boolean } {
  const type = isRecord(format) ? format['type'] : undefined;
  const json = type === 'json_schema' || type === 'json_object';
  return { wantedTokens: json ? (context.structuredReplyTokens ?? context.replyTokens) : context.replyTokens, json };
}
