import { setTimeout as delay } from 'node:timers/promises';
import type { ErrorRenderer, RequestContext } from './context.ts';
import { EmulatorError } from './context.ts';
import { SLOW_STREAM_INTERVAL_MS } from './scenarios.ts';

/** Waits, or returns early (without throwing) when the client has gone away. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Aborted: the caller checks the signal and stops.
  }
}

export function sendJson(
  context: RequestContext,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<void> {
  const payload = JSON.stringify(body);
  return sendBody(context, status, { 'content-type': 'application/json', ...headers }, payload);
}

async function sendBody(
  context: RequestContext,
  status: number,
  headers: Record<string, string>,
  payload: string | Uint8Array,
): Promise<void> {
  const { response } = context;
  if (context.isClosed()) return;
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  response.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
  if (context.scenario.brokenStream) {
    await writeThenBreak(context, [bytes.subarray(0, Math.floor(bytes.length / 2))]);
    return;
  }
  response.end(bytes);
}

export function sendError(context: RequestContext, render: ErrorRenderer, error: EmulatorError): void {
  const { response } = context;
  if (context.isClosed()) return;
  if (response.headersSent) {
    context.breakConnection();
    return;
  }
  const rendered = render(error, context.requestId);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...rendered.headers };
  if (error.retryAfterMs !== undefined) {
    headers['retry-after-ms'] = String(error.retryAfterMs);
    headers['retry-after'] = String(Math.ceil(error.retryAfterMs / 1000));
  } else if (error.kind === 'rate_limited') {
    headers['retry-after'] = '1';
  }
  response.writeHead(rendered.status, headers);
  response.end(rendered.body);
}

/**
 * Sends a streamed body chunk by chunk. With no scenario the whole stream goes out in one write
 * (the overhead benchmark's fast path); `emu-slow-stream` paces chunks 100 ms apart;
 * `emu-broken-stream` destroys the socket after half of them.
 */
export async function sendStream(
  context: RequestContext,
  headers: Record<string, string>,
  chunks: ReadonlyArray<string | Uint8Array>,
): Promise<void> {
  const { response, scenario, signal } = context;
  if (context.isClosed()) return;
  response.writeHead(200, headers);
  const limit = scenario.brokenStream ? Math.max(1, Math.floor(chunks.length / 2)) : chunks.length;
  if (!scenario.slowStream) {
    const sent = chunks.slice(0, limit);
    if (scenario.brokenStream) {
      await writeThenBreak(context, sent.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
    } else if (sent.every((chunk) => typeof chunk === 'string')) {
      response.end(sent.join(''));
    } else {
      response.end(Buffer.concat(sent.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk))));
    }
    return;
  }
  response.flushHeaders?.();
  for (let index = 0; index < limit; index += 1) {
    if (index > 0) await sleep(SLOW_STREAM_INTERVAL_MS, signal);
    if (context.isClosed()) return;
    const chunk = chunks[index];
    if (chunk !== undefined) response.write(chunk);
  }
  if (scenario.brokenStream) await writeThenBreak(context, []);
  else response.end();
}

/** Flushes what was written so the client really receives part of the body, then cuts the connection. */
async function writeThenBreak(context: RequestContext, chunks: readonly Uint8Array[]): Promise<void> {
  const { response } = context;
  await new Promise<void>((resolve) => {
    const last = chunks.length - 1;
    if (last < 0) resolve();
    chunks.forEach((chunk, index) => {
      if (index === last) response.write(chunk, () => resolve());
      else response.write(chunk);
    });
  });
  // A short pause lets the bytes leave the socket buffer before the reset.
  await delay(10);
  context.breakConnection();
}

/** One server-sent event, with an `event:` line when the provider names its events. */
export function sseEvent(data: unknown, eventName?: string): string {
  const line = `data: ${JSON.stringify(data)}\n\n`;
  return eventName === undefined ? line : `event: ${eventName}\n${line}`;
}

export const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};
