/** Who a call is for. Filled from x-costgate-* headers, then from the provider's own body fields. */
export interface Attribution {
  feature?: string;
  customer?: string;
  user?: string;
  /**
   * Which client credential made the call, as the first 12 hex digits of SHA-256 of the key (for
   * SigV4, of the access key id). The key itself is never stored; a user can compute the same id
   * with `printf %s "$KEY" | sha256sum | cut -c1-12`.
   */
  apiKeyId?: string;
  tags: Record<string, string>;
}
