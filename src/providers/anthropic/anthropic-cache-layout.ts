import { type CacheBlock, type CacheLayout, type CacheRules, type CacheTtl, matchRule } from '../cache-layout.ts';
import { objectField } from '../forward-headers.ts';

/**
 * Anthropic Messages bodies (the direct API and Bedrock InvokeModel) as a cache layout: tools, then
 * system, then message content blocks; `cache_control` markers on any of them (provider-facts §1.2).
 */

/**
 * Minimum cacheable prefix on the Anthropic API (provider-facts §1.2). Where sources conflict the
 * stricter value is kept (Sonnet 4.6: 2,048; Opus 4.7: 4,096), as the facts advise.
 */
const ANTHROPIC_MINIMUMS: ReadonlyArray<readonly [RegExp, number]> = [
  [/(opus|fable|mythos)-5/, 512],
  [/opus-4-8/, 1024],
  [/opus-4-[5-7]|haiku-4-5/, 4096],
  [/sonnet-4-6|haiku-3|3-5-haiku|3-haiku/, 2048],
];

export function anthropicCacheRules(model: string): CacheRules {
  return {
    minimumTokens: matchRule(model, ANTHROPIC_MINIMUMS, 1024),
    minimumRule: 'cumulative',
    ttls: ['5m', '1h'],
    maxBreakpoints: 4,
    lookbackBlocks: 20,
  };
}

// Thinking blocks take no cache_control (provider-facts §1.2).
const UNMARKABLE = new Set(['thinking', 'redacted_thinking']);

function markerTtl(marker: unknown): CacheTtl | undefined {
  const value = objectField(marker);
  if (!value) return undefined;
  return value.ttl === '1h' ? '1h' : '5m';
}

function marker(ttl: CacheTtl): Record<string, unknown> {
  // 5m is the default TTL; leaving it out keeps the marker valid on every model and route.
  return ttl === '1h' ? { type: 'ephemeral', ttl: '1h' } : { type: 'ephemeral' };
}

/** Key and token text of one block, the marker left out, so a string equals one text block. */
function describe(value: unknown): { key: string; text: string; type: string | undefined } {
  if (typeof value === 'string') return { key: `T${value}`, text: value, type: 'text' };
  const record = objectField(value);
  if (!record) {
    const json = JSON.stringify(value) ?? '';
    return { key: json, text: json, type: undefined };
  }
  const type = typeof record.type === 'string' ? record.type : undefined;
  const keys = Object.keys(record);
  if (type === 'text' && typeof record.text === 'string' && keys.every((key) => key === 'type' || key === 'text' || key === 'cache_control')) {
    return { key: `T${record.text}`, text: record.text, type };
  }
  const { cache_control: _marker, ...rest } = record;
  const json = JSON.stringify(rest);
  return { key: json, text: type === 'text' && typeof record.text === 'string' ? record.text : json, type };
}

/** The cache layout of an Anthropic Messages body, or undefined when it has no messages. */
export function anthropicCacheLayout(body: Record<string, unknown>): CacheLayout | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  const blocks: CacheBlock[] = [];
  const setters: Array<(ttl: CacheTtl) => void> = [];
  const add = (block: CacheBlock, set: (ttl: CacheTtl) => void) => {
    blocks.push(block);
    setters.push(set);
  };

  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      const record = objectField(tool);
      const { key, text } = describe(tool);
      const block: CacheBlock = { section: 'tools', key, text, markable: record !== undefined };
      const ttl = markerTtl(record?.cache_control);
      if (ttl) block.clientTtl = ttl;
      add(block, (chosen) => {
        if (record) record.cache_control = marker(chosen);
      });
    }
  }

  const system = body.system;
  if (typeof system === 'string' && system !== '') {
    add({ section: 'system', key: `T${system}`, text: system, markable: true }, (chosen) => {
      body.system = [{ type: 'text', text: system, cache_control: marker(chosen) }];
    });
  } else if (Array.isArray(system)) {
    for (const item of system) {
      const record = objectField(item);
      const { key, text } = describe(item);
      const block: CacheBlock = { section: 'system', key, text, markable: record !== undefined };
      const ttl = markerTtl(record?.cache_control);
      if (ttl) block.clientTtl = ttl;
      add(block, (chosen) => {
        if (record) record.cache_control = marker(chosen);
      });
    }
  }

  messages.forEach((message, index) => {
    const record = objectField(message);
    if (!record) return;
    const role = typeof record.role === 'string' ? record.role : 'user';
    const content = record.content;
    if (typeof content === 'string') {
      add({ section: 'messages', key: `T${content}`, text: content, message: index, role, markable: content !== '' }, (chosen) => {
        record.content = [{ type: 'text', text: content, cache_control: marker(chosen) }];
      });
      return;
    }
    if (!Array.isArray(content)) return;
    for (const item of content) {
      const part = objectField(item);
      const { key, text, type } = describe(item);
      const block: CacheBlock = { section: 'messages', key, text, message: index, role, markable: part !== undefined && !UNMARKABLE.has(type ?? '') };
      const ttl = markerTtl(part?.cache_control);
      if (ttl) block.clientTtl = ttl;
      add(block, (chosen) => {
        if (part) part.cache_control = marker(chosen);
      });
    }
  });

  return {
    blocks,
    automatic: body.cache_control !== undefined && body.cache_control !== null,
    mark(index, ttl) {
      setters[index]?.(ttl);
    },
  };
}
