import type { SemanticView } from '../../providers/response-cache-view.ts';
import type { ResolvedCachePolicy } from '../response-cache/cache-policy.ts';

/**
 * Why a question must not be answered from, or stored into, the semantic cache. A paraphrase
 * match carries an answer from one person's question to another's: questions about a person's
 * own account, money or identity must never travel that way.
 */
export type IneligibleReason = 'user_specific' | 'multi_turn' | 'tools' | 'media' | 'temperature' | 'empty_prompt' | 'too_long';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
// Six or more digits, possibly grouped: account, card, phone, order and tracking numbers.
const LONG_NUMBER = /(?:\d[ -]?){6,}/;
// Identifiers that mix letters and digits (order ABC12345, IBAN, ticket #4521) or are prefixed with "#".
const IDENTIFIER = /#\s?\d{2,}|\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9-]{6,}\b|\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b/;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;
// Amounts: a currency symbol or code next to a number, or a number followed by a currency word.
const AMOUNT = /[$€£¥₹]\s?\d|\d\s?[$€£¥₹]|\b(?:usd|eur|gbp|jpy|inr|cad|aud|chf)\s?\d|\d[\d,.]*\s?(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks|cents?)\b/i;
// "my <identity data> is ...": the person states their own details ("my address is 12 Elm St").
const MY_DETAILS =
  /\bmy\s+(?:\w+\s+)?(?:name|email|e-mail|address|phone|number|password|pin|username|login|id|account|card|birthday|date of birth|dob|ssn|passport|license|iban|policy number|order number|zip|postcode)\s*(?:is|was|=|:)\s*\S/i;
// A personal name: "my name is Ana", "I am Ana", "my friend Bob", "this is Carla from ...".
const NAMED =
  /\b(?:my name is|i am called|call me|this is)\s+[A-Z][a-z]+|\bi(?:'m| am)\s+[A-Z][a-z]+\b(?!\s+(?:user|developer|student))|\bmy\s+(?:[a-z]+\s+)?[A-Z][a-z]+\b/;

export function looksUserSpecific(text: string): boolean {
  return EMAIL.test(text) || LONG_NUMBER.test(text) || IDENTIFIER.test(text) || UUID.test(text) || AMOUNT.test(text) || MY_DETAILS.test(text) || NAMED.test(text);
}

/** Past this, a "question" is a document to process, not a question people ask in other words. */
const MAX_PROMPT_CHARACTERS = 4_000;

export function semanticIneligibility(view: SemanticView, policy: ResolvedCachePolicy): IneligibleReason | undefined {
  if (view.prompt.trim() === '') return 'empty_prompt';
  if (view.prompt.length > MAX_PROMPT_CHARACTERS) return 'too_long';
  if (!policy.allowMultiTurn && (view.userTurns > 1 || view.priorTurns > 0)) return 'multi_turn';
  if (!policy.allowTools && view.hasTools) return 'tools';
  if (!policy.allowMedia && view.hasMedia) return 'media';
  // Unset means the provider default, 1.0 for OpenAI, Anthropic and Bedrock's Claude models.
  if ((view.temperature ?? 1) > policy.maxTemperature) return 'temperature';
  if (!policy.allowUserSpecific && looksUserSpecific(view.prompt)) return 'user_specific';
  return undefined;
}
