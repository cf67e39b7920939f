/**
 * npm run bench:prompt-cache
 *
 * Replays one generated workload (bench/prompt-cache-workload.ts: six features over six simulated
 * hours) through the gateway against the emulator twice: with the prompt-cache planner off (the calls
 * exactly as the clients send them, no breakpoints; OpenAI still caches automatically) and in `auto`.
 * Time is the emulator's controllable clock, which the gateway's planner also reads, so cache TTLs
 * and reuse intervals play out as in six real hours. Costs are the ledger rows' usage priced by the
 * gateway's pricer; input cost = cost with output tokens left out.
 *
 * Prints per feature and in total: input cost off vs auto, hit rates, premium paid, read savings, the
 * lever savings the ledger recorded, the TTLs chosen, and the prefix-stability audit. Ends with one
 * summary line. BENCH_DUMP=<path> also writes every call's usage and planner decision to
 * <path>.off.jsonl and <path>.auto.jsonl, for looking into what the planner did.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { formatPrefixAudit, prefixAuditRows } from '../src/analytics/prompt-cache/prefix-audit-report.ts';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { formatUsd, type Picodollars } from '../src/core/money.ts';
import type { UsageEvent } from '../src/core/usage-event.ts';
import type { Usage } from '../src/core/usage.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createFileStateStore, plannerStatePath, type PlannerState } from '../src/pipeline/prompt-cache/planner-state-file.ts';
import { createPricer } from '../src/pricing/pricer.ts';
import { startGateway } from '../src/server/start-gateway.ts';
import { DURATION, type FeatureName, generateEvents, generateExplicitEvents, prose, random, tools, type WorkloadEvent, zipf } from './prompt-cache-workload.ts';

const SEED = Number(process.env.BENCH_SEED ?? 20260821);
const SONNET = 'claude-sonnet-4-5';
const BEDROCK_SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const FEATURES: FeatureName[] = ['support-chat', 'doc-qa', 'account-digest', 'ticket-triage', 'contract-extract', 'sql-assistant'];
/** gpt-5.6 explicit breakpoints against implicit caching: reported apart from the six features. */
const EXPLICIT_FEATURES: FeatureName[] = ['clause-qa', 'agent-chat'];
const PROVIDER: Record<FeatureName, string> = {
  'support-chat': 'anthropic',
  'doc-qa': 'bedrock converse',
  'account-digest': 'bedrock invoke',
  'ticket-triage': 'anthropic',
  'contract-extract': 'anthropic',
  'sql-assistant': 'openai',
  'clause-qa': 'openai gpt-5.6 chat',
  'agent-chat': 'openai gpt-5.6 responses',
};

// ------------------------------------------------------------------------------------------------
// The prompts every client of a feature shares (built once, identical in both runs).
// ------------------------------------------------------------------------------------------------
const assets = (() => {
  const next = random(SEED ^ 0x5eed);
  const supportTools = tools(next, 10, 180, 'support');
  const sqlTools = tools(next, 5, 160, 'sql').map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: tool.input_schema },
  }));
  return {
    supportTools,
    supportSystem: prose(next, 4200, 'Support policy'),
    docSystem: prose(next, 2000, 'Answering rules'),
    corpus: Array.from({ length: 40 }, (_, index) => `Document ${index}: ${prose(next, 1500 + Math.floor(next() * 1500), 'Article')}`),
    digestTools: tools(next, 6, 200, 'digest'),
    digestTemplates: [0, 1, 2].map((template) => prose(next, 4500 + 500 * template, `Digest template ${template}`)),
    triageTools: tools(next, 8, 190, 'triage'),
    triageRules: prose(next, 3500, 'Triage rule'),
    contractInstructions: prose(next, 600, 'Extraction'),
    sqlTools,
    sqlSystem: prose(next, 3000, 'Schema note'),
    clauseSystem: prose(random(SEED ^ 0x56c1), 2600, 'Review rule'),
    agentInstructions: prose(random(SEED ^ 0x56a9), 2200, 'Agent guideline'),
  };
})();

/** Per-call randomness that does not depend on the run. */
function eventRandom(event: WorkloadEvent): () => number {
  let hash = 2166136261;
  for (const character of `${event.feature}:${event.session}:${event.turn}`) hash = Math.imul(hash ^ character.charCodeAt(0), 16777619);
  return random(hash ^ SEED);
}

