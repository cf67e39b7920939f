import type { CacheBlock, CacheLayout } from '../cache-layout.ts';
import { objectField, stringField } from '../forward-headers.ts';

/**
 * OpenAI prompts as a cache layout, for the prefix statistics and the stability audit: OpenAI caches
 * prefixes automatically, and tools and structured-output schemas come before the messages
 * (provider-facts §1.1). No block is markable here: explicit `prompt_cache_breakpoint`s are not
 * planned (see the prompt-cache README section).
 */

function block(section: CacheBlock['section'], value: unknown, role?: string, message?: number): CacheBlock {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  const result: CacheBlock = { section, key: typeof value === 'string' ? `T${value}` : text, text, markable: false };
  if (role !== undefined) result.role = role;
  if (message !== undefined) result.message = message;
  return result;
}

const INSTRUCTION_ROLES = new Set(['system', 'developer']);

function messageBlocks(messages: unknown[], blocks: CacheBlock[]): void {
  // Leading system/developer messages are the instructions; everything after is the conversation.
  let leading = true;
  messages.forEach((message, index) => {
    const record = objectField(message);
    const role = stringField(record?.role) ?? 'user';
    if (!INSTRUCTION_ROLES.has(role)) leading = false;
    const content = record?.content;
    blocks.push(block(leading ? 'system' : 'messages', typeof content === 'string' ? content : (record ?? message), role, index));
  });
}

/** Chat Completions or Responses body as a layout; undefined when the body has no prompt. */
export function openAICacheLayout(endpoint: string, body: Record<string, unknown>): CacheLayout | undefined {
  const blocks: CacheBlock[] = [];
  if (Array.isArray(body.tools)) for (const tool of body.tools) blocks.push(block('tools', tool));
  if (endpoint === 'chat.completions') {
    if (body.response_format !== undefined) blocks.push(block('tools', body.response_format));
    if (!Array.isArray(body.messages)) return undefined;
    messageBlocks(body.messages, blocks);
  } else if (endpoint === 'responses') {
    const format = objectField(body.text)?.format;
    if (format !== undefined) blocks.push(block('tools', format));
    if (typeof body.instructions === 'string') blocks.push(block('system', body.instructions, 'developer'));
    if (typeof body.input === 'string') blocks.push(block('messages', body.input, 'user', 0));
    else if (Array.isArray(body.input)) messageBlocks(body.input, blocks);
    else return undefined;
  } else {
    return undefined;
  }
  return { blocks, automatic: false, mark() {} };
}

/** The client's own `prompt_cache_key`, if any. */
export function openAIPromptCacheKey(body: Record<string, unknown>): string | undefined {
  return stringField(body.prompt_cache_key);
}

export function setOpenAIPromptCacheKey(body: Record<string, unknown>, key: string): void {
  body.prompt_cache_key = key;
}

/** OpenAI caches prompts of at least 1,024 tokens, in 128-token steps (provider-facts §1.1). */
export const OPENAI_MINIMUM_CACHE_TOKENS = 1024;
