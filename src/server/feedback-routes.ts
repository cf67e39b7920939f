import type { Outcome } from '../core/outcome.ts';
import { redactAll } from '../core/redaction.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { apiKeyId } from '../pipeline/attribution/attribution-stage.ts';
import type { RecentCalls } from '../pipeline/router/recent-calls.ts';
import type { GatewayRequest, GatewayResponse } from './dual-protocol-server.ts';

export const FEEDBACK_PATH = '/costgate/feedback';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_COMMENT_CHARS = 2000;

export interface FeedbackDependencies {
  ledger: Pick<Ledger, 'recordOutcomes' | 'get'>;
  /** Routed calls remembered with their prompt (router capturePrompts). */
  recentCalls?: RecentCalls;
  /** Writes pending usage rows, so a call answered a moment ago can be found in the ledger. */
  flush?: () => Promise<void>;
}

function send(response: GatewayResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  response.end(text);
}

function fail(response: GatewayResponse, status: number, message: string, type = 'invalid_request_error'): void {
  send(response, status, { error: { message, type } });
}

function readJson(request: GatewayRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(new Error(`feedback body exceeds ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('feedback body must be JSON'));
      }
    });
    request.on('error', reject);
  });
}

/** Validates a feedback body; returns the score and the rest, or a message. */
export function parseFeedback(body: unknown): { requestId: string; score: number; detail: Record<string, unknown> } | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'expected a JSON object {"requestId", "score" | "thumbs"}';
  const record = body as Record<string, unknown>;
  const requestId = record.requestId ?? record.request_id;
  if (typeof requestId !== 'string' || requestId === '') return '"requestId" (the x-costgate-request-id of the call) is required';
  const hasScore = record.score !== undefined;
  const hasThumbs = record.thumbs !== undefined;
  if (hasScore === hasThumbs) return 'give exactly one of "score" (0..1) or "thumbs" ("up" | "down")';
  let score: number;
  const detail: Record<string, unknown> = {};
  if (hasScore) {
    if (typeof record.score !== 'number' || !Number.isFinite(record.score) || record.score < 0 || record.score > 1) return '"score" must be a number from 0 to 1';
    score = record.score;
  } else {
    if (record.thumbs !== 'up' && record.thumbs !== 'down') return '"thumbs" must be "up" or "down"';
    score = record.thumbs === 'up' ? 1 : 0;
    detail.thumbs = record.thumbs;
  }
  if (record.comment !== undefined) {
    if (typeof record.comment !== 'string') return '"comment" must be a string';
    // Free text stored with the ledger: no credential, email or card number goes with it.
    detail.comment = redactAll(record.comment.slice(0, MAX_COMMENT_CHARS));
  }
  return { requestId, score, detail };
}

/**
 * POST /costgate/feedback {"requestId", "score": 0..1 | "thumbs": "up"|"down", "comment"?}: the
 * application's or its user's verdict on one call, stored with the ledger as an outcome for the
 * model that answered. Only calls the gateway knows (recent routed calls, or ledger rows) accept
 * feedback, so a request id that was never served is a 404, and only from the credential (Bearer or
 * x-api-key, compared by hash) that made the call.
 */
export function createFeedbackRoute(dependencies: FeedbackDependencies) {
  return async function handleFeedback(request: GatewayRequest, response: GatewayResponse): Promise<void> {
    if (request.method !== 'POST') {
      request.resume();
      fail(response, 405, 'use POST');
      return;
    }
    let body: unknown;
    try {
      body = await readJson(request);
    } catch (error) {
      fail(response, 400, (error as Error).message);
      return;
    }
    const parsed = parseFeedback(body);
    if (typeof parsed === 'string') {
      fail(response, 400, parsed);
      return;
    }
    const recent = await dependencies.recentCalls?.lookup(parsed.requestId);
    let model = recent?.model;
    let feature = recent?.feature;
    let callerOfCall = recent?.apiKeyId;
    if (!recent) {
      await dependencies.flush?.();
      const [row] = await dependencies.ledger.get([parsed.requestId]);
      if (!row) {
        fail(response, 404, `no call with request id ${parsed.requestId}`, 'not_found_error');
        return;
      }
      model = row.servedModel ?? row.requestedModel;
      feature = row.attribution.feature;
      callerOfCall = row.attribution.apiKeyId;
    }
    // A call made with a key takes feedback only from the same key; another key learns nothing,
    // not even that the call exists.
    if (callerOfCall !== undefined && callerOfCall !== apiKeyId(request.headers)) {
      fail(response, 404, `no call with request id ${parsed.requestId}`, 'not_found_error');
      return;
    }
    const outcome: Outcome = { requestId: parsed.requestId, time: Date.now(), source: 'feedback', model, score: parsed.score, feature, prompt: recent?.prompt };
    if (Object.keys(parsed.detail).length > 0) outcome.detail = parsed.detail;
    try {
      await dependencies.ledger.recordOutcomes([outcome]);
    } catch (error) {
      fail(response, 500, `could not store the feedback: ${(error as Error).message}`, 'api_error');
      return;
    }
    send(response, 200, { recorded: true, requestId: parsed.requestId, model: model ?? null, score: parsed.score, trainingExample: outcome.prompt !== undefined });
  };
}