// ------------------------------------------------------------------------------------------------
// One run
// ------------------------------------------------------------------------------------------------
interface Sent {
  feature: FeatureName;
  requestId: string;
  event: WorkloadEvent;
}

interface RunResult {
  rows: Array<{ feature: FeatureName; row: UsageEvent; event: WorkloadEvent }>;
  state: PlannerState | undefined;
  elapsedMs: number;
}

async function run(mode: 'off' | 'auto', events: readonly WorkloadEvent[]): Promise<RunResult> {
  const emulator = await startEmulator({ port: 0, replyTokens: 120 });
  const directory = mkdtempSync(join(tmpdir(), `costgate-bench-prompt-cache-${mode}-`));
  const environment = {
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    OPENAI_API_KEY: 'sk-bench',
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_REGION: 'us-east-1',
  };
  const raw = mode === 'off' ? {} : { promptCache: { default: { mode }, snapshotIntervalMs: 100 } };
  const config = parseConfig(raw, environment, 'bench');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'bench' };
  const ledgerPath = join(directory, 'ledger.duckdb');
  const gateway = await startGateway({ loaded, port: 0, ledgerPath, clock: () => emulator.clock.now() });

  const anthropic = new Anthropic({ apiKey: 'client', baseURL: gateway.url, maxRetries: 0 });
  const openai = new OpenAI({ apiKey: 'client', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  const bedrock = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gateway.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  let bedrockFeature = '';
  let bedrockRequestId = '';
  bedrock.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-costgate-feature'] = bedrockFeature;
      const result = await next(args);
      bedrockRequestId = String((result.response as { headers: Record<string, string> }).headers['x-costgate-request-id'] ?? '');
      return result;
    },
    { step: 'finalizeRequest', name: 'costgateFeature' },
  );

  const chats = new Map<number, Array<{ role: 'user' | 'assistant'; content: string }>>();
  const sqlChats = new Map<number, OpenAI.ChatCompletionMessageParam[]>();
  const agentChats = new Map<number, OpenAI.Responses.ResponseInput>();
  const sent: Sent[] = [];
  const start = emulator.clock.now();
  const started = performance.now();

  for (const event of events) {
    const lag = start + event.at - emulator.clock.now();
    if (lag > 0) emulator.clock.advance(lag);
    const next = eventRandom(event);
    const headers = { 'x-costgate-feature': event.feature, 'x-costgate-user': event.user };
    const question = prose(next, 40 + Math.floor(next() * 80), 'Question');
    let requestId = '';
    switch (event.feature) {
      case 'support-chat': {
        const history = chats.get(event.session) ?? [];
        history.push({ role: 'user', content: question });
        const { data, response } = await anthropic.messages
          .create({ model: SONNET, max_tokens: 400, tools: assets.supportTools, system: assets.supportSystem, messages: history }, { headers })
          .withResponse();
        history.push({ role: 'assistant', content: data.content.map((block) => (block.type === 'text' ? block.text : '')).join('') });
        chats.set(event.session, history);
        requestId = response.headers.get('x-costgate-request-id') ?? '';
        break;
      }
      case 'ticket-triage': {
        const system = `Current time: ${new Date(emulator.clock.now()).toISOString()}\n\n${assets.triageRules}`;
        const { response } = await anthropic.messages
          .create({ model: SONNET, max_tokens: 300, tools: assets.triageTools, system, messages: [{ role: 'user', content: `Ticket: ${question}` }] }, { headers })
          .withResponse();
        requestId = response.headers.get('x-costgate-request-id') ?? '';
        break;
      }
      case 'contract-extract': {
        const contract = prose(next, 3000 + Math.floor(next() * 3000), `Contract ${event.session} clause`);
        const { response } = await anthropic.messages
          .create(
            { model: SONNET, max_tokens: 500, system: assets.contractInstructions, messages: [{ role: 'user', content: `${contract}\n\nExtract the parties, dates and renewal terms.` }] },
            { headers },
          )
          .withResponse();
        requestId = response.headers.get('x-costgate-request-id') ?? '';
        break;
      }
      case 'doc-qa': {
        const first = zipf(next, assets.corpus.length);
        let second = zipf(next, assets.corpus.length);
        if (second === first) second = (first + 1 + Math.floor(next() * 10)) % assets.corpus.length;
        bedrockFeature = event.feature;
        await bedrock.send(
          new ConverseCommand({
            modelId: BEDROCK_SONNET,
            system: [{ text: assets.docSystem }],
            messages: [{ role: 'user', content: [{ text: assets.corpus[first] ?? '' }, { text: assets.corpus[second] ?? '' }, { text: question }] }],
            inferenceConfig: { maxTokens: 400 },
          }),
        );
        requestId = bedrockRequestId;
        break;
      }
      case 'account-digest': {
        bedrockFeature = event.feature;
        const body = {
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 600,
          tools: assets.digestTools,
          system: assets.digestTemplates[event.session] ?? '',
          messages: [{ role: 'user', content: `Account data for ${event.user}: ${prose(next, 300, 'Metric')}` }],
        };
        await bedrock.send(new InvokeModelCommand({ modelId: BEDROCK_SONNET, contentType: 'application/json', body: JSON.stringify(body) }));
        requestId = bedrockRequestId;
        break;
      }
      case 'sql-assistant': {
        const history = sqlChats.get(event.session) ?? [{ role: 'system', content: assets.sqlSystem }];
        history.push({ role: 'user', content: question });
        const { data, response } = await openai.chat.completions.create({ model: 'gpt-4.1', tools: assets.sqlTools, messages: history }, { headers }).withResponse();
        history.push({ role: 'assistant', content: data.choices[0]?.message.content ?? '' });
        sqlChats.set(event.session, history);
        requestId = response.headers.get('x-costgate-request-id') ?? '';
        break;
      }
      case 'clause-qa': {
        const clauses = prose(next, 800 + Math.floor(next() * 800), `Clause ${event.session}`);
        const { response } = await openai.chat.completions
          .create(
            {
              model: 'gpt-5.6-sol',
              messages: [
                { role: 'system', content: assets.clauseSystem },
                { role: 'user', content: `${clauses}\n\n${question}` },
              ],
            },
            { headers },
          )
          .withResponse();
        requestId = response.headers.get('x-costgate-request-id') ?? '';
        break;
      }
      case 'agent-chat': {
        const input = agentChats.get(event.session) ?? [];
        input.push({ role: 'user', content: question });
        const { data, response } = await openai.responses.create({ model: 'gpt-5.6-terra', instructions: assets.agentInstructions, input }, { headers }).withResponse();
        input.push({ role: 'assistant', content: data.output_text });
        agentChats.set(event.session, input);
        requestId = response.headers.get('x-costgate-request-id') ?? '';
        break;
      }
    }
    sent.push({ feature: event.feature, requestId, event });
  }
  const elapsedMs = performance.now() - started;

  await gateway.recorder.flush();
  const byId = new Map<string, UsageEvent>();
  for (let index = 0; index < sent.length; index += 500) {
    for (const row of await gateway.ledger.get(sent.slice(index, index + 500).map((call) => call.requestId))) byId.set(row.requestId, row);
  }
  // Let the planner write its statistics snapshot (every 100 ms here) before closing.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const state = mode === 'off' ? undefined : createFileStateStore(plannerStatePath(directory)).load();
  await gateway.close();
  await emulator.close();
  bedrock.destroy();
  rmSync(directory, { recursive: true, force: true });
  const rows = sent.map((call) => {
    const row = byId.get(call.requestId);
    if (!row) throw new Error(`no ledger row for ${call.feature} call ${call.requestId}`);
    return { feature: call.feature, row, event: call.event };
  });
  const dump = process.env.BENCH_DUMP;
  if (dump) {
    // Per-decision data for analysis: one JSON line per call with its usage and the planner's detail.
    const lines = rows.map(({ feature, row, event }) =>
      JSON.stringify({ feature, at: event.at, session: event.session, turn: event.turn, user: event.user, input: row.usage.input, levers: row.levers ?? [] }, (_, value: unknown) =>
        typeof value === 'bigint' ? value.toString() : value,
      ),
    );
    writeFileSync(`${dump}.${mode}.jsonl`, `${lines.join('\n')}\n`);
  }
  return { rows, state, elapsedMs };
}

