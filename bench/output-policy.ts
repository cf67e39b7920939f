/**
 * npm run bench:output-policy
 *
 * Replays one generated workload (bench/output-policy-workload.ts: five features, heavy-tailed answer
 * lengths, rare runaway outputs, a reasoning model and a thinking model) through the gateway against
 * the emulator twice: output policies off (the calls exactly as clients send them) and on (what an
 * operator would write per feature: learned caps everywhere; reasoning off and a JSON schema for the
 * classifier and the extractor, which need neither reasoning nor prose; a learned thinking budget
 * for the agent). Both runs use the same calls, so each call's truncation can be compared across runs.
 *
 * Prints per feature: output tokens and output cost off vs on, truncation rates, truncations the policy
 * itself caused on answers that were not runaways, and the ledger's estimated saving next to the
 * measured one; then, from each call's own usage, where the output went (reasoning, runaway answers,
 * ordinary answers) with policies off and on, and how many calls a clamp left with less reasoning
 * than the client's own setting spends. Ends with one summary line.
 *
 * Knobs: BENCH_SEED, BENCH_CALLS (per feature); BENCH_WORKLOAD=earlier replays the workload as first
 * written (runaways in fresh prose; a fixed length where no cap stops them); BENCH_AGENT_THINKING=
 * learned (default: a budget learned from the agent's own thinking) or a fixed budget such as 2048;
 * BENCH_KEEP_LEDGERS=<folder> keeps both runs' ledgers there (off/ledger.duckdb, on/ledger.duckdb).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { formatUsd, type Picodollars } from '../src/core/money.ts';
import type { ProviderId } from '../src/core/provider-id.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { createPricer } from '../src/pricing/pricer.ts';
import { startGateway } from '../src/server/start-gateway.ts';
import { FEATURES, generateCalls, REALISTIC, type FeatureName, type WorkloadCall } from './output-policy-workload.ts';

const SEED = Number(process.env.BENCH_SEED ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 800);
const WORKLOAD = process.env.BENCH_WORKLOAD ?? 'realistic';
const AGENT_THINKING = process.env.BENCH_AGENT_THINKING ?? 'learned';
const CONCURRENCY = 8;

if (WORKLOAD !== 'realistic' && WORKLOAD !== 'earlier') throw new Error(`BENCH_WORKLOAD must be realistic or earlier, got "${WORKLOAD}"`);
const agentThinking = AGENT_THINKING === 'learned' ? 'learned' : Number(AGENT_THINKING);
if (agentThinking !== 'learned' && !(Number.isInteger(agentThinking) && agentThinking >= 0)) throw new Error(`BENCH_AGENT_THINKING must be learned or a token count`);

const labelSchema = {
  name: 'label',
  schema: { type: 'object', properties: { label: { type: 'string', enum: ['billing', 'bug', 'feature_request', 'account', 'other'] } }, required: ['label'], additionalProperties: false },
};
const invoiceSchema = {
  name: 'invoice',
  schema: {
    type: 'object',
    properties: {
      vendor: { type: 'string' },
      invoiceNumber: { type: 'string' },
      date: { type: 'string' },
      total: { type: 'number' },
      currency: { type: 'string' },
      lineItems: { type: 'array', items: { type: 'object', properties: { description: { type: 'string' }, quantity: { type: 'number' }, unitPrice: { type: 'number' } }, required: ['description', 'quantity', 'unitPrice'], additionalProperties: false } },
    },
    required: ['vendor', 'invoiceNumber', 'date', 'total', 'currency', 'lineItems'],
    additionalProperties: false,
  },
};

/** Features whose policy turns reasoning off by design (the example: classification and extraction). */
const REASONING_OFF = new Set<FeatureName>(['classify', 'extract']);

