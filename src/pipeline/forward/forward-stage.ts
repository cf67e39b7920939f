import { GatewayError } from '../../core/errors.ts';
import type { ResponseFacts, StreamObserver } from '../../providers/provider.ts';
import type { CallContext, HeaderMap } from '../context.ts';
import type { Stage } from '../stage.ts';
import type { UpstreamClient } from './upstream-client.ts';
import { timeoutErrorType, timeoutKind, type UpstreamTimeouts } from './upstream-timeouts.ts';

// Hop-by-hop headers and those the gateway recomputes; everything else reaches the client as sent.
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'proxy-authenticate',
  'proxy-connection',
  'upgrade',
  'trailer',
]);

export function responseHeaders(headers: Record<string, string | string[] | undefined>, requestId: string): HeaderMap {
  const kept: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) kept[name] = value;
  }
  kept['x-costgate-request-id'] = requestId;
  return kept;
}

function errorFacts(errorType: string): ResponseFacts {
  return { usage: undefined, servedModel: undefined, stopReason: undefined, errorType };
}

/** Sends the call upstream. Streams pass straight through to the client; other bodies are buffered. */
export function createForwardStage(client: UpstreamClient, timeouts?: UpstreamTimeouts): Stage {
  return {
    name: 'forward',
    async run(context) {
      const { adapter, call, sink } = context;
      const upstream = await adapter.prepareUpstream(call, context.bodyChanged);
      await new Promise<void>((resolve) => {
        let status = 0;
        let headers: Record<string, string | string[] | undefined> = {};
        let observer: StreamObserver | undefined;
        const chunks: Buffer[] = [];

        client.send(upstream, context.signal, {
          onStart(statusCode, upstreamHeaders) {
            status = statusCode;
            headers = upstreamHeaders;
            // Only a successful stream is passed through live; errors are small JSON bodies.
            if (call.stream && statusCode < 300) {
              observer = adapter.observeStream(call, statusCode);
              context.firstByteAt = performance.now();
              sink.start(statusCode, responseHeaders(upstreamHeaders, context.requestId));
            }
          },
          onData(chunk, resume) {
            if (!observer) {
              chunks.push(chunk);
              return true;
            }
            const accepted = sink.write(observer.transform(chunk));
            if (!accepted) sink.onDrain(resume);
            return accepted;
          },
          onEnd() {
            if (observer) {
              // The server ends the stream after the pipeline returns, so the usage event is spooled
              // before the client sees the last byte.
              context.facts = observer.finish();
            } else {
              const body = Buffer.concat(chunks);
              context.facts = adapter.readResponse(call, status, headers, body);
              context.result = { status, headers: responseHeaders(headers, context.requestId), body };
            }
            resolve();
          },
          onError(error) {
            const timeout = timeoutKind(error);
            if (context.signal.aborted) {
              context.facts = observer ? { ...observer.finish(), errorType: 'client_aborted' } : errorFacts('client_aborted');
              if (sink.started) sink.abort();
            } else if (observer) {
              // The upstream broke mid-stream: keep what usage was seen and break the client's stream too.
              context.facts = { ...observer.finish(), errorType: timeout ? timeoutErrorType(timeout) : 'upstream_stream_broken' };
              sink.abort();
            } else {
              context.facts = errorFacts(timeout ? timeoutErrorType(timeout) : 'upstream_unreachable');
              const rendered = adapter.renderError(
                new GatewayError('upstream_unavailable', timeout ? `upstream ${timeout.replace('_', ' ')} timeout: ${error.message}` : `upstream request failed: ${error.message}`),
              );
              context.result = {
                // A deadline is a gateway timeout, not a bad gateway.
                status: timeout ? 504 : rendered.status,
                headers: { ...rendered.headers, 'x-costgate-request-id': context.requestId },
                body: Buffer.from(rendered.body),
              };
            }
            resolve();
          },
        }, timeouts);
      });
    },
  };
}
