import type { ProviderId } from '../core/provider-id.ts';

/**
 * One merged batch output line (the provider's own result format) as the response the client would
 * have had on demand: the HTTP status and body of an OpenAI line's `response`, or of an Anthropic
 * line's `result` (the message when it succeeded, the error envelope otherwise).
 */
export interface ResponseOfLine {
  ok: boolean;
  status: number;
  body: unknown;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function responseOfBatchLine(provider: ProviderId, line: Record<string, unknown>): ResponseOfLine {
  if (provider === 'openai') {
    const response = record(line['response']);
    if (response) {
      const status = Number(response['status_code'] ?? 200);
      return { ok: status >= 200 && status < 300, status, body: response['body'] ?? null };
    }
    const error = record(line['error']) ?? { message: 'no result' };
    return { ok: false, status: 500, body: { error: { message: String(error['message'] ?? 'no result'), type: String(error['code'] ?? 'batch_error') } } };
  }
  if (provider === 'anthropic') {
    const result = record(line['result']) ?? {};
    const type = String(result['type'] ?? 'errored');
    if (type === 'succeeded') return { ok: true, status: 200, body: result['message'] ?? null };
    if (type === 'errored') return { ok: false, status: 500, body: result['error'] ?? { type: 'error', error: { type: 'api_error', message: 'errored' } } };
    return { ok: false, status: type === 'expired' ? 504 : 499, body: { type: 'error', error: { type, message: `the batch request was ${type}` } } };
  }
  const output = record(line['modelOutput']);
  return output ? { ok: true, status: 200, body: output } : { ok: false, status: 500, body: line['error'] ?? { message: 'no result' } };
}
