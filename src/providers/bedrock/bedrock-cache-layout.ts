import { type CacheBlock, type CacheLayout, type CacheRules, type CacheTtl, matchRule } from '../cache-layout.ts';
import { objectField } from '../forward-headers.ts';

/**
 * Bedrock cache rules and the Converse cache layout: `cachePoint` blocks in `toolConfig.tools`,
 * `system` and message content (provider-facts §1.3). InvokeModel with an Anthropic body uses the
 * Anthropic layout (anthropic-cache-layout.ts) with these Bedrock rules.
 */

/** Per-checkpoint minimums from the AWS table; Sonnet 4.5 is 1,024 where copies disagree (LiteLLM agrees). */
const BEDROCK_MINIMUMS: ReadonlyArray<readonly [RegExp, number]> = [
  [/(fable|mythos)-5|sonnet-5-5/, 512],
  [/opus-4-[56]|haiku-4-5/, 4096],
  [/3-5-haiku|haiku-3/, 2048],
];

/** Models the AWS table lists with the 1-hour TTL; the others take only 5 minutes. */
const ONE_HOUR_MODELS = /opus-4-5|sonnet-4-5|haiku-4-5|(fable|mythos)-5|sonnet-5|opus-5/;

export function bedrockCacheRules(modelId: string): CacheRules {
  return {
    minimumTokens: matchRule(modelId, BEDROCK_MINIMUMS, 1024),
    // "The 1st checkpoint can sit after 1,024 tokens and the 2nd after 2,048" (provider-facts §1.3).
    minimumRule: 'spacing',
    ttls: ONE_HOUR_MODELS.test(modelId) ? ['5m', '1h'] : ['5m'],
    maxBreakpoints: 4,
    lookbackBlocks: 20,
  };
}

function cachePointTtl(item: Record<string, unknown>): CacheTtl | undefined {
  const point = objectField(item.cachePoint);
  if (!point) return undefined;
  return point.ttl === '1h' ? '1h' : '5m';
}

function cachePoint(ttl: CacheTtl): Record<string, unknown> {
  // 5m is the default; models that take only 5m may not accept the ttl field at all.
  return { cachePoint: ttl === '1h' ? { type: 'default', ttl: '1h' } : { type: 'default' } };
}

function describe(item: Record<string, unknown>): { key: string; text: string } {
  const keys = Object.keys(item);
  if (typeof item.text === 'string' && keys.length === 1) return { key: `T${item.text}`, text: item.text };
  const json = JSON.stringify(item);
  return { key: json, text: json };
}

/** The cache layout of a Converse body, or undefined when it has no messages. */
export function converseCacheLayout(body: Record<string, unknown>): CacheLayout | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  const blocks: CacheBlock[] = [];
  const places: Array<{ list: unknown[]; item: unknown }> = [];

  const scan = (list: unknown[], section: CacheBlock['section'], message?: number, role?: string) => {
    for (const item of list) {
      const record = objectField(item);
      if (!record) continue;
      if (record.cachePoint !== undefined) {
        const previous = blocks.at(-1);
        const ttl = cachePointTtl(record);
        if (previous && ttl) previous.clientTtl = ttl;
        continue;
      }
      const { key, text } = describe(record);
      const block: CacheBlock = { section, key, text, markable: record.reasoningContent === undefined };
      if (message !== undefined) block.message = message;
      if (role !== undefined) block.role = role;
      blocks.push(block);
      places.push({ list, item });
    }
  };

  const tools = objectField(body.toolConfig)?.tools;
  if (Array.isArray(tools)) scan(tools, 'tools');
  if (Array.isArray(body.system)) scan(body.system, 'system');
  messages.forEach((message, index) => {
    const record = objectField(message);
    if (record && Array.isArray(record.content)) scan(record.content, 'messages', index, typeof record.role === 'string' ? record.role : 'user');
  });

  return {
    blocks,
    automatic: false,
    mark(index, ttl) {
      const place = places[index];
      if (!place) return;
      const at = place.list.indexOf(place.item);
      if (at >= 0) place.list.splice(at + 1, 0, cachePoint(ttl));
    },
  };
}
