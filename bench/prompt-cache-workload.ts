/**
 * A generated, seeded workload for the prompt-cache benchmark: six product features over six
 * simulated hours, shaped like real chat, RAG and batch-ish traffic. Everything is built from a
 * seeded generator, so the planner-off and planner-auto runs replay exactly the same calls.
 *
 * Features (what the client sends; no feature sets cache markers itself). Sizes are o200k tokens:
 *  - support-chat     Anthropic Sonnet 4.5: 2.4k tokens of tools + 3.8k system, multi-turn sessions
 *                     arriving in bursts (busy and quiet periods), turns 15-90 s apart.
 *  - doc-qa           Bedrock Converse Sonnet 4.5: 1.9k system, two retrieved documents (1.4-2.6k each,
 *                     of a 40-document corpus with Zipf popularity, reused across users) and a question.
 *  - account-digest   Bedrock InvokeModel (Anthropic body) Sonnet 4.5: 1.5k tools + 4.2-5.1k system in
 *                     three report templates, each run every 20-40 minutes with fresh account data.
 *  - ticket-triage    Anthropic Sonnet 4.5: 2.0k tools, then a system prompt that starts with the
 *                     current time (to the millisecond) followed by 3.2k tokens of rules; bursty.
 *  - contract-extract Anthropic Sonnet 4.5: 0.5k instructions and a never-seen-before contract
 *                     (3-6k tokens) every few minutes: nothing in it is ever reused.
 *  - sql-assistant    OpenAI gpt-4.1: 1.1k tools + 2.7k system, short multi-turn sessions.
 *
 * Two more features, generated from a separate seed and reported apart from the six (so the six-feature
 * figures stay comparable), exercise OpenAI gpt-5.6 explicit breakpoints against implicit caching:
 *  - clause-qa        gpt-5.6-sol Chat: 2.6k system, then retrieved clauses no other call shares
 *                     (0.8-1.6k tokens) and a question; steady, every ~90 s.
 *  - agent-chat       gpt-5.6-terra Responses: 2.2k `instructions` (no breakpoint can end there),
 *                     multi-turn sessions of 2-5 turns 20-60 s apart.
 */

export type FeatureName =
  | 'support-chat'
  | 'doc-qa'
  | 'account-digest'
  | 'ticket-triage'
  | 'contract-extract'
  | 'sql-assistant'
  | 'clause-qa'
  | 'agent-chat';

export interface WorkloadEvent {
  /** Milliseconds from the start of the run (simulated). */
  at: number;
  feature: FeatureName;
  /** Conversation (or template / document pick) this call belongs to. */
  session: number;
  turn: number;
  user: string;
}

export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const WORDS = (
  'the account customer order refund policy shipping invoice payment billing plan seat upgrade downgrade ' +
  'escalate priority ticket agent response within hours business days verify identity security password ' +
  'reset access admin role permission export report monthly quarterly usage limit quota region latency ' +
  'database query table index column join filter group summary revenue churn cohort retention forecast ' +
  'contract clause term renewal termination liability indemnity warranty confidentiality notice party ' +
  'effective date governing law dispute arbitration schedule exhibit amendment assignment obligation ' +
  'document section paragraph reference version release feature setting integration webhook token api ' +
  'must should never always only when if unless before after during each every any all other same ' +
  'customer-facing internal escalation path severity critical major minor trivial outage incident status ' +
  'apologize explain clarify confirm collect summarize cite quote link attach record note tag assign route'
).split(' ');

export function prose(next: () => number, tokens: number, topic: string): string {
  // About 1.3 tokens a word for this vocabulary with the o200k tokenizer.
  const words = Math.round(tokens / 1.3);
  const sentences: string[] = [];
  let count = 0;
  let sentence: string[] = [];
  while (count < words) {
    sentence.push(WORDS[Math.floor(next() * WORDS.length)] ?? 'note');
    count += 1;
    if (sentence.length >= 8 + Math.floor(next() * 12)) {
      sentences.push(`${sentence.join(' ')}.`);
      sentence = [];
    }
  }
  if (sentence.length > 0) sentences.push(`${sentence.join(' ')}.`);
  const paragraphs: string[] = [];
  for (let index = 0; index < sentences.length; index += 6) {
    paragraphs.push(`${topic} ${Math.floor(index / 6) + 1}. ${sentences.slice(index, index + 6).join(' ')}`);
  }
  return paragraphs.join('\n\n');
}

export interface ToolDefinition {
  name: string;
  description: string;
  input_schema: { type: 'object'; properties: Record<string, unknown>; required: string[] };
}

export function tools(next: () => number, count: number, tokensEach: number, prefix: string): ToolDefinition[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `${prefix}_${index}`,
    description: prose(next, tokensEach * 0.6, 'Use'),
    input_schema: {
      type: 'object' as const,
      properties: Object.fromEntries(
        Array.from({ length: 4 }, (_, field) => [`field_${field}`, { type: 'string', description: prose(next, tokensEach * 0.08, 'Field') }]),
      ),
      required: ['field_0'],
    },
  }));
}