// ------------------------------------------------------------------------------------------------
// Accounting
// ------------------------------------------------------------------------------------------------
const pricer = createPricer();

interface Totals {
  requests: number;
  inputCost: Picodollars;
  inputTokens: number;
  readTokens: number;
  premium: Picodollars;
  readSavings: Picodollars;
  leverSaving: Picodollars;
  ttl5m: number;
  ttl30m: number;
  ttl1h: number;
  /** The ledger's own cache accounting (cacheWritePremium / cacheReadSaving), where rows carry it. */
  ledgerPremium: Picodollars;
  ledgerSavings: Picodollars;
}

function price(row: UsageEvent, usage: Usage): Picodollars {
  const model = row.servedModel ?? row.requestedModel ?? '';
  const result = pricer.cost({ provider: row.provider, model, usage: { input: usage.input, output: { total: 0 } }, at: new Date(row.time) });
  if (!result) throw new Error(`unpriced ${row.provider}/${model}`);
  return result.cost;
}

function asUncached(usage: Usage, reads: boolean, writes: boolean): Usage {
  const input = { ...usage.input };
  let moved = 0;
  if (reads) {
    moved += input.cacheRead ?? 0;
    input.cacheRead = 0;
  }
  if (writes) {
    moved += (input.cacheWrite5m ?? 0) + (input.cacheWrite1h ?? 0);
    input.cacheWrite5m = 0;
    input.cacheWrite1h = 0;
  }
  input.noCache = (input.noCache ?? 0) + moved;
  return { input, output: usage.output };
}

