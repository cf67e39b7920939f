/**
 * Prefix-stability audit: per feature, compare each request's stable section (tools, schemas, system
 * instructions) with the previous request's, find where they first differ, and when the difference is
 * a small value inside an otherwise identical section (the texts agree again right after it), classify
 * that value. A timestamp or user id at the top of a system prompt makes every prefix unique, so no
 * provider can cache it; the audit says what sits there, shows it redacted, and prices what is lost.
 *
 * Only redacted examples and counts are kept in the snapshot, never prompt text.
 */

export type PatternKind = 'timestamp' | 'date' | 'uuid' | 'request_id' | 'email' | 'user' | 'number' | 'other';

export interface PatternFinding {
  count: number;
  /** The text around the value with the value (and anything identifying nearby) replaced. */
  example: string;
}

export interface FeatureAuditState {
  feature: string;
  provider: string;
  model: string;
  /** Requests compared with the one before them. */
  comparisons: number;
  /** Comparisons whose stable section differed only by a small value. */
  unstable: number;
  patterns: Partial<Record<PatternKind, PatternFinding>>;
  /** Sum over unstable comparisons of the stable-section tokens that could have been cached. */
  cacheableTokens: number;
  /** Sum of the tokens lost to the instability (cacheable minus what still cached before it). */
  lostTokens: number;
  /** Picodollars lost (lost tokens at the uncached minus the cache-read price), per hour bucket, as decimal strings. */
  lostByHour: Array<[hour: number, picodollars: string]>;
  firstSeen: number;
  lastSeen: number;
}

export interface AuditSnapshot {
  version: 1;
  features: FeatureAuditState[];
}

export interface AuditObservation {
  feature: string;
  provider: string;
  model: string;
  /** The stable section's text, blocks joined in order. */
  stableText: string;
  stableTokens: number;
  /** Smallest prefix the provider caches. */
  minimumTokens: number;
  /** Picodollars saved per token read from cache instead of sent uncached; undefined when unpriced. */
  readSavingPerToken: bigint | undefined;
  now: number;
}

// A value this short between identical text is a variable in a template, not a different prompt.
const MAX_VARIABLE_CHARACTERS = 400;
// ...and the text must agree again for at least this long after it for the loss to matter.
const MIN_RESYNC_CHARACTERS = 200;
const MAX_TEXT_CHARACTERS = 400_000;
const MAX_FEATURES = 1000;
const HOUR = 3_600_000;
const DAY_HOURS = 24;

const TOKEN_CHARACTER = /[A-Za-z0-9\-:.@_+/]/;

const PATTERNS: ReadonlyArray<readonly [PatternKind, RegExp]> = [
  ['email', /[^\s@]+@[^\s@]+\.[A-Za-z]{2,}/],
  ['uuid', /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i],
  ['timestamp', /\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}|^\d{1,2}:\d{2}(:\d{2})?(\.\d+)?(Z|[ap]m)?$|^1\d{9}(\d{3})?$/i],
  ['date', /\d{4}-\d{2}-\d{2}|\d{1,2}\/\d{1,2}\/\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4}/],
  ['request_id', /^(req|request|trace|span|session|sess|msg|run|job|call|id)[-_:]?[A-Za-z0-9-]{6,}$|^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{16,}$|^[0-9a-f]{16,}$/i],
];

