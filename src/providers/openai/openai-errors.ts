import type { GatewayError, GatewayErrorKind } from '../../core/errors.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { tryParseJson } from '../server-sent-events.ts';

const TYPE_BY_KIND: Record<GatewayErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  rate_limited: 'rate_limit_error',
  upstream_unavailable: 'server_error',
  internal: 'server_error',
};

/** OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`. */
export function renderOpenAIError(error: GatewayError) {
  const body = {
    error: { message: error.message, type: TYPE_BY_KIND[error.kind], param: error.param ?? null, code: error.kind },
  };
  return { status: error.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function openAIErrorType(body: Buffer): string | undefined {
  const error = objectField(objectField(tryParseJson(body.toString('utf8')))?.error);
  return stringField(error?.type) ?? stringField(error?.code) ?? 'error';
}
