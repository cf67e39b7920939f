/**
 * JSON with object keys sorted at every depth, so two bodies that differ only in key order (or in
 * whitespace) serialize, and therefore hash, alike. `undefined` members are dropped as JSON does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/** A copy of `value` without the given keys at any depth (cache markers that never change an answer). */
export function withoutKeysDeep(value: unknown, keys: ReadonlySet<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withoutKeysDeep(item, keys));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (!keys.has(key)) copy[key] = withoutKeysDeep(item, keys);
  }
  return copy;
}

/** A shallow copy of a request body without the named top-level fields. */
export function withoutFields(body: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const copy = { ...body };
  for (const field of fields) delete copy[field];
  return copy;
}
