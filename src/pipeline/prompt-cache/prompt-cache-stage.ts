import { createHash } from 'node:crypto';
import type { LeverEffect } from '../../core/lever.ts';
import { type PromptCacheConfig, resolvePromptCachePolicy, type PromptCachePolicy } from '../../config/prompt-cache-config.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { CacheTtl } from '../../providers/cache-layout.ts';
import { openAIPromptCacheKey, setOpenAIPromptCacheKey } from '../../providers/openai/openai-cache-layout.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import { breakpointEffect } from './breakpoint-accounting.ts';
import { type Candidate, DEFAULT_RATIOS, type Plan, planBreakpoints, type PriceRatios } from './plan-breakpoints.ts';
import { PrefixAudit } from './prefix-audit.ts';
import { MemoryPrefixStatistics, type PositionKind } from './prefix-statistics.ts';
import { createFileStateStore, plannerStatePath, type PlannerStateStore } from './planner-state-file.ts';
import { type PromptView, stableText, viewPrompt } from './prompt-layout.ts';
import { TokenCounter } from './token-counter.ts';

/**
 * The prompt-cache planner stage. Per call of a feature whose mode is not `off`:
 *  1. view the prompt as the provider caches it (blocks, token counts, prefix hashes);
 *  2. update the prefix statistics and the stability audit;
 *  3. Anthropic / Bedrock: plan breakpoints from the reuse evidence (plan-breakpoints.ts) and, in
 *     `auto`, add them (client markers are never moved; at most 4 in all);
 *     OpenAI: set `prompt_cache_key` when the client set none;
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
}

export function createPromptCacheStage(options: PromptCacheStageOptions): PromptCacheStage {
  const { config, pricer } = options;
  const now = options.now ?? Date.now;
  const store = options.store ?? createFileStateStore(plannerStatePath(options.dataDir));
  const statistics = new MemoryPrefixStatistics(config.maxPrefixes);
  const audit = new PrefixAudit();
  const tokens = new TokenCounter();
  const policies = new Map<string, PromptCachePolicy>();
  const ratioCache = new Map<string, PriceRatios>();
  const keyRates = new Map<string, { minute: number; count: number; previous: number }>();

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
  const candidatesFor = (feature: string, view: PromptView, at: number): { candidates: Candidate[]; live: Map<number, CacheTtl> } => {
    const { blocks } = view.layout;
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
    const tail = blocks.findLastIndex((block) => block.markable);
    if (tail >= 0 && blocks[tail]?.section === 'messages') setKind(tail, 'tail');

    const live = new Map<number, CacheTtl>();
    const candidates: Candidate[] = [];
    let longestLive = -1;
    view.keys.forEach((key, index) => {
      const position = kinds.get(index);
      const create = position === undefined || !blocks[index]?.markable ? undefined : { feature, ...position, tokens: view.cumulative[index] ?? 0 };
      const record = statistics.observe(key, at, create);
      if (record && record.liveUntil > at && record.liveTtl) {
        live.set(index, record.liveTtl);
        if (blocks[index]?.markable) longestLive = index;
      }
      if (create) candidates.push({ index, kind: create.kind, key, estimate: statistics.estimate(record, feature, create.positionClass, at) });
    });
    if (longestLive >= 0 && !kinds.has(longestLive)) {
      const key = view.keys[longestLive] ?? '';
      const record = statistics.peek(key);
      candidates.push({ index: longestLive, kind: 'live', key, estimate: statistics.estimate(record, feature, record?.positionClass ?? 'history', at) });
      candidates.sort((a, b) => a.index - b.index);
    }
    return { candidates, live };
  };

  const planCall = (context: CallContext, policy: PromptCachePolicy, feature: string, view: PromptView, at: number): PlannedCall | undefined => {
    const rules = view.rules;
    if (!rules || view.layout.automatic) return undefined;
    const clientMarkers: Array<[number, CacheTtl]> = [];
    view.layout.blocks.forEach((block, index) => {
      if (block.clientTtl) clientMarkers.push([index, block.clientTtl]);
    });
    const { candidates, live } = candidatesFor(feature, view, at);
    const plan = planBreakpoints({
      cumulative: view.cumulative,
      client: new Map(clientMarkers),
      candidates,
      live,
      rules,
      ratios: ratiosFor(view, at),
    });
    let reason: PlannedCall['reason'] = policy.mode === 'auto' ? 'auto' : 'observe';
    if (reason === 'auto' && policy.backOff) {
      // Net negative over the last day, counting only premiums whose entries have had their chance.
      const account = statistics.lastDay(feature, at);
      if (account.maturedPremium > account.savings) reason = 'backed-off';
    }
    const applied = reason === 'auto' && plan.placements.length > 0;
    if (applied) {
      for (const placement of plan.placements) view.layout.mark(placement.index, placement.ttl);
      context.bodyChanged = true;
    }
    return { feature, view, plan, applied, reason, clientMarkers, live, now: at };
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
  const learnFromReads = (planned: PlannedCall, sent: ReadonlyArray<readonly [number, CacheTtl]>, read: number) => {
    const { view } = planned;
    const lookback = view.rules?.lookbackBlocks ?? 20;
    const reachable = (index: number) => sent.some(([breakpoint]) => breakpoint >= index && breakpoint - index < lookback);
    let readIndex = -1;
    let distance = Number.POSITIVE_INFINITY;
    if (read > 0) {
      view.cumulative.forEach((tokens, index) => {
        const gap = Math.abs(tokens - read);
        if (gap < distance) {
          distance = gap;
          readIndex = index;
        }
      });
      // Token counts are approximate for Claude: accept the nearest boundary within 5%.
      if (distance > read * 0.05) readIndex = -1;
    }
    for (const [index] of planned.live) {
      if (index > readIndex && reachable(index)) statistics.markDead(view.keys[index] ?? '');
    }
    if (readIndex >= 0) statistics.markLive(view.keys[readIndex] ?? '', planned.now, planned.live.get(readIndex) ?? '5m');
  };

  const afterCall = (context: CallContext, planned: PlannedCall) => {
    const { view, plan, feature } = planned;
    const facts = context.facts;
    const succeeded = facts?.usage !== undefined && facts.errorType === undefined;
    if (succeeded) {
      // Every breakpoint sent that meets the minimum now has (or refreshed) a provider entry.
      const sent = [...planned.clientMarkers];
      if (planned.applied) for (const placement of plan.placements) sent.push([placement.index, placement.ttl]);
      for (const [index, ttl] of sent) {
        if ((view.cumulative[index] ?? 0) >= view.minimumTokens) statistics.markLive(view.keys[index] ?? '', planned.now, ttl);
      }
      learnFromReads(planned, sent, facts.usage?.input.cacheRead ?? 0);
    }
    if (plan.placements.length === 0) return;
    const detail: Record<string, unknown> = {
      mode: planned.reason,
      breakpoints: plan.placements.map((placement) => ({
        position: placement.kind,
        block: placement.index,
        ttl: placement.ttl,
        tokens: placement.segmentTokens,
        live: placement.live,
        reuseWithin5m: Math.round(placement.within5m * 1000) / 1000,
        reuseWithin1h: Math.round(placement.within1h * 1000) / 1000,
      })),
      clientBreakpoints: planned.clientMarkers.length,
      expectedValuePicodollars: plan.expectedPicodollars ?? null,
    };
    if (!planned.applied || !succeeded || !facts?.usage) {
      // observe / backed-off: what would have been done, with its expected value; nothing changed.
      if (planned.reason !== 'auto') context.levers.push({ lever: 'prompt_cache', saving: 0n, estimated: true, detail });
      return;
    }
    const lastClient = planned.clientMarkers.at(-1);
    const effect = breakpointEffect(pricer, {
      provider: view.provider,
      model: facts.servedModel ?? view.model,
      usage: facts.usage,
      at: new Date(context.receivedAt),
      clientCoverTokens: lastClient === undefined ? 0 : (view.cumulative[lastClient[0]] ?? 0),
    });
    if (!effect) return;
    statistics.account(feature, planned.now, effect.premium, effect.savings);
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
        return next();
      }
      const planned = planCall(context, policy, feature, view, at);
      await next();
      if (planned) afterCall(context, planned);
    },
  };
}