function exponential(next: () => number, mean: number): number {
  return -Math.log(1 - next()) * mean;
}

function uniform(next: () => number, low: number, high: number): number {
  return low + next() * (high - low);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Alternating busy and quiet periods: arrival times for a bursty feature. */
function burstyArrivals(next: () => number, duration: number, meanGap: number): number[] {
  const times: number[] = [];
  let time = uniform(next, 0, 5 * MINUTE);
  while (time < duration) {
    const busyUntil = time + uniform(next, 10 * MINUTE, 25 * MINUTE);
    while (time < busyUntil && time < duration) {
      times.push(time);
      time += exponential(next, meanGap);
    }
    time = busyUntil + uniform(next, 5 * MINUTE, 40 * MINUTE);
  }
  return times;
}

function steadyArrivals(next: () => number, duration: number, meanGap: number): number[] {
  const times: number[] = [];
  for (let time = exponential(next, meanGap); time < duration; time += exponential(next, meanGap)) times.push(time);
  return times;
}

/** Zipf-like rank: rank r is drawn with weight 1/(r+1)^s. */
export function zipf(next: () => number, size: number, exponent = 1.1): number {
  let total = 0;
  for (let rank = 0; rank < size; rank += 1) total += 1 / (rank + 1) ** exponent;
  let draw = next() * total;
  for (let rank = 0; rank < size; rank += 1) {
    draw -= 1 / (rank + 1) ** exponent;
    if (draw <= 0) return rank;
  }
  return size - 1;
}

export const DURATION = 6 * 60 * MINUTE;

export function generateEvents(seed: number): WorkloadEvent[] {
  const next = random(seed);
  const events: WorkloadEvent[] = [];
  let session = 0;
  const user = () => `user-${Math.floor(next() * 400)}`;
  const conversations = (feature: FeatureName, starts: number[], minTurns: number, maxTurns: number, gapLow: number, gapHigh: number) => {
    for (const start of starts) {
      session += 1;
      const turns = minTurns + Math.floor(next() * (maxTurns - minTurns + 1));
      const who = user();
      let at = start;
      for (let turn = 0; turn < turns && at < DURATION; turn += 1) {
        events.push({ at, feature, session, turn, user: who });
        at += uniform(next, gapLow, gapHigh);
      }
    }
  };
  conversations('support-chat', burstyArrivals(next, DURATION, 50 * SECOND), 2, 6, 15 * SECOND, 90 * SECOND);
  conversations('sql-assistant', steadyArrivals(next, DURATION, 4 * MINUTE), 2, 4, 20 * SECOND, 2 * MINUTE);
  for (const at of steadyArrivals(next, DURATION, 40 * SECOND)) events.push({ at, feature: 'doc-qa', session: (session += 1), turn: 0, user: user() });
  for (const at of burstyArrivals(next, DURATION, 25 * SECOND)) events.push({ at, feature: 'ticket-triage', session: (session += 1), turn: 0, user: user() });
  for (const at of steadyArrivals(next, DURATION, 3 * MINUTE)) events.push({ at, feature: 'contract-extract', session: (session += 1), turn: 0, user: user() });
  for (let template = 0; template < 3; template += 1) {
    // Each run is its own turn, so its account data is drawn afresh (the per-call randomness is seeded
    // by feature, session and turn).
    let run = 0;
    for (let at = uniform(next, 0, 30 * MINUTE); at < DURATION; at += uniform(next, 20 * MINUTE, 40 * MINUTE)) {
      events.push({ at, feature: 'account-digest', session: template, turn: run, user: `tenant-${Math.floor(next() * 50)}` });
      run += 1;
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

/** The gpt-5.6 features, from their own seed so that the six features' events are unchanged. */
export function generateExplicitEvents(seed: number): WorkloadEvent[] {
  const next = random(seed ^ 0x56);
  const events: WorkloadEvent[] = [];
  let session = 1_000_000;
  for (const at of steadyArrivals(next, DURATION, 90 * SECOND)) events.push({ at, feature: 'clause-qa', session: (session += 1), turn: 0, user: `user-${Math.floor(next() * 400)}` });
  for (const start of steadyArrivals(next, DURATION, 3 * MINUTE)) {
    session += 1;
    const turns = 2 + Math.floor(next() * 4);
    const who = `user-${Math.floor(next() * 400)}`;
    let at = start;
    for (let turn = 0; turn < turns && at < DURATION; turn += 1) {
      events.push({ at, feature: 'agent-chat', session, turn, user: who });
      at += uniform(next, 20 * SECOND, 60 * SECOND);
    }
  }
  return events.sort((a, b) => a.at - b.at);
}
