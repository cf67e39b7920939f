import { createHash } from 'node:crypto';
import type { Attribution } from '../../core/attribution.ts';
import { sigV4AccessKeyId } from '../../providers/bedrock/client-key.ts';
import type { Stage } from '../stage.ts';

const HEADER_LIMIT = 256;

function header(value: string | string[] | undefined): string | undefined {
  const single = Array.isArray(value) ? value[0] : value;
  const trimmed = single?.trim();
  return trimmed ? trimmed.slice(0, HEADER_LIMIT) : undefined;
}

/** `x-costgate-tags: team=search, env=prod` or a JSON object. */
export function parseTags(value: string | undefined): Record<string, string> {
  if (!value) return {};
  if (value.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return Object.fromEntries(Object.entries(parsed).map(([key, item]) => [key, String(item)]));
      }
    } catch {
      // Not JSON after all: fall through to the key=value form.
    }
  }
  const tags: Record<string, string> = {};
  for (const part of value.split(',')) {
    const [key, ...rest] = part.split('=');
    const name = key?.trim();
    if (name) tags[name] = rest.join('=').trim();
  }
  return tags;
}

const API_KEY_ID_LENGTH = 12;

/**
 * A non-reversible identifier of the client's credential: the key from `x-api-key` (Anthropic),
 * `authorization: Bearer` (OpenAI, Anthropic) or the SigV4 access key id (Bedrock), hashed with
 * SHA-256 and cut to 12 hex digits. Only this id ever leaves the stage; the key is not stored.
 */
export function apiKeyId(headers: Record<string, string | string[] | undefined>): string | undefined {
  const apiKey = Array.isArray(headers['x-api-key']) ? headers['x-api-key'][0] : headers['x-api-key'];
  const authorization = Array.isArray(headers['authorization']) ? headers['authorization'][0] : headers['authorization'];
  let credential = apiKey?.trim();
  if (!credential && authorization) {
    const value = authorization.trim();
    credential = sigV4AccessKeyId(value) ?? value.replace(/^Bearer\s+/i, '').trim();
  }
  if (!credential) return undefined;
  return createHash('sha256').update(credential).digest('hex').slice(0, API_KEY_ID_LENGTH);
}

/** Headers first (the operator's intent), then what the provider's own body fields say. */
export function createAttributionStage(): Stage {
  return {
    name: 'attribution',
    async run(context, next) {
      const headers = context.call.headers;
      const fromBody = context.adapter.bodyAttribution(context.call);
      const attribution: Attribution = { tags: { ...fromBody.tags, ...parseTags(header(headers['x-costgate-tags'])) } };
      const feature = header(headers['x-costgate-feature']) ?? fromBody.feature;
      const customer = header(headers['x-costgate-customer']) ?? fromBody.customer;
      const user = header(headers['x-costgate-user']) ?? fromBody.user;
      if (feature !== undefined) attribution.feature = feature;
      if (customer !== undefined) attribution.customer = customer;
      if (user !== undefined) attribution.user = user;
      const keyId = apiKeyId(headers);
      if (keyId !== undefined) attribution.apiKeyId = keyId;
      context.attribution = attribution;
      await next();
    },
  };
}
