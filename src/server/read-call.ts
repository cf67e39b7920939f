import { GatewayError } from '../core/errors.ts';
import type { Operation, ParsedCall } from '../providers/provider.ts';
import type { GatewayRequest } from './dual-protocol-server.ts';

/** Reads the body with a hard size limit; the limit is checked before buffering when the length is declared. */
export function readBody(request: GatewayRequest, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(new GatewayError('payload_too_large', `request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new GatewayError('payload_too_large', `request body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * V8 quotes a piece of the body in some JSON errors (`Unexpected token 'h', "hello sk-p"... is not
 * valid JSON`); the body is the client's content, which never goes into messages or logs.
 */
export function withoutQuotedBody(message: string): string {
  const quote = message.search(/,?\s*(?:\.\.\.)?"/);
  return quote === -1 ? message : message.slice(0, quote);
}

/** Validates and parses a request body at the edge; unknown fields are kept untouched. */
export function parseCall(operation: Operation, method: string, headers: ParsedCall['headers'], rawBody: Buffer): ParsedCall {
  if (method === 'GET') return { operation, body: undefined, rawBody: undefined, model: undefined, stream: false, headers };
  const contentType = String(headers['content-type'] ?? '');
  if (!contentType.toLowerCase().includes('json')) {
    throw new GatewayError('unsupported_media_type', `expected Content-Type application/json, got ${contentType || 'none'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw new GatewayError('invalid_request', `request body is not valid JSON: ${withoutQuotedBody((error as Error).message)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('invalid_request', 'request body must be a JSON object');
  }
  const body = parsed as Record<string, unknown>;
  const model = operation.pathModel ?? (typeof body.model === 'string' ? body.model : undefined);
  if (!model) throw new GatewayError('invalid_request', 'you must provide a model parameter', 'model');
  return { operation, body, rawBody, model, stream: operation.streamByRoute ?? body.stream === true, headers };
}
