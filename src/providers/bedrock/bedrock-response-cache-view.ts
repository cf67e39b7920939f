import { anthropicEventText, anthropicKeyBody, anthropicMessageText, anthropicSemantic } from '../anthropic/anthropic-response-cache-view.ts';
import { canonicalJson, withoutFields } from '../canonical-json.ts';
import { objectField, stringField } from '../forward-headers.ts';
import type { ParsedCall } from '../provider.ts';
import { answerHeaders, type ResponseCacheView, type SemanticView } from '../response-cache-view.ts';
import { tryParseJson } from '../server-sent-events.ts';
import { EventStreamReader, headerString } from './event-stream-reader.ts';

// requestMetadata is attribution only; cachePoint blocks change billing, never the answer.
const NOT_IN_KEY = ['requestMetadata'];
const ANSWER_HEADERS = [
  'x-amzn-bedrock-guardrailidentifier',
  'x-amzn-bedrock-guardrailversion',
  'x-amzn-bedrock-trace',
  'x-amzn-bedrock-performanceconfig-latency',
  'x-amzn-bedrock-service-tier',
];
const PROMPT = '\u0000prompt';

function withoutCachePoints(blocks: unknown): unknown {
  if (!Array.isArray(blocks)) return blocks;
  return blocks.filter((block) => {
    const record = objectField(block);
    return !(record && Object.keys(record).length === 1 && 'cachePoint' in record);
  });
}

function converseKeyBody(body: Record<string, unknown>): Record<string, unknown> {
  const keyBody = withoutFields(body, NOT_IN_KEY);
  if (Array.isArray(keyBody.system)) keyBody.system = withoutCachePoints(keyBody.system);
  if (Array.isArray(keyBody.messages)) {
    keyBody.messages = keyBody.messages.map((message) => {
      const record = objectField(message);
      return record ? { ...record, content: withoutCachePoints(record.content) } : message;
    });
  }
  const toolConfig = objectField(keyBody.toolConfig);
  if (toolConfig && Array.isArray(toolConfig.tools)) keyBody.toolConfig = { ...toolConfig, tools: withoutCachePoints(toolConfig.tools) };
  return keyBody;
}

function converseContent(content: unknown): { text: string; hasMedia: boolean; hasToolData: boolean } {
  const texts: string[] = [];
  let hasMedia = false;
  let hasToolData = false;
  for (const block of Array.isArray(content) ? content : []) {
    const record = objectField(block);
    if (!record) continue;
    if (typeof record.text === 'string') texts.push(record.text);
    else if ('toolUse' in record || 'toolResult' in record) hasToolData = true;
    else if ('image' in record || 'document' in record || 'video' in record || 'audio' in record) hasMedia = true;
  }
  return { text: texts.join('\n'), hasMedia, hasToolData };
}

function converseSemantic(body: Record<string, unknown>, keyBody: Record<string, unknown>): SemanticView | undefined {
  const messages = Array.isArray(keyBody.messages) ? keyBody.messages : [];
  const last = objectField(messages.at(-1));
  if (!last || last.role !== 'user') return undefined;
  let userTurns = 0;
  let priorTurns = 0;
  let hasMedia = false;
  let hasTools = body.toolConfig !== undefined;
  for (const message of messages) {
    const record = objectField(message);
    if (record?.role === 'user') userTurns += 1;
    else priorTurns += 1;
    const content = converseContent(record?.content);
    if (content.hasMedia) hasMedia = true;
    if (content.hasToolData) hasTools = true;
  }
  const temperature = objectField(body.inferenceConfig)?.temperature;
  return {
    prompt: converseContent(last.content).text,
    context: canonicalJson({ ...keyBody, messages: [...messages.slice(0, -1), { ...last, content: PROMPT }] }),
    userTurns,
    priorTurns,
    hasTools,
    hasMedia,
    temperature: typeof temperature === 'number' ? temperature : undefined,
  };
}

export function bedrockCacheView(endpoint: string, body: Record<string, unknown>, headers: ParsedCall['headers']): ResponseCacheView {
  const answer = answerHeaders(headers, ANSWER_HEADERS);
  if (endpoint === 'converse' || endpoint === 'converse-stream') {
    const keyBody = converseKeyBody(body);
    return { keyMaterial: canonicalJson({ headers: answer, body: keyBody }), semantic: converseSemantic(body, keyBody) };
  }
  // InvokeModel bodies are model-native; only an Anthropic Messages body is understood well enough to match.
  if (Array.isArray(body.messages) && typeof body.anthropic_version === 'string') {
    const keyBody = anthropicKeyBody(body);
    return { keyMaterial: canonicalJson({ headers: answer, body: keyBody }), semantic: anthropicSemantic(body, keyBody) };
  }
  return { keyMaterial: canonicalJson({ headers: answer, body }), semantic: undefined };
}

function eventStreamText(body: Buffer, pick: (type: string | undefined, payload: Record<string, unknown>) => string | undefined): string {
  const parts: string[] = [];
  for (const message of new EventStreamReader().push(body)) {
    if (headerString(message, ':message-type') !== 'event') continue;
    const payload = objectField(tryParseJson(Buffer.from(message.body).toString('utf8')));
    const text = payload ? pick(headerString(message, ':event-type'), payload) : undefined;
    if (text) parts.push(text);
  }
  return parts.join('');
}

export function bedrockResponseText(endpoint: string, body: Buffer): string | undefined {
  switch (endpoint) {
    case 'converse': {
      const parsed = objectField(tryParseJson(body.toString('utf8')));
      return converseContent(objectField(objectField(parsed?.output)?.message)?.content).text;
    }
    case 'converse-stream':
      return eventStreamText(body, (type, payload) => (type === 'contentBlockDelta' ? stringField(objectField(payload.delta)?.text) : undefined));
    case 'invoke':
      return anthropicMessageText(objectField(tryParseJson(body.toString('utf8'))));
    case 'invoke-with-response-stream':
      return eventStreamText(body, (type, payload) => {
        if (type !== 'chunk') return undefined;
        const bytes = stringField(payload.bytes);
        const event = bytes ? objectField(tryParseJson(Buffer.from(bytes, 'base64').toString('utf8'))) : undefined;
        return event ? anthropicEventText(event) : undefined;
      });
    default:
      return undefined;
  }
}
