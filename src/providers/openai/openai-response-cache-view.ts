import { canonicalJson, withoutFields } from '../canonical-json.ts';
import { objectField, stringField } from '../forward-headers.ts';
import type { ParsedCall } from '../provider.ts';
import type { ContentText, ResponseCacheView, SemanticView } from '../response-cache-view.ts';
import { ServerSentEventScanner, tryParseJson } from '../server-sent-events.ts';

// Fields that identify or bill the caller, or steer OpenAI's own prompt cache: never the answer.
const NOT_IN_KEY = ['user', 'safety_identifier', 'metadata', 'prompt_cache_key', 'prompt_cache_retention', 'prompt_cache_options', 'store'];
const PROMPT = '\u0000prompt';

function contentText(content: unknown): ContentText {
  if (typeof content === 'string') return { text: content, hasMedia: false, hasToolData: false };
  const result: ContentText = { text: '', hasMedia: false, hasToolData: false };
  if (!Array.isArray(content)) return result;
  const texts: string[] = [];
  for (const part of content) {
    const item = objectField(part);
    const type = stringField(item?.type);
    if ((type === 'text' || type === 'input_text') && typeof item?.text === 'string') texts.push(item.text);
    else if (type === 'refusal' || type === 'output_text') texts.push(String(item?.text ?? item?.refusal ?? ''));
    else result.hasMedia = true; // image_url, input_image, input_audio, file, input_file
  }
  result.text = texts.join('\n');
  return result;
}

function chatSemantic(body: Record<string, unknown>, keyBody: Record<string, unknown>): SemanticView | undefined {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const last = objectField(messages.at(-1));
  if (!last || last.role !== 'user') return undefined;
  let userTurns = 0;
  let priorTurns = 0;
  let hasMedia = false;
  let hasTools = Array.isArray(body.tools) ? body.tools.length > 0 : body.functions !== undefined;
  for (const message of messages) {
    const role = objectField(message)?.role;
    if (role === 'user') userTurns += 1;
    else if (role === 'assistant' || role === 'tool' || role === 'function') priorTurns += 1;
    if (role === 'tool' || role === 'function') hasTools = true;
    if (contentText(objectField(message)?.content).hasMedia) hasMedia = true;
  }
  const prompt = contentText(last.content).text;
  const contextMessages = [...messages.slice(0, -1), { ...last, content: PROMPT }];
  return {
    prompt,
    context: canonicalJson({ ...keyBody, messages: contextMessages }),
    userTurns,
    priorTurns,
    hasTools,
    hasMedia: hasMedia || body.audio !== undefined,
    temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
  };
}

function responsesSemantic(body: Record<string, unknown>, keyBody: Record<string, unknown>): SemanticView | undefined {
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  const temperature = typeof body.temperature === 'number' ? body.temperature : undefined;
  // A conversation held on OpenAI's side: the visible input is not the whole request.
  const serverHistory = body.previous_response_id !== undefined || body.conversation !== undefined ? 1 : 0;
  if (typeof body.input === 'string') {
    return {
      prompt: body.input,
      context: canonicalJson({ ...keyBody, input: PROMPT }),
      userTurns: 1,
      priorTurns: serverHistory,
      hasTools,
      hasMedia: false,
      temperature,
    };
  }
  if (!Array.isArray(body.input)) return undefined;
  const items = body.input;
  const last = objectField(items.at(-1));
  if (!last || last.role !== 'user' || (last.type !== undefined && last.type !== 'message')) return undefined;
  let userTurns = 0;
  let priorTurns = serverHistory;
  let hasMedia = false;
  let toolItems = false;
  for (const item of items) {
    const record = objectField(item);
    if (record?.role === 'user') userTurns += 1;
    else if (record?.role === 'assistant') priorTurns += 1;
    else if (record?.type !== undefined && record.type !== 'message') {
      priorTurns += 1;
      toolItems = true;
    }
    if (contentText(record?.content).hasMedia) hasMedia = true;
  }
  return {
    prompt: contentText(last.content).text,
    context: canonicalJson({ ...keyBody, input: [...items.slice(0, -1), { ...last, content: PROMPT }] }),
    userTurns,
    priorTurns,
    hasTools: hasTools || toolItems,
    hasMedia,
    temperature,
  };
}

export function openAICacheView(endpoint: string, body: Record<string, unknown>, _headers: ParsedCall['headers']): ResponseCacheView | undefined {
  const keyBody = withoutFields(body, NOT_IN_KEY);
  switch (endpoint) {
    case 'chat.completions':
      return { keyMaterial: canonicalJson(keyBody), semantic: chatSemantic(body, keyBody) };
    case 'responses': {
      // A background response answers with a queued job, not the answer.
      if (body.background === true) return { keyMaterial: '', semantic: undefined, uncacheable: 'background response' };
      return { keyMaterial: canonicalJson(keyBody), semantic: responsesSemantic(body, keyBody) };
    }
    case 'embeddings':
      return { keyMaterial: canonicalJson(keyBody), semantic: undefined };
    default:
      return undefined;
  }
}

function streamText(body: Buffer, pick: (event: Record<string, unknown>, name: string | undefined) => string | undefined): string {
  const scanner = new ServerSentEventScanner();
  const parts: string[] = [];
  for (const event of scanner.push(body)) {
    if (event.data === '[DONE]') continue;
    const parsed = objectField(tryParseJson(event.data));
    const piece = parsed ? pick(parsed, event.event) : undefined;
    if (piece) parts.push(piece);
  }
  return parts.join('');
}

export function openAIResponseText(endpoint: string, stream: boolean, body: Buffer): string | undefined {
  if (endpoint === 'chat.completions') {
    if (stream) {
      return streamText(body, (event) => {
        const choice = objectField(Array.isArray(event.choices) ? event.choices[0] : undefined);
        const delta = objectField(choice?.delta);
        return stringField(delta?.content) ?? stringField(delta?.refusal);
      });
    }
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    const message = objectField(objectField(Array.isArray(parsed?.choices) ? parsed.choices[0] : undefined)?.message);
    return stringField(message?.content) ?? stringField(message?.refusal);
  }
  if (endpoint === 'responses') {
    if (stream) return streamText(body, (event) => (event.type === 'response.output_text.delta' ? stringField(event.delta) : undefined));
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    const texts: string[] = [];
    for (const item of Array.isArray(parsed?.output) ? parsed.output : []) {
      for (const part of Array.isArray(objectField(item)?.content) ? (objectField(item)?.content as unknown[]) : []) {
        const text = stringField(objectField(part)?.text);
        if (text) texts.push(text);
      }
    }
    return texts.join('');
  }
  return undefined;
}
