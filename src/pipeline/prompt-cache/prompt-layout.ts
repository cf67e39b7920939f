import { createHash } from 'node:crypto';
import type { ProviderId } from '../../core/provider-id.ts';
import { anthropicCacheLayout, anthropicCacheRules } from '../../providers/anthropic/anthropic-cache-layout.ts';
import { bedrockCacheRules, converseCacheLayout } from '../../providers/bedrock/bedrock-cache-layout.ts';
import type { CacheLayout, CacheRules } from '../../providers/cache-layout.ts';
import { OPENAI_MINIMUM_CACHE_TOKENS, openAICacheLayout, openAICacheRules, openAITakesExplicitBreakpoints } from '../../providers/openai/openai-cache-layout.ts';
import type { ParsedCall } from '../../providers/provider.ts';
import type { TokenCounter } from './token-counter.ts';

/**
 * One call's prompt as the planner sees it: the provider's cache layout, token counts per block,
 * and a chained hash at every block boundary (equal hash = equal prefix, per provider and model).
 */

export interface PromptView {
  provider: ProviderId;
  model: string;
  layout: CacheLayout;
  /**
   * Undefined for OpenAI models before gpt-5.6, whose caching is automatic (no breakpoints planned).
   * On gpt-5.6+ the rules of explicit mode; the stage narrows them when the request stays implicit.
   */
  rules: CacheRules | undefined;
  minimumTokens: number;
  cumulative: number[];
  /** keys[i]: hash of everything through block i. */
  keys: string[];
  /** Blocks in the tools and system sections: the part that should be identical call after call. */
  stableEnd: number;
  /** Some block's count is an estimate (a long text seen for the first time; see token-counter.ts). */
  estimated: boolean;
}

function isAnthropicInvoke(call: ParsedCall, body: Record<string, unknown>): boolean {
  return body.anthropic_version !== undefined || /anthropic|claude/.test(call.model ?? '');
}

export function layoutFor(call: ParsedCall): { layout: CacheLayout; rules: CacheRules | undefined } | undefined {
  const body = call.body;
  const model = call.model;
  if (!body || !model) return undefined;
  const { provider, endpoint } = call.operation;
  if (provider === 'anthropic' && endpoint === 'messages') {
    const layout = anthropicCacheLayout(body);
    return layout && { layout, rules: anthropicCacheRules(model) };
  }
  if (provider === 'bedrock' && (endpoint === 'converse' || endpoint === 'converse-stream')) {
    const layout = converseCacheLayout(body);
    return layout && { layout, rules: bedrockCacheRules(model) };
  }
  if (provider === 'bedrock' && endpoint.startsWith('invoke') && isAnthropicInvoke(call, body)) {
    const layout = anthropicCacheLayout(body);
    return layout && { layout, rules: bedrockCacheRules(model) };
  }
  if (provider === 'openai') {
    const explicit = openAITakesExplicitBreakpoints(model);
    const layout = openAICacheLayout(endpoint, body, explicit);
    return layout && { layout, rules: explicit ? openAICacheRules('explicit') : undefined };
  }
  return undefined;
}

export function minimumFor(model: string, rules: CacheRules | undefined, overrides: Readonly<Record<string, number>>): number {
  for (const [pattern, tokens] of Object.entries(overrides)) if (model.includes(pattern)) return tokens;
  return rules?.minimumTokens ?? OPENAI_MINIMUM_CACHE_TOKENS;
}

export function viewPrompt(call: ParsedCall, counter: TokenCounter, overrides: Readonly<Record<string, number>>): PromptView | undefined {
  const found = layoutFor(call);
  const model = call.model;
  if (!found || !model || found.layout.blocks.length === 0) return undefined;
  const { layout, rules } = found;
  const cumulative: number[] = [];
  const keys: string[] = [];
  const hash = createHash('sha1').update(call.operation.provider).update('\u0000').update(model).update('\u0000');
  let total = 0;
  let stableEnd = -1;
  let estimated = false;
  layout.blocks.forEach((block, index) => {
    if (!counter.knows(block.text)) estimated = true;
    total += counter.count(block.text);
    cumulative.push(total);
    hash.update(block.section).update('\u0001').update(block.role ?? '').update('\u0001').update(block.key).update('\u0000');
    keys.push(hash.copy().digest('base64url'));
    if (block.section !== 'messages') stableEnd = index;
  });
  const minimumTokens = minimumFor(model, rules, overrides);
  return {
    provider: call.operation.provider,
    model,
    layout,
    rules: rules && { ...rules, minimumTokens },
    minimumTokens,
    cumulative,
    keys,
    stableEnd,
    estimated,
  };
}

/** The stable section as one text, for the audit. */
export function stableText(view: PromptView): string {
  return view.layout.blocks
    .slice(0, view.stableEnd + 1)
    .map((block) => block.text)
    .join('\n');
}
