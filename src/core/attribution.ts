/** Who a call is for. Filled from x-costgate-* headers, then from the provider's own body fields. */
export interface Attribution {
  feature?: string;
  customer?: string;
  user?: string;
  tags: Record<string, string>;
}
