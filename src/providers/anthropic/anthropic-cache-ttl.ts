/**
 * Anthropic `cache_control` markers the client set, raised to the 1-hour TTL. A batch runs its
 * requests over minutes to hours, so 5-minute entries written by one request are often gone before
 * the next request of the same batch reads them; Anthropic's batch docs suggest the 1h TTL for that
 * reason. Every marker becomes 1h, which also keeps the rule that 1h entries come before 5m ones.
 * Returns how many markers changed (the body is edited in place).
 */
export function raiseCacheMarkersToOneHour(body: Record<string, unknown>): number {
  let changed = 0;
  const visit = (block: unknown): void => {
    if (!block || typeof block !== 'object' || Array.isArray(block)) return;
    const marker = (block as Record<string, unknown>)['cache_control'];
    if (!marker || typeof marker !== 'object' || Array.isArray(marker)) return;
    const control = marker as Record<string, unknown>;
    if (control['type'] === 'ephemeral' && control['ttl'] !== '1h') {
      control['ttl'] = '1h';
      changed += 1;
    }
  };
  const visitAll = (value: unknown): void => {
    if (Array.isArray(value)) for (const block of value) visit(block);
  };
  visitAll(body['tools']);
  visitAll(body['system']);
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const message of messages) {
      if (message && typeof message === 'object') visitAll((message as Record<string, unknown>)['content']);
    }
  }
  return changed;
}
