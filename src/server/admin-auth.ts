import { timingSafeEqual } from 'node:crypto';
import type { GatewayRequest } from './dual-protocol-server.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Who may read the admin API, analytics and /metrics. With COSTGATE_ADMIN_KEY set: whoever sends
 * it as a bearer token. Without one, only this machine: a gateway bound to a public address must
 * not hand every caller its spend data and key list because nobody set a key.
 */
export function adminAuthorized(request: Pick<GatewayRequest, 'headers' | 'socket'>, adminKey: string | undefined): boolean {
  if (!adminKey) return LOOPBACK.has(request.socket?.remoteAddress ?? '');
  const header = request.headers.authorization;
  const given = Buffer.from(typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(adminKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The 401 message: says what to do, since "required" alone does not when no key is configured. */
export function adminRefusal(adminKey: string | undefined): string {
  return adminKey ? 'admin key required' : 'the admin API answers only local callers unless COSTGATE_ADMIN_KEY is set on the gateway';
}