const POLICY_ON = {
  outputPolicy: {
    enabled: true,
    default: { maxTokens: 'learned' },
    // Classification and extraction need no reasoning (`none`: thinking off on Claude; o-series go
    // no lower than low) and answer in JSON. The agent keeps thinking: by default its budget is
    // learned from the thinking it does (trimming a budget set above need, not the thinking itself);
    // a fixed budget is an operator's quality call the bench cannot judge.
    features: {
      classify: { reasoning: { maxEffort: 'none' }, jsonSchema: labelSchema },
      extract: { reasoning: { maxEffort: 'none' }, jsonSchema: invoiceSchema },
      agent: { reasoning: { maxThinkingTokens: agentThinking } },
    },
  },
};

interface CallResult {
  truncated: boolean;
  /** Output tokens billed, and the reasoning part of them (0 when not reported apart). */
  output: number;
  reasoning: number;
}

interface RunResult {
  calls: CallResult[];
  perFeature: Map<FeatureName, { outputTokens: number; reasoningTokens: number; estimatedSaving: Picodollars; guardRaises: number }>;
  alerts: string[];
}

function request(call: WorkloadCall): { path: string; body: Record<string, unknown>; headers: Record<string, string> } {
  const { feature } = call;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-costgate-feature': feature.name,
    'x-emulator-reply-tokens': String(call.answerTokens),
    'x-emulator-reasoning-tokens': String(call.reasoningTokens),
    ...(call.loopTokens !== undefined ? { 'x-emulator-reply-loop': String(call.loopTokens) } : {}),
    // Used by the emulator only when a JSON format is in force (the policy's schema).
    ...(call.structuredTokens !== undefined ? { 'x-emulator-structured-reply-tokens': String(call.structuredTokens) } : {}),
  };
  const text = `${feature.name} request ${call.index}: please handle this item.`;
  if (feature.provider === 'openai') {
    return {
      path: '/v1/chat/completions',
      headers: { ...headers, authorization: 'Bearer sk-bench' },
      body: {
        model: feature.model,
        messages: [{ role: 'user', content: text }],
        ...(feature.clientMaxTokens ? { max_tokens: feature.clientMaxTokens } : {}),
        ...(feature.reasoningEffort ? { reasoning_effort: feature.reasoningEffort } : {}),
      },
    };
  }
  if (feature.provider === 'anthropic') {
    return {
      path: '/v1/messages',
      headers: { ...headers, 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-bench' },
      body: {
        model: feature.model,
        max_tokens: feature.clientMaxTokens ?? 4096,
        messages: [{ role: 'user', content: text }],
        ...(feature.thinkingBudget ? { thinking: { type: 'enabled', budget_tokens: feature.thinkingBudget } } : {}),
      },
    };
  }
  return {
    path: `/model/${encodeURIComponent(feature.model)}/converse`,
    headers,
    body: { messages: [{ role: 'user', content: [{ text }] }], ...(feature.clientMaxTokens ? { inferenceConfig: { maxTokens: feature.clientMaxTokens } } : {}) },
  };
}

function stopReason(provider: string, body: Record<string, any>): string | undefined {
  if (provider === 'openai') return body['choices']?.[0]?.['finish_reason'];
  if (provider === 'anthropic') return body['stop_reason'];
  return body['stopReason'];
}

function outputUsage(provider: string, body: Record<string, any>): { output: number; reasoning: number } {
  const usage = body['usage'] ?? {};
  if (provider === 'openai') return { output: usage['completion_tokens'] ?? 0, reasoning: usage['completion_tokens_details']?.['reasoning_tokens'] ?? 0 };
  if (provider === 'anthropic') return { output: usage['output_tokens'] ?? 0, reasoning: usage['output_tokens_details']?.['thinking_tokens'] ?? 0 };
  return { output: usage['outputTokens'] ?? 0, reasoning: 0 };
}

/** When set, each run's ledger is kept under this folder (off/, on/) for `costgate audit output --ledger`. */
const KEEP_LEDGERS = process.env.BENCH_KEEP_LEDGERS;

