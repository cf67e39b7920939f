import type { CacheBlock, CacheLayout, CacheRules, CacheTtl } from '../cache-layout.ts';
import { objectField, stringField } from '../forward-headers.ts';

/**
 * OpenAI prompts as a cache layout (provider-facts §1.1). OpenAI caches prefixes automatically, and
 * tools and structured-output schemas come before the messages. gpt-5.6 and later also take explicit
 * breakpoints: `prompt_cache_breakpoint: {mode: 'explicit'}` on a text, image, audio or file content
 * part marks the exact end of a reusable prefix (30-minute TTL, writes billed at 1.25x input), and
 * `prompt_cache_options.mode: 'explicit'` turns the automatic (implicit) breakpoint off, so only the
 * marked prefixes are written. On those models each content part is a block, markable where the
 * part type takes a marker; a string content is one text block, turned into a one-part array when
 * marked (the same tokens). Nothing is markable on older models.
 */

/** OpenAI caches prompts of at least 1,024 tokens, in 128-token steps (provider-facts §1.1). */
export const OPENAI_MINIMUM_CACHE_TOKENS = 1024;

export type OpenAICacheMode = 'implicit' | 'explicit';

/** gpt-5.6 and later take `prompt_cache_options` and `prompt_cache_breakpoint`. */
export function openAITakesExplicitBreakpoints(model: string): boolean {
  return /(^|[^a-z0-9])gpt-(5\.([6-9]|\d{2,})|[6-9]|\d{2,})([^0-9]|$)/.test(model);
}

/**
 * Explicit-breakpoint rules: writes come from the latest four breakpoints in explicit mode, three beside
 * the implicit one; an entry is matched only through a breakpoint ending exactly on it (up to the latest
 * 80, no block lookback); one TTL, 30 minutes; 1,024 tokens at least (the Bedrock table's figure).
 */
export function openAICacheRules(mode: OpenAICacheMode): CacheRules {
  return {
    minimumTokens: OPENAI_MINIMUM_CACHE_TOKENS,
    minimumRule: 'cumulative',
    ttls: ['30m'],
    maxBreakpoints: mode === 'explicit' ? 4 : 3,
    lookbackBlocks: 1,
  };
}

/** The mode the client asked for in `prompt_cache_options`, if any. */
export function openAICacheMode(body: Record<string, unknown>): OpenAICacheMode | undefined {
  const mode = objectField(body.prompt_cache_options)?.mode;
  return mode === 'implicit' || mode === 'explicit' ? mode : undefined;
}

/** True when the client set `prompt_cache_options` at all (even without a mode): its choice is kept. */
export function openAIHasCacheOptions(body: Record<string, unknown>): boolean {
  return body.prompt_cache_options !== undefined && body.prompt_cache_options !== null;
}

export function setOpenAICacheMode(body: Record<string, unknown>, mode: OpenAICacheMode): void {
  body.prompt_cache_options = { ...objectField(body.prompt_cache_options), mode };
}

/** The client's own `prompt_cache_key`, if any. */
export function openAIPromptCacheKey(body: Record<string, unknown>): string | undefined {
  return stringField(body.prompt_cache_key);
}

export function setOpenAIPromptCacheKey(body: Record<string, unknown>, key: string): void {
  body.prompt_cache_key = key;
}

const MARKER = { mode: 'explicit' } as const;
const EXPLICIT_TTL: CacheTtl = '30m';
// Content-part types that take `prompt_cache_breakpoint` (openai-node 6.49 types).
const MARKABLE_PARTS = {
  chat: new Set(['text', 'image_url', 'input_audio', 'file']),
  responses: new Set(['input_text', 'input_image', 'input_file']),
} as const;
const TEXT_PARTS = new Set(['text', 'input_text']);
const INSTRUCTION_ROLES = new Set(['system', 'developer']);

type Api = keyof typeof MARKABLE_PARTS;

interface Builder {
  blocks: CacheBlock[];
  setters: Array<(() => void) | undefined>;
}

function add(builder: Builder, block: CacheBlock, set?: () => void): void {
  builder.blocks.push(block);
  builder.setters.push(set);
}

