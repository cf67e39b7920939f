import type { EmbedderConfig } from '../../config/response-cache-config.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { ProviderAdapter } from '../../providers/provider.ts';
import type { UpstreamClient } from '../forward/upstream-client.ts';
import type { Embedder } from './embedder.ts';
import { GloveEmbedder } from './glove-embedder.ts';
import { OnnxEmbedder } from './onnx-embedder.ts';
import { OpenAIEmbedder, TitanEmbedder } from './remote-embedders.ts';

export interface EmbedderDependencies {
  adapters: Partial<Record<ProviderId, ProviderAdapter>> | undefined;
  upstream: UpstreamClient | undefined;
  timeoutMs: number;
}

export function createEmbedder(config: EmbedderConfig, dependencies: EmbedderDependencies): Embedder {
  switch (config.type) {
    case 'glove':
      return new GloveEmbedder(config.path);
    case 'onnx':
      return new OnnxEmbedder(config.model);
    case 'openai':
    case 'bedrock-titan': {
      const provider: ProviderId = config.type === 'openai' ? 'openai' : 'bedrock';
      const adapter = dependencies.adapters?.[provider];
      if (!adapter || !dependencies.upstream) throw new Error(`the ${config.type} embedder needs the gateway's ${provider} provider`);
      const options = { adapter, upstream: dependencies.upstream, model: config.model, dimensions: config.dimensions, timeoutMs: dependencies.timeoutMs };
      return config.type === 'openai' ? new OpenAIEmbedder(options) : new TitanEmbedder(options);
    }
  }
}

/** `glove:DIR`, `openai:MODEL`, `bedrock:MODEL`, `onnx:PATH_OR_ID`, as given on the command line. */
export function parseEmbedderSpec(spec: string): EmbedderConfig | undefined {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) return undefined;
  const kind = spec.slice(0, colon);
  const value = spec.slice(colon + 1);
  switch (kind) {
    case 'glove':
      return { type: 'glove', path: value };
    case 'openai':
      return { type: 'openai', model: value };
    case 'bedrock':
    case 'bedrock-titan':
      return { type: 'bedrock-titan', model: value, dimensions: 1024 };
    case 'onnx':
      return { type: 'onnx', model: value };
    default:
      return undefined;
  }
}
