import { anthropicOutputControls } from './anthropic/anthropic-output-controls.ts';
import { bedrockConverseOutputControls } from './bedrock/bedrock-output-controls.ts';
import { openAIChatOutputControls, openAIResponsesOutputControls } from './openai/openai-output-controls.ts';
import type { OutputControls } from './output-controls.ts';
import type { ParsedCall } from './provider.ts';

/**
 * The controls for one call's wire format, or undefined when it has none (embeddings, model lists,
 * token counting, InvokeModel bodies that are not Claude's).
 */
export function outputControlsFor(call: ParsedCall): OutputControls | undefined {
  const { provider, endpoint } = call.operation;
  if (provider === 'openai') {
    if (endpoint === 'chat.completions') return openAIChatOutputControls;
    if (endpoint === 'responses') return openAIResponsesOutputControls;
    return undefined;
  }
  if (provider === 'anthropic') return endpoint === 'messages' ? anthropicOutputControls : undefined;
  if (endpoint === 'converse' || endpoint === 'converse-stream') return bedrockConverseOutputControls;
  // InvokeModel bodies are model-native; only Claude's (anthropic_version) are understood.
  if (endpoint.startsWith('invoke') && call.body?.['anthropic_version'] !== undefined) return anthropicOutputControls;
  return undefined;
}
