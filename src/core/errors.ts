/**
 * Errors the gateway raises itself (not upstream errors, which pass through untouched).
 * Each provider adapter renders them in that provider's own error shape and status.
 */
export type GatewayErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'upstream_unavailable'
  | 'internal';

export const STATUS_BY_KIND: Record<GatewayErrorKind, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  upstream_unavailable: 502,
  internal: 500,
};

export class GatewayError extends Error {
  readonly kind: GatewayErrorKind;
  readonly param: string | undefined;

  constructor(kind: GatewayErrorKind, message: string, param?: string) {
    super(message);
    this.name = 'GatewayError';
    this.kind = kind;
    this.param = param;
  }

  get status(): number {
    return STATUS_BY_KIND[this.kind];
  }
}
