// Headers that belong to the client's hop or that the gateway sets itself. Everything else,
// including provider feature headers (anthropic-beta, openai-organization, ...), passes through.
const DROPPED_REQUEST_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'proxy-authorization',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
  // Usage is read from the body, so the upstream must answer uncompressed.
  'accept-encoding',
]);

export function forwardableHeaders(
  incoming: Record<string, string | string[] | undefined>,
  alsoDrop: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || DROPPED_REQUEST_HEADERS.has(name) || alsoDrop.has(name)) continue;
    // HTTP/2 pseudo-headers (:path, :authority, ...) describe the client's hop only.
    if (name.startsWith('x-costgate-') || name.startsWith(':')) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  headers['accept-encoding'] = 'identity';
  return headers;
}

export function bodyBytes(body: Record<string, unknown> | undefined, rawBody: Buffer | undefined, changed: boolean): Buffer | undefined {
  if (changed && body) return Buffer.from(JSON.stringify(body));
  return rawBody;
}

export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function objectField(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
