import { canonicalJson, withoutFields, withoutKeysDeep } from '../canonical-json.ts';
import { objectField, stringField } from '../forward-headers.ts';
import type { ParsedCall } from '../provider.ts';
import { answerHeaders, type ContentText, type ResponseCacheView, type SemanticView } from '../response-cache-view.ts';
import { ServerSentEventScanner, tryParseJson } from '../server-sent-events.ts';

// `metadata` only names the end user; cache_control markers change billing, never the answer.
const NOT_IN_KEY = ['metadata', 'cache_control'];
const MARKERS = new Set(['cache_control']);
// Beta features and the API version can change what the model returns.
const ANSWER_HEADERS = ['anthropic-version', 'anthropic-beta'];
const PROMPT = '\u0000prompt';

export function anthropicContentText(content: unknown): ContentText {
  if (typeof content === 'string') return { text: content, hasMedia: false, hasToolData: false };
  const result: ContentText = { text: '', hasMedia: false, hasToolData: false };
  if (!Array.isArray(content)) return result;
  const texts: string[] = [];
  for (const block of content) {
    const item = objectField(block);
    const type = stringField(item?.type);
    if (type === 'text' && typeof item?.text === 'string') texts.push(item.text);
    else if (type === 'tool_use' || type === 'tool_result' || type === 'server_tool_use' || type?.endsWith('_tool_result')) result.hasToolData = true;
    else if (type === 'thinking' || type === 'redacted_thinking') continue;
    else result.hasMedia = true; // image, document, search_result, container_upload
  }
  result.text = texts.join('\n');
  return result;
}

/** Shared by the Anthropic API and Bedrock InvokeModel with an Anthropic body. */
export function anthropicSemantic(body: Record<string, unknown>, keyBody: Record<string, unknown>): SemanticView | undefined {
  const messages = Array.isArray(keyBody.messages) ? keyBody.messages : [];
  const last = objectField(messages.at(-1));
  if (!last || last.role !== 'user') return undefined;
  let userTurns = 0;
  let priorTurns = 0;
  let hasMedia = false;
  let hasTools = (Array.isArray(body.tools) && body.tools.length > 0) || body.mcp_servers !== undefined;
  for (const message of messages) {
    const record = objectField(message);
    if (record?.role === 'user') userTurns += 1;
    else priorTurns += 1;
    const content = anthropicContentText(record?.content);
    if (content.hasMedia) hasMedia = true;
    if (content.hasToolData) hasTools = true;
  }
  return {
    prompt: anthropicContentText(last.content).text,
    context: canonicalJson({ ...keyBody, messages: [...messages.slice(0, -1), { ...last, content: PROMPT }] }),
    userTurns,
    priorTurns,
    hasTools,
    hasMedia,
    temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
  };
}

export function anthropicKeyBody(body: Record<string, unknown>): Record<string, unknown> {
  return withoutKeysDeep(withoutFields(body, NOT_IN_KEY), MARKERS) as Record<string, unknown>;
}

export function anthropicCacheView(body: Record<string, unknown>, headers: ParsedCall['headers']): ResponseCacheView {
  const keyBody = anthropicKeyBody(body);
  return {
    keyMaterial: canonicalJson({ headers: answerHeaders(headers, ANSWER_HEADERS), body: keyBody }),
    semantic: anthropicSemantic(body, keyBody),
  };
}

/** Text of an Anthropic message body. */
export function anthropicMessageText(parsed: Record<string, unknown> | undefined): string | undefined {
  if (!parsed) return undefined;
  return anthropicContentText(parsed.content).text;
}

/** Text deltas of Anthropic stream events, already parsed. */
export function anthropicEventText(event: Record<string, unknown>): string | undefined {
  if (event.type !== 'content_block_delta') return undefined;
  const delta = objectField(event.delta);
  return delta?.type === 'text_delta' ? stringField(delta.text) : undefined;
}

export function anthropicResponseText(stream: boolean, body: Buffer): string | undefined {
  if (!stream) return anthropicMessageText(objectField(tryParseJson(body.toString('utf8'))));
  const parts: string[] = [];
  for (const event of new ServerSentEventScanner().push(body)) {
    const parsed = objectField(tryParseJson(event.data));
    const text = parsed ? anthropicEventText(parsed) : undefined;
    if (text) parts.push(text);
  }
  return parts.join('');
}
