import type { GatewayError, GatewayErrorKind } from '../../core/errors.ts';

const EXCEPTION_BY_KIND: Record<GatewayErrorKind, { type: string; status?: number }> = {
  invalid_request: { type: 'ValidationException' },
  authentication: { type: 'UnrecognizedClientException', status: 403 },
  permission: { type: 'AccessDeniedException' },
  not_found: { type: 'ResourceNotFoundException' },
  payload_too_large: { type: 'ValidationException' },
  unsupported_media_type: { type: 'ValidationException' },
  rate_limited: { type: 'ThrottlingException' },
  upstream_unavailable: { type: 'ServiceUnavailableException', status: 503 },
  internal: { type: 'InternalServerException' },
};

/** Bedrock runtime errors: `{"message"}` with the exception name in `x-amzn-errortype`. */
export function renderBedrockError(error: GatewayError) {
  const exception = EXCEPTION_BY_KIND[error.kind];
  return {
    status: exception.status ?? error.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': exception.type },
    body: JSON.stringify({ message: error.message }),
  };
}

export function bedrockErrorType(headers: Record<string, string | string[] | undefined>, body: Buffer): string {
  const header = headers['x-amzn-errortype'];
  const fromHeader = (Array.isArray(header) ? header[0] : header)?.split(':')[0];
  if (fromHeader) return fromHeader;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { __type?: string };
    return parsed.__type?.split('#').pop() ?? 'error';
  } catch {
    return 'error';
  }
}