function wholeBlock(section: CacheBlock['section'], value: unknown, role?: string, message?: number): CacheBlock {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  const result: CacheBlock = { section, key: typeof value === 'string' ? `T${value}` : text, text, markable: false };
  if (role !== undefined) result.role = role;
  if (message !== undefined) result.message = message;
  return result;
}

/** Key and token text of a content part, its marker left out; a plain text part keys like a string. */
function describePart(part: Record<string, unknown>): { key: string; text: string } {
  const { prompt_cache_breakpoint: _marker, ...rest } = part;
  const text = typeof rest.text === 'string' ? rest.text : undefined;
  if (text !== undefined && typeof rest.type === 'string' && TEXT_PARTS.has(rest.type) && Object.keys(rest).length === 2) return { key: `T${text}`, text };
  const json = JSON.stringify(rest);
  return { key: json, text: text ?? json };
}

function messageBlocks(api: Api, messages: unknown[], explicit: boolean, builder: Builder): void {
  // Leading system/developer messages are the instructions; everything after is the conversation.
  let leading = true;
  messages.forEach((message, index) => {
    const record = objectField(message);
    const role = stringField(record?.role);
    if (!record || role === undefined) {
      leading = false;
      add(builder, wholeBlock('messages', message, undefined, index));
      return;
    }
    if (!INSTRUCTION_ROLES.has(role)) leading = false;
    const section = leading ? 'system' : 'messages';
    const { content, role: _role, ...rest } = record;
    if (api === 'responses' && rest.type === 'message') delete rest.type;
    if (typeof content === 'string') {
      // Responses assistant history takes output_text parts, which take no marker; `function` messages take only strings.
      const markable = explicit && content !== '' && role !== 'function' && !(api === 'responses' && role === 'assistant');
      add(builder, { section, key: `T${content}`, text: content, role, message: index, markable }, () => {
        record.content = [{ type: api === 'chat' ? 'text' : 'input_text', text: content, prompt_cache_breakpoint: { ...MARKER } }];
      });
    } else if (Array.isArray(content) && content.length > 0) {
      for (const item of content) {
        const part = objectField(item);
        if (!part) {
          add(builder, wholeBlock(section, item, role, index));
          continue;
        }
        const { key, text } = describePart(part);
        const type = stringField(part.type);
        const block: CacheBlock = { section, key, text, role, message: index, markable: explicit && type !== undefined && MARKABLE_PARTS[api].has(type) };
        const marker = part.prompt_cache_breakpoint;
        if (marker !== undefined && marker !== null) block.clientTtl = EXPLICIT_TTL;
        add(builder, block, () => {
          part.prompt_cache_breakpoint = { ...MARKER };
        });
      }
    } else {
      add(builder, wholeBlock(section, record, role, index));
      return;
    }
    // Anything else on the message (name, tool_calls, tool_call_id...) follows its content.
    if (Object.keys(rest).length > 0) add(builder, wholeBlock(section, rest, role, index));
  });
}

/**
 * Chat Completions or Responses body as a layout; undefined when the body has no prompt.
 * `explicit`: the model takes explicit breakpoints, so content parts are markable.
 */
export function openAICacheLayout(endpoint: string, body: Record<string, unknown>, explicit = false): CacheLayout | undefined {
  const builder: Builder = { blocks: [], setters: [] };
  if (Array.isArray(body.tools)) for (const tool of body.tools) add(builder, wholeBlock('tools', tool));
  if (endpoint === 'chat.completions') {
    if (body.response_format !== undefined) add(builder, wholeBlock('tools', body.response_format));
    if (!Array.isArray(body.messages)) return undefined;
    messageBlocks('chat', body.messages, explicit, builder);
  } else if (endpoint === 'responses') {
    const format = objectField(body.text)?.format;
    if (format !== undefined) add(builder, wholeBlock('tools', format));
    if (typeof body.instructions === 'string') add(builder, wholeBlock('system', body.instructions, 'developer'));
    if (typeof body.input === 'string') add(builder, wholeBlock('messages', body.input, 'user', 0));
    else if (Array.isArray(body.input)) messageBlocks('responses', body.input, explicit, builder);
    else return undefined;
  } else {
    return undefined;
  }
  const { blocks, setters } = builder;
  return {
    blocks,
    automatic: false,
    mark(index) {
      if (blocks[index]?.markable) setters[index]?.();
    },
  };
}