function totals(rows: RunResult['rows'], features: readonly FeatureName[]): Totals {
  const result: Totals = { requests: 0, inputCost: 0n, inputTokens: 0, readTokens: 0, premium: 0n, readSavings: 0n, leverSaving: 0n, ttl5m: 0, ttl30m: 0, ttl1h: 0, ledgerPremium: 0n, ledgerSavings: 0n };
  for (const { feature: name, row } of rows) {
    if (!features.includes(name)) continue;
    const actual = price(row, row.usage);
    result.requests += 1;
    result.inputCost += actual;
    result.inputTokens += row.usage.input.total ?? 0;
    result.readTokens += row.usage.input.cacheRead ?? 0;
    // The same definitions as the ledger's cache accounting: writes over uncached input, reads under it.
    result.premium += actual - price(row, asUncached(row.usage, false, true));
    result.readSavings += price(row, asUncached(row.usage, true, false)) - actual;
    result.ledgerPremium += row.cacheWritePremium ?? 0n;
    result.ledgerSavings += row.cacheReadSaving ?? 0n;
    for (const lever of row.levers ?? []) {
      if (lever.lever !== 'prompt_cache') continue;
      result.leverSaving += lever.saving;
      const breakpoints = (lever.detail?.breakpoints ?? []) as Array<{ ttl: string }>;
      // Breakpoints sent: in auto mode, and for OpenAI gpt-5.6 unless implicit caching was kept.
      if (lever.detail?.mode === 'auto' && lever.detail.cacheMode !== 'implicit') {
        for (const breakpoint of breakpoints) {
          if (breakpoint.ttl === '1h') result.ttl1h += 1;
          else if (breakpoint.ttl === '30m') result.ttl30m += 1;
          else result.ttl5m += 1;
        }
      }
    }
  }
  return result;
}

const usd = (amount: Picodollars, places = 4) => Number(formatUsd(amount)).toFixed(places);
const percent = (part: number, whole: number) => (whole === 0 ? '0.0%' : `${((100 * part) / whole).toFixed(1)}%`);
const change = (after: Picodollars, before: Picodollars) => (before === 0n ? 'n/a' : `${((Number(after - before) / Number(before)) * 100).toFixed(1)}%`);