const USER_LABEL = /(user|customer|client|member|account|name|username|login|owner|patient|employee|agent)\s*(name|id|handle)?\s*[:=#]?\s*["']?$/i;
const MONTH_NAME = /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?$|^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?$/i;

export function classifyValue(value: string, before: string): PatternKind {
  for (const [kind, pattern] of PATTERNS) if (pattern.test(value)) return kind;
  if (MONTH_NAME.test(value)) return 'date';
  if (USER_LABEL.test(before.slice(-40))) return 'user';
  if (/^[+-]?\d+([.,]\d+)*$/.test(value)) return 'number';
  // A capitalized word where the previous request had another one: most often a person's name.
  if (/^[A-Z][a-z]+$/.test(value)) return 'user';
  return 'other';
}

/** Masks what could identify someone in a context snippet: emails, ids, digits. */
function scrub(text: string): string {
  return text
    .replace(/[^\s@]+@[^\s@]+\.[A-Za-z]{2,}/g, '<email>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\d/g, '#')
    .replace(/\s+/g, ' ');
}

/** A non-identifying outline of a value whose form matters (dates, ids, numbers): digits as d, letters as x. */
function shape(value: string): string {
  return value.replace(/[0-9A-Za-z]/g, (character) => (/\d/.test(character) ? 'd' : character === 'T' || character === 'Z' ? character : 'x')).slice(0, 48);
}

export interface Divergence {
  /** Character offset where the two texts first differ. */
  at: number;
  /** The differing value in the newer text, widened to whole words. */
  value: string;
  kind: PatternKind;
  example: string;
}

/** Where two stable sections diverge, when it is a small variable inside otherwise equal text. */
export function findDivergence(previous: string, current: string): Divergence | undefined {
  if (previous === current) return undefined;
  const limit = Math.min(previous.length, current.length);
  let at = 0;
  while (at < limit && previous.charCodeAt(at) === current.charCodeAt(at)) at += 1;
  let suffix = 0;
  while (
    suffix < limit - at &&
    previous.charCodeAt(previous.length - 1 - suffix) === current.charCodeAt(current.length - 1 - suffix)
  ) {
    suffix += 1;
  }
  const middle = Math.max(previous.length, current.length) - at - suffix;
  if (middle > MAX_VARIABLE_CHARACTERS || suffix < MIN_RESYNC_CHARACTERS) return undefined;
  let start = at;
  while (start > 0 && TOKEN_CHARACTER.test(current[start - 1] ?? '')) start -= 1;
  let end = Math.max(at, current.length - suffix);
  while (end < current.length && TOKEN_CHARACTER.test(current[end] ?? '')) end += 1;
  // Trailing punctuation belongs to the sentence, not the value.
  while (end > start && /[.:,\-]/.test(current[end - 1] ?? '')) end -= 1;
  const value = current.slice(start, end);
  const before = current.slice(Math.max(0, start - 60), start);
  const kind = classifyValue(value, before);
  const after = current.slice(end, end + 40);
  const shown = kind === 'timestamp' || kind === 'date' || kind === 'number' || kind === 'uuid' || kind === 'request_id' ? `<${kind}: ${shape(value)}>` : `<${kind}>`;
  return { at, value, kind, example: `…${scrub(before.slice(-40))}${shown}${scrub(after)}…` };
}

export class PrefixAudit {
  readonly #states = new Map<string, FeatureAuditState>();
  // Last stable section per feature: memory only, never persisted.
  readonly #lastText = new Map<string, { text: string; model: string }>();
  #dirty = false;

  get dirty(): boolean {
    return this.#dirty;
  }

  observe(observation: AuditObservation): Divergence | undefined {
    const { feature, stableText, now } = observation;
    if (stableText.length === 0 || stableText.length > MAX_TEXT_CHARACTERS) return undefined;
    const key = `${observation.provider}\u0000${feature}`;
    const previous = this.#lastText.get(key);
    this.#lastText.delete(key);
    this.#lastText.set(key, { text: stableText, model: observation.model });
    if (this.#lastText.size > MAX_FEATURES) this.#lastText.delete(this.#lastText.keys().next().value ?? '');
    if (!previous || previous.model !== observation.model) return undefined;

    const state = this.#state(key, observation);
    state.comparisons += 1;
    state.lastSeen = now;
    this.#dirty = true;
    const divergence = findDivergence(previous.text, stableText);
    if (!divergence) return undefined;

    state.unstable += 1;
    const finding = state.patterns[divergence.kind] ?? { count: 0, example: divergence.example };
    finding.count += 1;
    finding.example = divergence.example;
    state.patterns[divergence.kind] = finding;
    // What still caches is the part before the variable, when it alone reaches the minimum.
    const before = Math.floor((observation.stableTokens * divergence.at) / Math.max(1, stableText.length));
    const lost = observation.stableTokens - (before >= observation.minimumTokens ? before : 0);
    state.cacheableTokens += observation.stableTokens;
    state.lostTokens += lost;
    if (observation.readSavingPerToken !== undefined) {
      const hour = Math.floor(now / HOUR);
      const last = state.lostByHour.at(-1);
      const amount = BigInt(lost) * observation.readSavingPerToken;
      if (last && last[0] === hour) last[1] = (BigInt(last[1]) + amount).toString();
      else state.lostByHour.push([hour, amount.toString()]);
      while ((state.lostByHour[0]?.[0] ?? hour) <= hour - DAY_HOURS) state.lostByHour.shift();
    }
    return divergence;
  }

  snapshot(): AuditSnapshot {
    this.#dirty = false;
    return { version: 1, features: [...this.#states.values()].map((state) => structuredClone(state)) };
  }

  restore(snapshot: AuditSnapshot): void {
    if (snapshot.version !== 1) return;
    for (const state of snapshot.features) this.#states.set(`${state.provider}\u0000${state.feature}`, structuredClone(state));
  }

  #state(key: string, observation: AuditObservation): FeatureAuditState {
    let state = this.#states.get(key);
    if (!state) {
      state = {
        feature: observation.feature,
        provider: observation.provider,
        model: observation.model,
        comparisons: 0,
        unstable: 0,
        patterns: {},
        cacheableTokens: 0,
        lostTokens: 0,
        lostByHour: [],
        firstSeen: observation.now,
        lastSeen: observation.now,
      };
      this.#states.set(key, state);
      if (this.#states.size > MAX_FEATURES) this.#states.delete(this.#states.keys().next().value ?? '');
    }
    state.model = observation.model;
    return state;
  }
}

/** Picodollars lost per day: the last day's loss, scaled up when less than a day has been observed. */
export function lostPerDay(state: FeatureAuditState, now: number): bigint {
  const hour = Math.floor(now / HOUR);
  const lastDay = state.lostByHour.filter(([start]) => start > hour - DAY_HOURS).reduce((sum, [, amount]) => sum + BigInt(amount), 0n);
  const observed = BigInt(Math.round(Math.min(DAY_HOURS * HOUR, Math.max(HOUR, state.lastSeen - state.firstSeen))));
  return (lastDay * BigInt(DAY_HOURS * HOUR)) / observed;
}
