import type { Attribution } from '../../core/attribution.ts';
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
      context.attribution = attribution;
      await next();
    },
  };
}
