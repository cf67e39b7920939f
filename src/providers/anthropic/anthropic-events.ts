import type { ResponseFacts } from '../provider.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { convertAnthropicUsage, mergeAnthropicStreamUsage } from './convert-anthropic-usage.ts';

/**
 * Follows Anthropic's stream events (direct SSE, or wrapped in Bedrock's event stream): the input
 * side of usage arrives on `message_start`, the cumulative output side on the last `message_delta`.
 */
export class AnthropicEventTracker {
  private startUsage: unknown;
  private deltaUsage: unknown;
  private model: string | undefined;
  private stopReason: string | undefined;
  private errorType: string | undefined;

  /** Whether an event of this type carries anything the tracker needs; lets callers skip parsing. */
  static wants(type: string | undefined): boolean {
    return type === 'message_start' || type === 'message_delta' || type === 'error';
  }

  onEvent(event: Record<string, unknown>): void {
    switch (event.type) {
      case 'message_start': {
        const message = objectField(event.message);
        this.model = stringField(message?.model) ?? this.model;
        this.startUsage = message?.usage;
        break;
      }
      case 'message_delta':
        this.deltaUsage = event.usage ?? this.deltaUsage;
        this.stopReason = stringField(objectField(event.delta)?.stop_reason) ?? this.stopReason;
        break;
      case 'error':
        this.errorType = stringField(objectField(event.error)?.type) ?? 'stream_error';
        break;
      default:
        break;
    }
  }

  facts(): ResponseFacts {
    const raw = this.deltaUsage === undefined ? this.startUsage : mergeAnthropicStreamUsage(this.startUsage, this.deltaUsage);
    return { usage: convertAnthropicUsage(raw), servedModel: this.model, stopReason: this.stopReason, errorType: this.errorType };
  }
}
