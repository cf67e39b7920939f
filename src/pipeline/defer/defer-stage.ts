import { GatewayError } from '../../core/errors.ts';
import { raiseCacheMarkersToOneHour } from '../../providers/anthropic/anthropic-cache-ttl.ts';
import { apiKeyId } from '../attribution/attribution-stage.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import { DEFER_HEADER, DEFERRED_PATH, type DeferQueue, WEBHOOK_HEADER } from './defer-queue.ts';

/**
 * Deferred requests: a call carrying `x-costgate-defer: 24h` is persisted, answered `202 Accepted`
 * with its id, and sent later in a provider batch at half price (src/batch/deferred/). The stage
 * never calls next for such a call, so no upstream call and no on-demand ledger row happen now; the
 * row comes from the batch at the batch price. Every other call passes through after one header check.
 */

/** Batch windows the providers honour: results within 24 hours. */
const WINDOW = /^(\d+)(h|m)$/;
const MAX_WINDOW_MINUTES = 24 * 60;

/** Operations a provider batch accepts. */
const DEFERRABLE = new Set(['/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/messages']);

/** The path as a batch line names it: OpenAI's upstream paths are relative to a base URL ending in /v1. */
export function batchPath(upstreamPath: string): string {
  return upstreamPath.startsWith('/v1/') ? upstreamPath : `/v1${upstreamPath}`;
}

function header(context: CallContext, name: string): string | undefined {
  const value = context.call.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reject(context: CallContext, message: string, param: string): void {
  const rendered = context.adapter.renderError(new GatewayError('invalid_request', message, param));
  context.result = { status: rendered.status, headers: rendered.headers, body: Buffer.from(rendered.body) };
}

/** Why the call cannot be deferred, or undefined when it can. */
export function deferProblem(context: CallContext, window: string, webhook: string | undefined, queue: DeferQueue): string | undefined {
  const match = WINDOW.exec(window.trim());
  if (!match) return `${DEFER_HEADER} must be a window such as "24h" (results come within 24 hours)`;
  const minutes = Number(match[1]) * (match[2] === 'h' ? 60 : 1);
  if (minutes < MAX_WINDOW_MINUTES) return `${DEFER_HEADER}: provider batches promise results within 24h, not ${window}; send "24h"`;
  const { operation } = context.call;
  const path = batchPath(operation.upstreamPath);
  if (operation.provider === 'bedrock') return 'deferred requests are not supported for Bedrock (its batch jobs take InvokeModel bodies); use costgate batch run';
  if (!DEFERRABLE.has(path)) return `${path} cannot be deferred (batch endpoints: ${[...DEFERRABLE].join(', ')})`;
  if (context.call.stream) return 'a deferred request cannot stream; drop "stream"';
  if (!context.call.body || !context.call.model) return 'a deferred request needs a JSON body with "model"';
  if (webhook !== undefined) {
    if (!queue.webhooksEnabled) return `${WEBHOOK_HEADER} needs batch.defer.webhookSecret in the gateway config (results are signed)`;
    let url: URL;
    try {
      url = new URL(webhook);
    } catch {
      return `${WEBHOOK_HEADER} must be an absolute http(s) URL`;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${WEBHOOK_HEADER} must be an absolute http(s) URL`;
  }
  return undefined;
}

export interface DeferStageOptions {
  /** Raise Anthropic cache_control markers to 1h before the request is queued. */
  oneHourCache: boolean;
}

export function createDeferStage(queue: DeferQueue, options: DeferStageOptions = { oneHourCache: false }): Stage {
  return {
    name: 'defer',
    async run(context, next) {
      const window = header(context, DEFER_HEADER);
      if (window === undefined) return next();
      const webhook = header(context, WEBHOOK_HEADER);
      const problem = deferProblem(context, window, webhook, queue);
      if (problem) return reject(context, problem, DEFER_HEADER);
      const { attribution, call } = context;
      const body = call.body ?? {};
      if (options.oneHourCache && call.operation.provider === 'anthropic') raiseCacheMarkersToOneHour(body);
      const id = await queue.enqueue({
        provider: call.operation.provider,
        model: call.model ?? '',
        upstreamPath: batchPath(call.operation.upstreamPath),
        body,
        webhook,
        feature: attribution.feature,
        customer: attribution.customer,
        user: attribution.user,
        receivedAt: context.receivedAt,
        owner: apiKeyId(call.headers),
      });
      const answer = JSON.stringify({ id, object: 'costgate.deferred', status: 'pending', result_url: `${DEFERRED_PATH}${id}`, webhook: webhook ?? null });
      context.result = {
        status: 202,
        headers: { 'content-type': 'application/json', location: `${DEFERRED_PATH}${id}`, 'x-costgate-deferred-id': id, 'x-costgate-request-id': context.requestId },
        body: Buffer.from(answer),
      };
    },
  };
}
