import { anthropicContextDocuments } from './anthropic/anthropic-context-documents.ts';
import { bedrockConverseContextDocuments } from './bedrock/bedrock-context-documents.ts';
import type { ContextDocumentAccess } from './context-documents.ts';
import { openAIChatContextDocuments, openAIResponsesContextDocuments } from './openai/openai-context-documents.ts';
import type { ParsedCall } from './provider.ts';

export function contextDocumentsFor(call: ParsedCall): ContextDocumentAccess | undefined {
  const { provider, endpoint } = call.operation;
  if (provider === 'openai') {
    if (endpoint === 'chat.completions') return openAIChatContextDocuments;
    if (endpoint === 'responses') return openAIResponsesContextDocuments;
    return undefined;
  }
  if (provider === 'anthropic') return endpoint === 'messages' ? anthropicContextDocuments : undefined;
  if (endpoint === 'converse' || endpoint === 'converse-stream') return bedrockConverseContextDocuments;
  if (endpoint.startsWith('invoke') && call.body?.['anthropic_version'] !== undefined) return anthropicContextDocuments;
  return undefined;
}
