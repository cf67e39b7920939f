import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { RouterConfig, RouterPolicyConfig } from '../../config/router-config.ts';
import { loadRouterModel, type RouterModel, type RouterModelFile } from './model/router-model.ts';

export type Strategy = 'classifier' | 'cascade' | 'classifier+cascade';

export interface CascadeSettings {
  threshold: number;
  logprobs: boolean;
  confidence: boolean;
  checks: boolean;
  unsurePatterns: RegExp[];
  judge: string | undefined;
}

export interface ResolvedPolicy {
  feature: string | undefined;
  strategy: Strategy;
  tiers: readonly string[];
  classifier: { model: RouterModel; qualityTarget: number; names: Record<string, string> } | undefined;
  cascade: CascadeSettings;
  shadowRate: number;
  shadowJudge: string | undefined;
  capturePrompts: boolean;
}

const CASCADE_DEFAULTS: CascadeSettings = { threshold: 0.5, logprobs: true, confidence: false, checks: true, unsurePatterns: [], judge: undefined };

/** Router files are read once per path; a bad file fails at startup, not on a request. */
export function createPolicyResolver(config: RouterConfig, baseDir: string): (feature: string | undefined) => ResolvedPolicy | undefined {
  const models = new Map<string, RouterModel>();
  const loadModel = (file: string): RouterModel => {
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    let model = models.get(path);
    if (!model) {
      let parsed: RouterModelFile;
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8')) as RouterModelFile;
      } catch (error) {
        throw new Error(`router: cannot read the classifier file ${path}: ${(error as Error).message}`);
      }
      model = loadRouterModel(parsed);
      if (parsed.features.embeddingDimensions > 0) {
        // Embedding a prompt would add an embedder call to every routed request's latency.
        throw new Error(`router: ${path} was trained with prompt embeddings (${parsed.embeddingModel ?? 'unknown embedder'}); the gateway classifier takes text-feature routers (train without --embedder)`);
      }
      models.set(path, model);
    }
    return model;
  };

  const resolvePolicy = (feature: string | undefined, own: RouterPolicyConfig | undefined): ResolvedPolicy | undefined => {
    const merged: RouterPolicyConfig = { ...config.default, ...own };
    const strategy = merged.strategy ?? 'off';
    if (strategy === 'off' || !merged.tiers) return undefined;
    const needsClassifier = strategy === 'classifier' || strategy === 'classifier+cascade';
    if (needsClassifier && !merged.classifier) throw new Error(`router: strategy ${strategy} for ${feature ?? 'the default policy'} needs classifier.file`);
    const classifier = needsClassifier && merged.classifier
      ? { model: loadModel(merged.classifier.file), qualityTarget: merged.classifier.qualityTarget, names: merged.classifier.models }
      : undefined;
    if (classifier) {
      for (const tier of merged.tiers) {
        const name = classifier.names[tier] ?? tier;
        if (!classifier.model.models.includes(name)) {
          throw new Error(`router: the classifier file has no model "${name}" for tier ${tier} (it has ${classifier.model.models.join(', ')}); map it under classifier.models`);
        }
      }
    }
    const cascade = merged.cascade;
    return {
      feature,
      strategy,
      tiers: merged.tiers,
      classifier,
      cascade: cascade
        ? {
            threshold: cascade.threshold,
            logprobs: cascade.logprobs,
            confidence: cascade.confidence,
            checks: cascade.checks,
            unsurePatterns: cascade.unsurePatterns.map((pattern) => new RegExp(pattern, 'i')),
            judge: cascade.judge?.model,
          }
        : CASCADE_DEFAULTS,
      shadowRate: merged.shadow?.rate ?? 0,
      shadowJudge: merged.shadow?.judge,
      capturePrompts: merged.capturePrompts ?? true,
    };
  };

  // Resolved eagerly so that configuration mistakes surface when the gateway starts.
  const byFeature = new Map<string, ResolvedPolicy | undefined>();
  for (const [feature, own] of Object.entries(config.features)) byFeature.set(feature, resolvePolicy(feature, own));
  const fallback = resolvePolicy(undefined, undefined);
  return (feature) => (feature !== undefined && byFeature.has(feature) ? byFeature.get(feature) : fallback);
}

/**
 * The classifier's choice: the cheapest tier whose predicted chance of answering well is at least
 * `qualityTarget` times the strongest tier's. Returns the tier index and the probabilities.
 */
export function classify(policy: ResolvedPolicy, prompt: string): { index: number; probabilities: Record<string, number> } {
  const classifier = policy.classifier;
  if (!classifier) return { index: 0, probabilities: {} };
  const predicted = classifier.model.predict(prompt);
  const probabilities: Record<string, number> = {};
  for (const tier of policy.tiers) probabilities[tier] = predicted[classifier.names[tier] ?? tier] ?? 0;
  const strongest = probabilities[policy.tiers.at(-1) as string] ?? 0;
  const index = policy.tiers.findIndex((tier) => (probabilities[tier] ?? 0) >= classifier.qualityTarget * strongest);
  return { index: index === -1 ? policy.tiers.length - 1 : index, probabilities };
}