function table(lines: string[][]): string {
  const widths = lines[0]?.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length))) ?? [];
  return lines.map((line) => line.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const six = generateEvents(SEED);
  const events = [...six, ...generateExplicitEvents(SEED)].sort((a, b) => a.at - b.at);
  console.log(
    `prompt-cache benchmark: ${six.length} calls of six features (+${events.length - six.length} gpt-5.6 calls reported apart) over ${DURATION / 3_600_000} simulated hours (seed ${SEED}), replayed planner off, then auto`,
  );
  const off = await run('off', events);
  const auto = await run('auto', events);

  const worse: string[] = [];
  const section = (features: readonly FeatureName[], total: string) => {
    const lines = [['feature', 'provider', 'calls', 'input $ off', 'input $ auto', 'change', 'hit off', 'hit auto', 'premium $', 'read savings $', 'lever saving $', 'TTL 5m/30m/1h']];
    for (const group of [...features.map((feature) => [feature]), features]) {
      const before = totals(off.rows, group);
      const after = totals(auto.rows, group);
      const feature = group.length === 1 ? group[0] : undefined;
      if (feature !== undefined && after.inputCost > before.inputCost) worse.push(feature);
      lines.push([
        feature ?? total,
        feature ? PROVIDER[feature] : '',
        String(after.requests),
        usd(before.inputCost),
        usd(after.inputCost),
        change(after.inputCost, before.inputCost),
        percent(before.readTokens, before.inputTokens),
        percent(after.readTokens, after.inputTokens),
        usd(after.premium),
        usd(after.readSavings),
        usd(after.leverSaving),
        `${after.ttl5m}/${after.ttl30m}/${after.ttl1h}`,
      ]);
    }
    console.log('');
    console.log(table(lines));
  };
  section(FEATURES, 'TOTAL');
  // By simulated hour: the first hour is where the planner is still learning.
  const hours = Array.from({ length: DURATION / 3_600_000 }, (_, hour) => {
    const inHour = (rows: RunResult['rows']) => rows.filter(({ event }) => Math.floor(event.at / 3_600_000) === hour);
    return `h${hour + 1} ${change(totals(inHour(auto.rows), FEATURES).inputCost, totals(inHour(off.rows), FEATURES).inputCost)}`;
  });
  console.log(`six features, input cost change by hour: ${hours.join(', ')}`);
  console.log('');
  console.log('gpt-5.6 explicit breakpoints (not in the total above): off = the provider default, implicit caching, which writes every');
  console.log('prompt at 1.25x; auto = explicit mode where the evidence says it pays more, and its lever saving is against implicit caching.');
  section(EXPLICIT_FEATURES, 'TOTAL gpt-5.6');
  console.log('');
  console.log('hit = cache-read tokens / input tokens; premium and read savings are for the auto run (off pays no premium, but for');
  console.log('the gpt-5.6 features, whose implicit caching bills every write);');
  console.log('lever saving = what the ledger rows recorded for costgate-added breakpoints (baseline without them minus cost).');
  console.log(`wall time: off ${(off.elapsedMs / 1000).toFixed(1)} s, auto ${(auto.elapsedMs / 1000).toFixed(1)} s`);

  const audit = auto.state ? prefixAuditRows(auto.state, auto.state.savedAt) : [];
  console.log('\ncostgate audit prefixes (auto run):');
  console.log(formatPrefixAudit(audit, 'table').trimEnd());

  const before = totals(off.rows, FEATURES);
  const after = totals(auto.rows, FEATURES);
  const everything = [...FEATURES, ...EXPLICIT_FEATURES];
  const ledger = totals(auto.rows, everything);
  const explicitBefore = totals(off.rows, EXPLICIT_FEATURES);
  const explicitAfter = totals(auto.rows, EXPLICIT_FEATURES);
  const timestamp = audit.find((row) => row.feature === 'ticket-triage');
  console.log(
    `ledger cache columns (auto run, all features): premium $${usd(ledger.ledgerPremium)}, read savings $${usd(ledger.ledgerSavings)}` +
      (ledger.ledgerPremium === ledger.premium && ledger.ledgerSavings === ledger.readSavings ? ' (agree with the tables)' : ' (differ from the tables: check)'),
  );
  console.log(
    `\nSUMMARY prompt-cache: input cost $${usd(before.inputCost)} off -> $${usd(after.inputCost)} auto (${change(after.inputCost, before.inputCost)}), ` +
      `hit rate ${percent(before.readTokens, before.inputTokens)} -> ${percent(after.readTokens, after.inputTokens)}, ` +
      `premium $${usd(after.premium)}, read savings $${usd(after.readSavings)}, features worse off: ${worse.length === 0 ? 'none' : worse.join(',')}, ` +
      `audit: ticket-triage ${timestamp ? `flagged (${timestamp.pattern}, $${usd(timestamp.lostPerDay, 2)}/day lost)` : 'NOT flagged'}; ` +
      `gpt-5.6 features: $${usd(explicitBefore.inputCost)} implicit -> $${usd(explicitAfter.inputCost)} auto (${change(explicitAfter.inputCost, explicitBefore.inputCost)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
