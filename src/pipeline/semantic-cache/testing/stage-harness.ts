import type { UsageEvent } from '../../../core/usage-event.ts';
import { createPricer } from '../../../pricing/pricer.ts';
import { createOpenAIAdapter, OPENAI_OPERATIONS } from '../../../providers/openai/openai-adapter.ts';
import type { ParsedCall } from '../../../providers/provider.ts';
import { compose } from '../../compose.ts';
import type { CallContext, HeaderMap, ResponseSink } from '../../context.ts';
import type { Stage } from '../../stage.ts';

export const pricer = createPricer();
const adapter = createOpenAIAdapter({ baseURL: 'http://upstream.invalid/v1', apiKey: undefined });

export class MemorySink implements ResponseSink {
  started = false;
  status: number | undefined;
  chunks: Buffer[] = [];
  headers: HeaderMap = {};
  start(status: number, headers: HeaderMap): void {
    this.started = true;
    this.status = status;
    this.headers = headers;
  }
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  onDrain(): void {}
  end(): void {}
  abort(): void {}
}

export interface ChatRequest {
  prompt: string;
  apiKey?: string;
  customer?: string;
  feature?: string;
  system?: string;
  temperature?: number;
  history?: Array<{ role: 'user' | 'assistant'; content: string }>;
  headers?: Record<string, string>;
  stream?: boolean;
}

let sequence = 0;

/** An OpenAI chat call as the server would hand it to the pipeline. */
export function chatContext(request: ChatRequest): CallContext {
  const messages = [
    ...(request.system ? [{ role: 'system', content: request.system }] : []),
    ...(request.history ?? []),
    { role: 'user', content: request.prompt },
  ];
  const body: Record<string, unknown> = { model: 'gpt-4o-mini', messages };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.stream) body.stream = true;
  const call: ParsedCall = {
    operation: OPENAI_OPERATIONS.chat,
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    model: 'gpt-4o-mini',
    stream: request.stream === true,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${request.apiKey ?? 'sk-test'}`, ...request.headers },
  };
  sequence += 1;
  return {
    requestId: `request-${sequence}`,
    receivedAt: Date.now(),
    startedAt: performance.now(),
    adapter,
    call,
    signal: new AbortController().signal,
    sink: new MemorySink(),
    attribution: {
      tags: {},
      ...(request.feature !== undefined ? { feature: request.feature } : {}),
      ...(request.customer !== undefined ? { customer: request.customer } : {}),
    },
    bodyChanged: false,
    result: undefined,
    facts: undefined,
    firstByteAt: undefined,
    cost: undefined,
    levers: [],
    event: undefined,
  };
}

/** The upstream: answers from `answer(prompt)` and counts calls. */
export function fakeUpstream(answer: (prompt: string) => string): Stage & { calls: number } {
  const stage = {
    name: 'fake-upstream',
    calls: 0,
    async run(context: CallContext) {
      stage.calls += 1;
      const messages = (context.call.body?.messages ?? []) as Array<{ content: string }>;
      const text = answer(messages.at(-1)?.content ?? '');
      if (context.call.stream) {
        const chunk = (delta: Record<string, unknown>, finish: string | null) =>
          `data: ${JSON.stringify({ id: `chatcmpl-${stage.calls}`, object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        context.sink.start(200, { 'content-type': 'text/event-stream' });
        context.sink.write(Buffer.from(chunk({ role: 'assistant', content: text }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n'));
        context.facts = { usage: { input: { total: 100, noCache: 100 }, output: { total: 50 } }, servedModel: 'gpt-4o-mini', stopReason: 'stop', errorType: undefined };
        return;
      }
      const body = {
        id: `chatcmpl-${stage.calls}`,
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
      };
      context.result = { status: 200, headers: { 'content-type': 'application/json', 'x-costgate-request-id': context.requestId }, body: Buffer.from(JSON.stringify(body)) };
      context.facts = adapter.readResponse(context.call, 200, {}, context.result.body);
    },
  };
  return stage;
}

export function runPipeline(stages: Stage[]): (context: CallContext) => Promise<CallContext> {
  const pipeline = compose(stages);
  return async (context) => {
    await pipeline(context);
    return context;
  };
}

export function answerText(context: CallContext): string | undefined {
  if (!context.result) return undefined;
  const parsed = JSON.parse(context.result.body.toString('utf8')) as { choices: Array<{ message: { content: string } }> };
  return parsed.choices[0]?.message.content;
}

export function collectingSink(): { record(event: UsageEvent): void; events: UsageEvent[] } {
  const events: UsageEvent[] = [];
  return { record: (event) => events.push(event), events };
}