async function run(emulator: RunningEmulator, calls: readonly WorkloadCall[], rawConfig: unknown, label: string): Promise<RunResult> {
  const directory = KEEP_LEDGERS ? join(KEEP_LEDGERS, label) : mkdtempSync(join(tmpdir(), 'costgate-bench-output-'));
  if (KEEP_LEDGERS) {
    rmSync(directory, { recursive: true, force: true });
    mkdirSync(directory, { recursive: true });
  }
  const environment = {
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    OPENAI_API_KEY: 'sk-gateway',
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: 'sk-ant-gateway',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_REGION: 'us-east-1',
  };
  const config = parseConfig(rawConfig, environment, 'bench');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'bench' };
  const alerts: string[] = [];
  const gateway = await startGateway({ loaded, port: 0, ledgerPath: join(directory, 'ledger.duckdb'), log: (line) => alerts.push(line) });
  try {
    const results: CallResult[] = new Array(calls.length);
    let nextIndex = 0;
    const worker = async () => {
      for (;;) {
        const index = nextIndex;
        nextIndex += 1;
        const call = calls[index];
        if (!call) return;
        const { path, body, headers } = request(call);
        const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
        const parsed = (await response.json()) as Record<string, any>;
        if (response.status !== 200) throw new Error(`${call.feature.name} #${call.index}: HTTP ${response.status} ${JSON.stringify(parsed).slice(0, 300)}`);
        const reason = stopReason(call.feature.provider, parsed);
        results[index] = { truncated: reason === 'length' || reason === 'max_tokens', ...outputUsage(call.feature.provider, parsed) };
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await gateway.recorder.flush();
    const perFeature: RunResult['perFeature'] = new Map();
    for (const row of await gateway.ledger.outputStatistics()) {
      if (!row.feature) continue;
      perFeature.set(row.feature as FeatureName, {
        outputTokens: row.outputTokens,
        reasoningTokens: row.reasoningTokens,
        estimatedSaving: row.outputPolicySaving,
        guardRaises: row.guardRaises,
      });
    }
    return { calls: results, perFeature, alerts };
  } finally {
    await gateway.close();
    if (!KEEP_LEDGERS) rmSync(directory, { recursive: true, force: true });
  }
}

function usd(amount: Picodollars): string {
  const [whole, fraction = ''] = formatUsd(amount).split('.');
  return `$${whole}.${fraction.padEnd(4, '0').slice(0, 4)}`;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

async function main(): Promise<void> {
  const calls = generateCalls(SEED, CALLS, WORKLOAD === 'realistic' ? REALISTIC : { loops: false, runToLimit: false });
  const emulator = await startEmulator({ port: 0 });
  const pricer = createPricer();
  try {
    const started = Date.now();
    const off = await run(emulator, calls, {}, 'off');
    const on = await run(emulator, calls, POLICY_ON, 'on');
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    const outputCost = (provider: ProviderId, model: string, tokens: number): Picodollars =>
      pricer.cost({ provider, model, usage: { input: { total: 0, noCache: 0 }, output: { total: tokens } }, at: new Date() })?.cost ?? 0n;
    const header = ['feature', 'model', 'calls', 'output tok off', 'output tok on', 'output $ off', 'output $ on', 'change', 'share of $ on', 'trunc off', 'trunc on', 'policy-cut answers', 'ledger est. saving'];
    const costOn = (feature: (typeof FEATURES)[number]) => outputCost(feature.provider, feature.model, on.perFeature.get(feature.name)?.outputTokens ?? 0);
    const allOn = FEATURES.reduce((total, feature) => total + costOn(feature), 0n);
    const lines: string[][] = [];
    let totalOff = 0n;
    let totalOn = 0n;
    let estimated = 0n;
    let truncatedOff = 0;
    let truncatedOn = 0;
    let policyCut = 0;
    let answers = 0;
    for (const feature of FEATURES) {
      const indexes = calls.flatMap((call, index) => (call.feature.name === feature.name ? [index] : []));
      const rowOff = off.perFeature.get(feature.name);
      const rowOn = on.perFeature.get(feature.name);
      const costOff = outputCost(feature.provider, feature.model, rowOff?.outputTokens ?? 0);
      const costOn = outputCost(feature.provider, feature.model, rowOn?.outputTokens ?? 0);
      const featureTruncOff = indexes.filter((index) => off.calls[index]?.truncated).length;
      const featureTruncOn = indexes.filter((index) => on.calls[index]?.truncated).length;
      // Answers that were complete without the policy and cut with it, runaways aside.
      const cut = indexes.filter((index) => !calls[index]?.runaway && !off.calls[index]?.truncated && on.calls[index]?.truncated).length;
      totalOff += costOff;
      totalOn += costOn;
      estimated += rowOn?.estimatedSaving ?? 0n;
      truncatedOff += featureTruncOff;
      truncatedOn += featureTruncOn;
      policyCut += cut;
      const ordinaryCount = indexes.filter((index) => !calls[index]?.runaway).length;
      answers += ordinaryCount;
      const change = costOff === 0n ? 0 : Number(costOn - costOff) / Number(costOff);
      lines.push([
        feature.name,
        feature.model,
        String(indexes.length),
        String(rowOff?.outputTokens ?? 0),
        String(rowOn?.outputTokens ?? 0),
        usd(costOff),
        usd(costOn),
        `${(change * 100).toFixed(1)}%`,
        `${((Number(costOn) / Number(allOn)) * 100).toFixed(1)}%`,
        percent(featureTruncOff / indexes.length),
        percent(featureTruncOn / indexes.length),
        `${cut} (${percent(cut / Math.max(1, ordinaryCount))})`,
        usd(rowOn?.estimatedSaving ?? 0n),
      ]);
    }
    lines.push([
      'total',
      '',
      String(calls.length),
      '',
      '',
      usd(totalOff),
      usd(totalOn),
      `${((Number(totalOn - totalOff) / Number(totalOff)) * 100).toFixed(1)}%`,
      '100%',
      percent(truncatedOff / calls.length),
      percent(truncatedOn / calls.length),
      `${policyCut} (${percent(policyCut / Math.max(1, answers))})`,
      usd(estimated),
    ]);
    const widths = header.map((name, index) => Math.max(name.length, ...lines.map((line) => (line[index] ?? '').length)));
    const render = (cells: string[]) => cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ');
    console.log(`output policy benchmark: ${CALLS} calls per feature, seed ${SEED}, workload ${WORKLOAD}, agent thinking budget ${AGENT_THINKING}, ${seconds}s`);
    console.log(render(header));
    console.log(render(widths.map((width) => '-'.repeat(width))));
    for (const line of lines) console.log(render(line));
    console.log('');
    console.log('trunc = share of calls whose answer stopped at an output cap (runaways included: they hit the client cap when off);');
    console.log('policy-cut answers = calls (runaways aside) complete with policies off and cut with them on (share of those calls: the truncation of visible answers the policy caused).');
    console.log(`ledger est. saving = the output_policy lever's recorded (estimated) savings; measured saving = ${usd(totalOff - totalOn)}.`);
    for (const alert of on.alerts.filter((line) => line.startsWith('output-policy'))) console.log(alert);

    // Where the output went, call by call: what each lever could reach and what it did.
    console.log('');
    const sum = (indexes: number[], pick: (index: number) => number) => indexes.reduce((total, index) => total + pick(index), 0);
    const share = (part: number, whole: number) => (whole === 0 ? '-' : `${((part / whole) * 100).toFixed(1)}%`);
    const breakdownHeader = ['feature', 'reasoning off', 'reasoning on', 'runaway answers off', 'runaway answers on', 'ordinary answers off', 'ordinary answers on', 'reasoning reduced'];
    const breakdown: string[][] = [];
    let reducedCalls = 0;
    let keptReasoningCalls = 0;
    // Measured saving by where it came from, priced at each feature's output rate.
    const bySource = { reasoning: 0n, runaways: 0n, answers: 0n };
    for (const feature of FEATURES) {
      const indexes = calls.flatMap((call, index) => (call.feature.name === feature.name ? [index] : []));
      const runaways = indexes.filter((index) => calls[index]?.runaway);
      const ordinary = indexes.filter((index) => !calls[index]?.runaway);
      const reasoning = (run: RunResult) => sum(indexes, (index) => run.calls[index]?.reasoning ?? 0);
      const answers = (run: RunResult, which: number[]) => sum(which, (index) => (run.calls[index]?.output ?? 0) - (run.calls[index]?.reasoning ?? 0));
      const totalOff = sum(indexes, (index) => off.calls[index]?.output ?? 0);
      const reduced = indexes.filter((index) => (on.calls[index]?.reasoning ?? 0) < (off.calls[index]?.reasoning ?? 0)).length;
      if (!REASONING_OFF.has(feature.name)) {
        reducedCalls += reduced;
        keptReasoningCalls += indexes.length;
      }
      const price = (tokens: number) => outputCost(feature.provider, feature.model, tokens);
      bySource.reasoning += price(reasoning(off)) - price(reasoning(on));
      bySource.runaways += price(answers(off, runaways)) - price(answers(on, runaways));
      bySource.answers += price(answers(off, ordinary)) - price(answers(on, ordinary));
      const cell = (tokens: number) => `${tokens} (${share(tokens, totalOff)})`;
      breakdown.push([
        feature.name,
        cell(reasoning(off)),
        cell(reasoning(on)),
        cell(answers(off, runaways)),
        cell(answers(on, runaways)),
        cell(answers(off, ordinary)),
        cell(answers(on, ordinary)),
        share(reduced, indexes.length),
      ]);
    }
    const breakdownWidths = breakdownHeader.map((name, index) => Math.max(name.length, ...breakdown.map((line) => (line[index] ?? '').length)));
    const renderBreakdown = (cells: string[]) => cells.map((cell, index) => cell.padEnd(breakdownWidths[index] ?? 0)).join('  ');
    console.log('where the output went (tokens, and share of the feature\'s output with policies off):');
    console.log(renderBreakdown(breakdownHeader));
    console.log(renderBreakdown(breakdownWidths.map((width) => '-'.repeat(width))));
    for (const line of breakdown) console.log(renderBreakdown(line));
    console.log(`reasoning reduced = calls that reasoned less than with policies off (by design for ${[...REASONING_OFF].join(' and ')}, a quality cost elsewhere).`);
    console.log(
      `measured saving by source: reasoning ${usd(bySource.reasoning)}, runaway answers ${usd(bySource.runaways)}, ordinary answers (schemas and caps) ${usd(bySource.answers)}`,
    );
    const reduction = Number(totalOff - totalOn) / Number(totalOff);
    const policyCutRate = policyCut / Math.max(1, answers);
    const met = reduction >= 0.5 && policyCutRate <= 0.01;
    console.log(
      `summary: output cost ${usd(totalOff)} -> ${usd(totalOn)} (-${(reduction * 100).toFixed(1)}%), truncation off ${percent(truncatedOff / calls.length)} on ${percent(truncatedOn / calls.length)}, answers cut by the policy ${percent(policyCutRate)}, ` +
        `calls outside ${[...REASONING_OFF].join('/')} with reduced reasoning ${percent(reducedCalls / Math.max(1, keptReasoningCalls))}; goal (>=50% cut, <=1% truncated answers) ${met ? 'met' : 'not met'}`,
    );
  } finally {
    await emulator.close();
  }
}

await main();
