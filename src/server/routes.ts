import type { Operation, ProviderAdapter } from '../providers/provider.ts';
import { ANTHROPIC_OPERATIONS } from '../providers/anthropic/anthropic-adapter.ts';
import { bedrockOperation, type BedrockAction } from '../providers/bedrock/bedrock-adapter.ts';
import { OPENAI_OPERATIONS } from '../providers/openai/openai-adapter.ts';
import type { ProviderId } from '../core/provider-id.ts';

export type Adapters = Record<ProviderId, ProviderAdapter>;

export type RouteMatch =
  | { found: true; adapter: ProviderAdapter; operation: Operation; method: 'GET' | 'POST' }
  /** No such route: `adapter` is the provider whose error shape the caller most likely expects. */
  | { found: false; adapter: ProviderAdapter };

const BEDROCK_PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;

const FIXED_ROUTES: Record<string, { provider: ProviderId; operation: Operation; method: 'GET' | 'POST' }> = {
  'POST /v1/chat/completions': { provider: 'openai', operation: OPENAI_OPERATIONS.chat, method: 'POST' },
  'POST /v1/responses': { provider: 'openai', operation: OPENAI_OPERATIONS.responses, method: 'POST' },
  'POST /v1/embeddings': { provider: 'openai', operation: OPENAI_OPERATIONS.embeddings, method: 'POST' },
  'GET /v1/models': { provider: 'openai', operation: OPENAI_OPERATIONS.models, method: 'GET' },
  'POST /v1/messages': { provider: 'anthropic', operation: ANTHROPIC_OPERATIONS.messages, method: 'POST' },
  'POST /v1/messages/count_tokens': { provider: 'anthropic', operation: ANTHROPIC_OPERATIONS.countTokens, method: 'POST' },
};

export function matchRoute(adapters: Adapters, method: string, pathname: string): RouteMatch {
  const fixed = FIXED_ROUTES[`${method} ${pathname}`];
  if (fixed) return { found: true, adapter: adapters[fixed.provider], operation: fixed.operation, method: fixed.method };
  const bedrock = BEDROCK_PATH.exec(pathname);
  if (bedrock && method === 'POST') {
    const [, modelId, action] = bedrock as unknown as [string, string, BedrockAction];
    return { found: true, adapter: adapters.bedrock, operation: bedrockOperation(action, modelId), method: 'POST' };
  }
  if (pathname.startsWith('/model/')) return { found: false, adapter: adapters.bedrock };
  if (pathname.startsWith('/v1/messages')) return { found: false, adapter: adapters.anthropic };
  return { found: false, adapter: adapters.openai };
}
