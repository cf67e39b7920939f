import type { ProviderId } from '../../core/provider-id.ts';
import type { ParsedCall } from '../../providers/provider.ts';

function single(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}

function bearer(value: string | undefined): string | undefined {
  const match = value ? /^Bearer\s+(\S+)$/i.exec(value) : null;
  return match?.[1];
}

/** The headers a client may carry a gateway key in, per provider, in the order they are read. */
const KEY_HEADERS: Record<ProviderId, readonly string[]> = {
  // The OpenAI SDKs send `Authorization: Bearer`.
  openai: ['x-costgate-key', 'authorization'],
  // The Anthropic SDKs send `x-api-key` (or `Authorization: Bearer` with an auth token).
  anthropic: ['x-costgate-key', 'x-api-key', 'authorization'],
  // The AWS SDK sends `Authorization: Bearer` when given a Bedrock API key (token / AWS_BEARER_TOKEN_BEDROCK).
  bedrock: ['x-costgate-key', 'authorization'],
};

/**
 * The gateway key the client presented, removed from the call's headers so it can never be
 * forwarded upstream (the adapter adds the gateway's own provider credentials).
 */
export function takePresentedKey(call: ParsedCall): string | undefined {
  let found: string | undefined;
  for (const name of KEY_HEADERS[call.operation.provider]) {
    const value = single(call.headers[name]);
    const secret = name === 'authorization' ? bearer(value) : value;
    found ??= secret;
  }
  for (const name of KEY_HEADERS[call.operation.provider]) delete call.headers[name];
  return found;
}
