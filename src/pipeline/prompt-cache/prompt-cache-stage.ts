import { createHash } from 'node:crypto';
import type { LeverEffect } from '../../core/lever.ts';
import { type PromptCacheConfig, resolvePromptCachePolicy, type PromptCachePolicy } from '../../config/prompt-cache-config.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { CacheTtl } from '../../providers/cache-layout.ts';
import {
  openAICacheMode,
  openAICacheRules,
  openAIPromptCacheKey,
  setOpenAICacheMode,
  setOpenAIPromptCacheKey,
} from '../../providers/openai/openai-cache-layout.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import { breakpointEffect, type BreakpointEffect, implicitBaselineEffect } from './breakpoint-accounting.ts';
import { type Boundary, modeValues } from './openai-explicit-plan.ts';
import { type Candidate, DEFAULT_RATIOS, type Plan, planBreakpoints, type PriceRatios } from './plan-breakpoints.ts';
import { PrefixAudit } from './prefix-audit.ts';
import { MemoryPrefixStatistics, type PositionKind, THIRTY_MINUTES } from './prefix-statistics.ts';
import { createFileStateStore, plannerStatePath, type PlannerStateStore } from './planner-state-file.ts';
import { type PromptView, stableText, viewPrompt } from './prompt-layout.ts';
import { TokenCounter } from './token-counter.ts';

/**
 * The prompt-cache planner stage. Per call of a feature whose mode is not `off`:
 *  1. view the prompt as the provider caches it (blocks, token counts, prefix hashes);
 *  2. update the prefix statistics and the stability audit;
 *  3. Anthropic / Bedrock: plan breakpoints from the reuse evidence (plan-breakpoints.ts) and, in
 *     `auto`, add them (client markers are never moved; at most 4 in all);
 *     OpenAI: set `prompt_cache_key` when the client set none; on gpt-5.6+ plan explicit
 *     `prompt_cache_breakpoint`s from the same evidence and use explicit mode when that is expected to
 *     beat implicit caching (openai-explicit-plan.ts);
 *  4. after the call: note which provider entries are now alive, and record on the ledger row what
 *     the added breakpoints saved or cost against the same call without them.
 */

export interface PromptCacheStageOptions {
  config: PromptCacheConfig;
  pricer: Pricer;
  /** Folder beside the ledger; the statistics snapshot goes under it. */
  dataDir: string;
  /** Epoch ms; a benchmark drives it with the emulator's clock. */
  now?: () => number;
  store?: PlannerStateStore;
  /** The evidence to plan from; default in-memory (restored from `store`). A shared one comes with the other replicas' evidence. */
  statistics?: MemoryPrefixStatistics;
}

export interface PromptCacheStage extends Stage {
  readonly statistics: MemoryPrefixStatistics;
  readonly audit: PrefixAudit;
  readonly tokens: TokenCounter;
  /** Writes the statistics snapshot now (when anything changed). */
  persist(): Promise<void>;
  /** Stops the snapshot timer and writes a last snapshot. */
  close(): Promise<void>;
}

const UNATTRIBUTED = '(unattributed)';
// A retrieved document worth its own breakpoint.
const DOCUMENT_TOKENS = 1024;
const MAX_DOCUMENT_CANDIDATES = 3;
// OpenAI keeps a prefix+key on one machine up to about 15 requests a minute (provider-facts §1.1).
const KEY_REQUESTS_PER_MINUTE = 12;

interface PlannedCall {
  feature: string;
  view: PromptView;
  plan: Plan;
  applied: boolean;
  reason: 'auto' | 'observe' | 'backed-off';
  clientMarkers: Array<[index: number, ttl: CacheTtl]>;
  /** Boundaries whose provider entry was believed alive when the call was planned. */
  live: ReadonlyMap<number, CacheTtl>;
  now: number;
  /** OpenAI gpt-5.6+ when costgate chose the caching mode: the choice and what it was weighed against. */
  openai?: OpenAIChoice;
}

interface OpenAIChoice {
  /**
   * `bridge`: explicit mode pays, but the prefixes it would mark are held by the implicit cache only
   * (at 128-token steps, which an exact breakpoint does not find): this one call stays implicit and
   * carries the breakpoints, so their exact entries exist when the next call switches.
   */
  mode: 'explicit' | 'implicit' | 'bridge';
  /** Steady-state value per call, in tokens at the uncached input price, of each mode. */
  explicitValue: number;
  implicitValue: number;
  /** The longest prefix the feature sent within 30 minutes: what implicit caching would read now. */
  implicitReadTokens: number;
}

