import type { AlternateConfig } from '../../config/resilience-config.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import { anthropicCallOnBedrock, BedrockInvokeStreamToSse } from '../../providers/bedrock/anthropic-messages-on-bedrock.ts';
import { bedrockOperation, type BedrockAction } from '../../providers/bedrock/bedrock-adapter.ts';
import type { ParsedCall } from '../../providers/provider.ts';
import type { HeaderMap, ResponseSink } from '../context.ts';
import { WrappingSink } from '../wrapping-sink.ts';

/** One call sent to an alternate, and how its response is turned back into the client's format. */
export interface AlternateCall {
  call: ParsedCall;
  /** The alternate's body replaces the client's bytes. */
  bodyChanged: boolean;
  /** Wraps the client's sink when the alternate streams in another wire format. */
  convertStream?: (sink: ResponseSink) => ResponseSink;
}

/** Which alternates a call can fall back to: any model of its own provider, and Anthropic Messages on Bedrock. */
export function fallbackSupported(from: ProviderId, to: ProviderId): boolean {
  return from === to || (from === 'anthropic' && to === 'bedrock');
}

/** The client's call aimed at an alternate; undefined when this call's endpoint cannot go there. */
export function alternateCall(call: ParsedCall, alternate: AlternateConfig): AlternateCall | undefined {
  const from = call.operation.provider;
  if (from === alternate.provider) {
    if (from === 'bedrock') {
      // Bedrock names the model in the path; the body stays as the client sent it.
      const operation = bedrockOperation(call.operation.endpoint as BedrockAction, encodeURIComponent(alternate.model));
      return { call: { ...call, operation, model: alternate.model }, bodyChanged: false };
    }
    if (!call.body || typeof call.body.model !== 'string') return undefined;
    return { call: { ...call, body: { ...call.body, model: alternate.model }, model: alternate.model }, bodyChanged: true };
  }
  if (from === 'anthropic' && alternate.provider === 'bedrock' && call.operation.endpoint === 'messages') {
    return {
      call: anthropicCallOnBedrock(call, alternate.model),
      bodyChanged: true,
      ...(call.stream ? { convertStream: (sink: ResponseSink) => new SseFromBedrockSink(sink) } : {}),
    };
  }
  return undefined;
}

/** Sends a Bedrock InvokeModel stream to an Anthropic client as Messages SSE. */
class SseFromBedrockSink extends WrappingSink {
  readonly #converter = new BedrockInvokeStreamToSse();

  override start(status: number, headers: HeaderMap): void {
    const kept: HeaderMap = {};
    for (const [name, value] of Object.entries(headers)) if (name !== 'content-type' && !name.startsWith('x-amzn-bedrock')) kept[name] = value;
    this.inner.start(status, { ...kept, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  }

  override write(chunk: Buffer): boolean {
    return this.inner.write(this.#converter.push(chunk));
  }
}
