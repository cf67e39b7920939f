import { GatewayError } from '../../core/errors.ts';
import type { BufferedResult, CallContext } from '../context.ts';

/** A refusal in the provider's own error shape and status, with retry-after on 429s. */
export function rejection(context: CallContext, error: GatewayError, retryAfterSeconds?: number): BufferedResult {
  const rendered = context.adapter.renderError(error);
  const headers: Record<string, string> = { ...rendered.headers, 'x-costgate-request-id': context.requestId };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return { status: rendered.status, headers, body: Buffer.from(rendered.body) };
}

export function presentedKeyMissing(context: CallContext): BufferedResult {
  const where = context.call.operation.provider === 'anthropic' ? 'the x-api-key header' : 'Authorization: Bearer (or x-costgate-key)';
  return rejection(context, new GatewayError('authentication', `a costgate API key is required in ${where}`));
}
