export type ProviderId = 'openai' | 'anthropic' | 'bedrock';

export const PROVIDER_IDS: readonly ProviderId[] = ['openai', 'anthropic', 'bedrock'];