interface Candidates {
  candidates: Candidate[];
  live: Map<number, CacheTtl>;
  /** Every candidate position with its estimate, markable or not (OpenAI's implicit caching writes them all). */
  boundaries: Boundary[];
  /** Deepest block whose prefix was sent within the last 30 minutes, before this call (-1: none). */
  recentIndex: number;
}

export function createPromptCacheStage(options: PromptCacheStageOptions): PromptCacheStage {
  const { config, pricer } = options;
  const now = options.now ?? Date.now;
  const store = options.store ?? createFileStateStore(plannerStatePath(options.dataDir));
  const statistics = options.statistics ?? new MemoryPrefixStatistics(config.maxPrefixes);
  const audit = new PrefixAudit();
  const tokens = new TokenCounter();
  const policies = new Map<string, PromptCachePolicy>();
  const ratioCache = new Map<string, PriceRatios>();
  const keyRates = new Map<string, { minute: number; count: number; previous: number }>();
  // Provider tokens per planner token, per provider and model, learned from calls counted exactly.
  const tokenRatios = new Map<string, number>();

  const saved = store.load();
  if (saved) {
    statistics.restore(saved.statistics);
    audit.restore(saved.audit);
  }

  const policyFor = (feature: string | undefined): PromptCachePolicy => {
    const name = feature ?? UNATTRIBUTED;
    let policy = policies.get(name);
    if (!policy) {
      policy = resolvePromptCachePolicy(config, feature);
      if (policies.size < 10_000) policies.set(name, policy);
    }
    return policy;
  };

  const ratiosFor = (view: PromptView, at: number): PriceRatios => {
    const cacheKey = `${view.provider}\u0000${view.model}`;
    let ratios = ratioCache.get(cacheKey);
    if (!ratios) {
      const prices = pricer.describe(view.provider, view.model, new Date(at))?.prices;
      ratios =
        prices && prices.inputPerMTok > 0
          ? {
              read: (prices.inputPerMTok - prices.cacheReadPerMTok) / prices.inputPerMTok,
              write5m: (prices.cacheWrite5mPerMTok - prices.inputPerMTok) / prices.inputPerMTok,
              // OpenAI's writes are priced through the 5-minute write price (convert-openai-usage.ts).
              write30m: (prices.cacheWrite5mPerMTok - prices.inputPerMTok) / prices.inputPerMTok,
              write1h: (prices.cacheWrite1hPerMTok - prices.inputPerMTok) / prices.inputPerMTok,
              inputPicodollarsPerToken: prices.inputPerMTok * 1_000_000,
            }
          : DEFAULT_RATIOS;
      if (ratioCache.size > 1000) ratioCache.clear();
      ratioCache.set(cacheKey, ratios);
    }
    return ratios;
  };

  const observeAudit = (feature: string, view: PromptView, at: number) => {
    if (view.stableEnd < 0) return;
    const ratios = ratiosFor(view, at);
    audit.observe({
      feature,
      provider: view.provider,
      model: view.model,
      stableText: stableText(view),
      stableTokens: view.cumulative[view.stableEnd] ?? 0,
      minimumTokens: view.minimumTokens,
      readSavingPerToken: ratios.inputPicodollarsPerToken === undefined ? undefined : BigInt(Math.round(ratios.inputPicodollarsPerToken * ratios.read)),
      now: at,
    });
  };

  /** Candidate positions, in prompt order, with their reuse estimates; the statistics are updated on the way. */
  const candidatesFor = (feature: string, view: PromptView, at: number): Candidates => {
    const { blocks } = view.layout;
    // OpenAI caches implicitly at every position, markable or not: their statistics are kept too.
    const everyPosition = view.provider === 'openai';
    const kinds = new Map<number, { kind: PositionKind; positionClass: string }>();
    const setKind = (index: number, kind: PositionKind, positionClass: string = kind) => kinds.set(index, { kind, positionClass });
    const lastOf = (section: string) => blocks.findLastIndex((block) => block.section === section);
    const toolsEnd = lastOf('tools');
    const systemEnd = lastOf('system');
    if (toolsEnd >= 0) setKind(toolsEnd, 'tools');
    if (systemEnd >= 0) setKind(systemEnd, 'system');
    const last = blocks.length - 1;
    let documents = 0;
    blocks.forEach((block, index) => {
      const size = (view.cumulative[index] ?? 0) - (view.cumulative[index - 1] ?? 0);
      if (documents < MAX_DOCUMENT_CANDIDATES && index !== last && !kinds.has(index) && size >= DOCUMENT_TOKENS) {
        documents += 1;
        setKind(index, 'document', `document-${documents}`);
      }
    });
    const newestUser = blocks.findLast((block) => block.section === 'messages' && block.role === 'user')?.message;
    if (newestUser !== undefined) {
      const history = blocks.findLastIndex((block) => block.section === 'messages' && (block.message ?? 0) < newestUser && block.markable);
      if (history >= 0) setKind(history, 'history');
    }
    const tail = everyPosition ? last : blocks.findLastIndex((block) => block.markable);
    if (tail >= 0 && blocks[tail]?.section === 'messages') setKind(tail, 'tail');

    const live = new Map<number, CacheTtl>();
    const candidates: Candidate[] = [];
    const boundaries: Boundary[] = [];
    let longestLive = -1;
    let recentIndex = -1;
    view.keys.forEach((key, index) => {
      const position = kinds.get(index);
      const markable = blocks[index]?.markable === true;
      const create = position === undefined || !(markable || everyPosition) ? undefined : { feature, ...position, tokens: view.cumulative[index] ?? 0 };
      const previous = statistics.peek(key)?.lastSeen;
      if (previous !== undefined && at - previous <= THIRTY_MINUTES) recentIndex = index;
      const record = statistics.observe(key, at, create);
      if (record && record.liveUntil > at && record.liveTtl) {
        live.set(index, record.liveTtl);
        if (markable) longestLive = index;
      }
      if (!create) return;
      const estimate = statistics.estimate(record, feature, create.positionClass, at);
      boundaries.push({ index, estimate, markable });
      if (markable) candidates.push({ index, kind: create.kind, key, estimate });
    });
    if (longestLive >= 0 && !kinds.has(longestLive)) {
      const key = view.keys[longestLive] ?? '';
      const record = statistics.peek(key);
      candidates.push({ index: longestLive, kind: 'live', key, estimate: statistics.estimate(record, feature, record?.positionClass ?? 'history', at) });
      candidates.sort((a, b) => a.index - b.index);
    }
    return { candidates, live, boundaries, recentIndex };
  };

  const backedOff = (policy: PromptCachePolicy, feature: string, at: number): boolean => {
    if (policy.mode !== 'auto' || !policy.backOff) return false;
    // Net negative over the last day, counting only premiums whose entries have had their chance.
    const account = statistics.lastDay(feature, at);
    return account.maturedPremium > account.savings;
  };

  const clientMarkersOf = (view: PromptView): Array<[number, CacheTtl]> => {
    const markers: Array<[number, CacheTtl]> = [];
    view.layout.blocks.forEach((block, index) => {
      if (block.clientTtl) markers.push([index, block.clientTtl]);
    });
    return markers;
  };

  const planCall = (context: CallContext, policy: PromptCachePolicy, feature: string, view: PromptView, at: number): PlannedCall | undefined => {
    const rules = view.rules;
    if (!rules || view.layout.automatic) return undefined;
    const clientMarkers = clientMarkersOf(view);
    const { candidates, live } = candidatesFor(feature, view, at);
    const input = { cumulative: view.cumulative, client: new Map(clientMarkers), candidates, live, rules, ratios: ratiosFor(view, at) };
    let plan = planBreakpoints(input);
    let reason: PlannedCall['reason'] = policy.mode === 'auto' ? 'auto' : 'observe';
    if (backedOff(policy, feature, at)) {
      // Backed off: write nothing new, but keep reading what is already cached (a read costs no
      // premium, and the premium that wrote it is already paid).
      reason = 'backed-off';
      const reads = planBreakpoints({ ...input, candidates: candidates.filter((candidate) => live.has(candidate.index)) });
      // With nothing to read, the row still shows what would have been done.
      if (reads.placements.length > 0) plan = reads;
      else return { feature, view, plan, applied: false, reason, clientMarkers, live, now: at };
    }
    const applied = reason !== 'observe' && plan.placements.length > 0;
    if (applied) {
      for (const placement of plan.placements) view.layout.mark(placement.index, placement.ttl);
      context.bodyChanged = true;
    }
    return { feature, view, plan, applied, reason, clientMarkers, live, now: at };
  };

  /**
   * OpenAI gpt-5.6+. A client that chose explicit mode gets breakpoints added as on Anthropic; a client
   * that chose implicit caching (by setting the mode, or by placing markers of its own without one) is
   * left alone, since implicit caching already writes every token its markers could. Otherwise costgate
   * weighs explicit mode with the planned breakpoints against implicit caching (openai-explicit-plan.ts)
   * and, in `auto`, switches to explicit when that is expected to pay more per call.
   */
  const planOpenAI = (context: CallContext, policy: PromptCachePolicy, feature: string, view: PromptView, at: number): PlannedCall | undefined => {
    const body = context.call.body;
    if (!body || !view.rules) return undefined;
    const clientMode = openAICacheMode(body);
    const clientMarkers = clientMarkersOf(view);
    if (clientMode === 'explicit') return planCall(context, policy, feature, view, at);
    const found = candidatesFor(feature, view, at);
    if (clientMode === 'implicit' || clientMarkers.length > 0) return undefined;
    const ratios = ratiosFor(view, at);
    const rules = openAICacheRules('explicit');
    const plan = planBreakpoints({ cumulative: view.cumulative, client: new Map(), candidates: found.candidates, live: found.live, rules, ratios });
    const values = modeValues(found.boundaries, plan, view.cumulative, view.minimumTokens, ratios);
    // On a tie explicit mode: the same value, and the planner keeps control of what is written.
    let mode: OpenAIChoice['mode'] = values.evidence && values.explicit >= values.implicit ? 'explicit' : 'implicit';
    if (mode === 'explicit') {
      const implicitOnly = (index: number) => (statistics.peek(view.keys[index] ?? '')?.implicitUntil ?? 0) > at;
      if (plan.placements.some((placement) => !placement.live && implicitOnly(placement.index))) mode = 'bridge';
    }
    const choice: OpenAIChoice = {
      mode,
      explicitValue: values.explicit,
      implicitValue: values.implicit,
      implicitReadTokens: found.recentIndex >= 0 ? (view.cumulative[found.recentIndex] ?? 0) : 0,
    };
    let reason: PlannedCall['reason'] = policy.mode === 'auto' ? 'auto' : 'observe';
    // Backed off: the request keeps the provider's default, implicit caching.
    if (backedOff(policy, feature, at)) reason = 'backed-off';
    const applied = reason === 'auto' && mode !== 'implicit' && (mode === 'explicit' || plan.placements.length > 0);
    if (applied) {
      if (mode === 'explicit') setOpenAICacheMode(body, 'explicit');
      for (const placement of plan.placements) view.layout.mark(placement.index, placement.ttl);
      context.bodyChanged = true;
    }
    return { feature, view, plan, applied, reason, clientMarkers, live: found.live, now: at, openai: choice };
  };

  const promptCacheKey = (context: CallContext, policy: PromptCachePolicy, feature: string, view: PromptView, at: number): string | undefined => {
    const body = context.call.body;
    if (policy.openaiPromptCacheKey === 'off' || !body || openAIPromptCacheKey(body) !== undefined) return undefined;
    let key = `costgate:${feature}`.slice(0, 48);
    if (policy.openaiPromptCacheKey === 'feature-prefix' && view.stableEnd >= 0) {
      key += `:${(view.keys[view.stableEnd] ?? '').slice(0, 12)}`;
    }
    // Past ~15 requests a minute one key spills to other machines anyway; split it by user so each
    // user's conversation stays on one cache.
    const minute = Math.floor(at / 60_000);
    const rate = keyRates.get(key) ?? { minute, count: 0, previous: 0 };
    if (rate.minute !== minute) {
      rate.previous = rate.minute === minute - 1 ? rate.count : 0;
      rate.minute = minute;
      rate.count = 0;
    }
    rate.count += 1;
    if (keyRates.size > 10_000) keyRates.clear();
    keyRates.set(key, rate);
    const shards = Math.ceil(Math.max(rate.previous, rate.count) / KEY_REQUESTS_PER_MINUTE);
    const user = context.attribution.user ?? context.attribution.customer;
    if (shards > 1 && user !== undefined) {
      const shard = createHash('sha1').update(user).digest().readUInt32BE(0) % shards;
      key += `:${shard}`;
    }
    if (policy.mode === 'auto') {
      setOpenAIPromptCacheKey(body, key);
      context.bodyChanged = true;
    }
    return key;
  };

  /**
   * The provider's own count says which entry was read: refresh our belief in it (a read refreshes
   * the entry even where no marker sat), and drop beliefs in entries the provider no longer had.
   */
  const learnFromReads = (planned: PlannedCall, sent: ReadonlyArray<readonly [number, CacheTtl]>, read: number, scale: number) => {
    const { view } = planned;
    const lookback = view.rules?.lookbackBlocks ?? 20;
    const reachable = (index: number) => sent.some(([breakpoint]) => breakpoint >= index && breakpoint - index < lookback);
    let readIndex = -1;
    let distance = Number.POSITIVE_INFINITY;
    if (read > 0) {
      // Only a boundary a breakpoint reaches can be the read (on OpenAI, only a breakpoint's own:
      // a read in implicit mode stops at a 128-token step and says nothing about exact entries).
      view.cumulative.forEach((tokens, index) => {
        const gap = Math.abs(tokens * scale - read);
        if (gap < distance && reachable(index)) {
          distance = gap;
          readIndex = index;
        }
      });
      // The planner's counts are the o200k BPE over block texts; the provider's differ (Claude's own
      // tokenizer, message framing). Counts are compared after scaling by the two whole-prompt totals,
      // and the nearest boundary within 5% is accepted.
      if (distance > read * 0.05) readIndex = -1;
    }
    const written = new Set(sent.map(([index]) => index));
    for (const [index] of planned.live) {
      // Believed alive, reachable, not read: it was gone (unless this call's own breakpoint wrote it again).
      if (index > readIndex && reachable(index) && !written.has(index)) statistics.markDead(view.keys[index] ?? '');
    }
    if (readIndex >= 0) {
      const ttl = sent.find(([index]) => index === readIndex)?.[1] ?? planned.live.get(readIndex) ?? view.rules?.ttls[0] ?? '5m';
      statistics.markLive(view.keys[readIndex] ?? '', planned.now, ttl);
    }
  };

  /**
   * Provider tokens per planner token for this call (see learnFromReads): the two whole-prompt counts
   * when every block was counted exactly (and the ratio is remembered for the model), else the ratio
   * remembered from earlier calls, since a first-seen long text is only estimated.
   */
  const tokenScale = (view: PromptView, providerTotal: number | undefined): number => {
    const key = `${view.provider}\u0000${view.model}`;
    const viewTotal = view.cumulative.at(-1) ?? 0;
    if (view.estimated || viewTotal === 0 || providerTotal === undefined || providerTotal === 0) return tokenRatios.get(key) ?? 1;
    const ratio = providerTotal / viewTotal;
    const previous = tokenRatios.get(key);
    if (tokenRatios.size > 1000) tokenRatios.clear();
    tokenRatios.set(key, previous === undefined ? ratio : previous + 0.2 * (ratio - previous));
    return ratio;
  };

  const afterCall = (context: CallContext, planned: PlannedCall) => {
    const { view, plan, feature } = planned;
    const facts = context.facts;
    const succeeded = facts?.usage !== undefined && facts.errorType === undefined;
    const scale = tokenScale(view, facts?.usage?.input.total);
    if (succeeded) {
      // Every breakpoint sent that meets the minimum now has (or refreshed) a provider entry.
      const sent = [...planned.clientMarkers];
      if (planned.applied) for (const placement of plan.placements) sent.push([placement.index, placement.ttl]);
      for (const [index, ttl] of sent) {
        if ((view.cumulative[index] ?? 0) >= view.minimumTokens) statistics.markLive(view.keys[index] ?? '', planned.now, ttl);
      }
      learnFromReads(planned, sent, facts.usage?.input.cacheRead ?? 0, scale);
      if (planned.openai && !(planned.applied && planned.openai.mode === 'explicit')) {
        // Sent in implicit mode: the provider wrote (or refreshed) every prefix of it.
        view.keys.forEach((key, index) => {
          if ((view.cumulative[index] ?? 0) >= view.minimumTokens) statistics.markImplicit(key, planned.now + THIRTY_MINUTES);
        });
      }
    }
    const choice = planned.openai;
    if (plan.placements.length === 0 && !choice) return;
    const round = (value: number) => Math.round(value * 1000) / 1000;
    const detail: Record<string, unknown> = {
      mode: planned.reason,
      breakpoints: plan.placements.map((placement) => ({
        position: placement.kind,
        block: placement.index,
        ttl: placement.ttl,
        tokens: placement.segmentTokens,
        live: placement.live,
        reuseWithin5m: round(placement.within5m),
        reuseWithin30m: round(placement.within30m),
        reuseWithin1h: round(placement.within1h),
      })),
      clientBreakpoints: planned.clientMarkers.length,
      expectedValuePicodollars: plan.expectedPicodollars ?? null,
    };
    if (choice) {
      detail.cacheMode = choice.mode;
      detail.explicitValueTokens = round(choice.explicitValue);
      detail.implicitValueTokens = round(choice.implicitValue);
    }
    if (!planned.applied || !succeeded || !facts?.usage) {
      // observe / backed-off / implicit kept: what would have been done, with its expected value; nothing changed.
      if (planned.reason !== 'auto' || choice) context.levers.push({ lever: 'prompt_cache', saving: 0n, estimated: true, detail });
      return;
    }
    const common = { provider: view.provider, model: facts.servedModel ?? view.model, usage: facts.usage, at: new Date(context.receivedAt) };
    const lastClient = planned.clientMarkers.at(-1);
    // The prefix implicit caching would read, in the provider's tokens (scaled as for reads).
    const effect: BreakpointEffect | undefined = choice
      ? implicitBaselineEffect(pricer, { ...common, implicitReadTokens: Math.round(choice.implicitReadTokens * scale) })
      : breakpointEffect(pricer, { ...common, clientCoverTokens: lastClient === undefined ? 0 : (view.cumulative[lastClient[0]] ?? 0) });
    if (!effect) return;
    if (choice) {
      // Against implicit caching a call can lose (a first explicit write where implicit caching would
      // have read); a loss counts like a premium, against the day's savings once it has had its hour.
      statistics.account(feature, planned.now, effect.saving < 0n ? -effect.saving : 0n, effect.saving > 0n ? effect.saving : 0n);
    } else {
      statistics.account(feature, planned.now, effect.premium, effect.savings);
    }
    if (choice) detail.baseline = 'implicit';
    detail.readTokens = effect.readTokens;
    detail.writeTokens = effect.writeTokens;
    detail.premiumPicodollars = effect.premium.toString();
    detail.savingsPicodollars = effect.savings.toString();
    const lever: LeverEffect = { lever: 'prompt_cache', saving: effect.saving, estimated: effect.estimated, detail };
    context.levers.push(lever);
  };

  const persist = async () => {
    if (!statistics.dirty && !audit.dirty) return;
    await store.save({ version: 1, savedAt: now(), statistics: statistics.snapshot(), audit: audit.snapshot() });
  };
  const timer = setInterval(() => {
    persist().catch(() => {
      // A failed snapshot is retried at the next tick; serving never waits on it.
    });
  }, config.snapshotIntervalMs);
  timer.unref();

  return {
    name: 'prompt-cache',
    statistics,
    audit,
    tokens,
    persist,
    async close() {
      clearInterval(timer);
      await persist();
    },
    async run(context, next) {
      const policy = policyFor(context.attribution.feature);
      if (policy.mode === 'off' || !context.call.body || context.result) return next();
      const at = now();
      const feature = context.attribution.feature ?? UNATTRIBUTED;
      const view = viewPrompt(context.call, tokens, config.minimumTokens);
      if (!view) return next();
      observeAudit(feature, view, at);
      if (view.provider === 'openai') {
        promptCacheKey(context, policy, feature, view, at);
        if (!view.rules || !policy.openaiExplicitBreakpoints) return next();
      }
      const planned = view.provider === 'openai' ? planOpenAI(context, policy, feature, view, at) : planCall(context, policy, feature, view, at);
      await next();
      if (planned) afterCall(context, planned);
    },
  };
}
