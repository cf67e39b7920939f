import type { GatewayError, GatewayErrorKind } from '../../core/errors.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { tryParseJson } from '../server-sent-events.ts';

const TYPE_BY_KIND: Record<GatewayErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  payload_too_large: 'request_too_large',
  unsupported_media_type: 'invalid_request_error',
  rate_limited: 'rate_limit_error',
  upstream_unavailable: 'api_error',
  internal: 'api_error',
};

/** Anthropic's error body: `{"type":"error","error":{"type","message"}}`. */
export function renderAnthropicError(error: GatewayError) {
  const body = { type: 'error', error: { type: TYPE_BY_KIND[error.kind], message: error.message } };
  return { status: error.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function anthropicErrorType(body: Buffer): string {
  const error = objectField(objectField(tryParseJson(body.toString('utf8')))?.error);
  return stringField(error?.type) ?? 'error';
}
