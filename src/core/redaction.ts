/** What redaction can replace; each match becomes `[REDACTED:<kind>]`. */
export const REDACTION_KINDS = ['email', 'api_key', 'card_number'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

export type RedactionCounts = Partial<Record<RedactionKind, number>>;

interface Rule {
  kind: RedactionKind;
  pattern: RegExp;
  /** Which capture group is the secret; the rest of the match (a `key=` label) is kept. 0 = all. */
  group: number;
  /** Extra check on the matched value; a rejected match is left as it is. */
  accept?: (value: string) => boolean;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

/** Provider and platform credentials with a recognisable prefix. */
const PREFIXED_KEYS = new RegExp(
  [
    // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-api03-..., sk-ant-admin01-...)
    'sk-[A-Za-z0-9_-]{20,}',
    // AWS access key ids: long-term (AKIA), temporary (ASIA) and the rarer kinds
    '(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}',
    // Stripe secret and restricted keys
    '(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}',
    // GitHub tokens, Slack tokens, Google API keys
    'gh[pousr]_[A-Za-z0-9]{30,}',
    'github_pat_[A-Za-z0-9_]{30,}',
    'xox[abprs]-[A-Za-z0-9-]{10,}',
    'AIza[A-Za-z0-9_-]{35}',
    // JSON Web Tokens (header.payload.signature)
    'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
  ]
    .map((alternative) => `(?<![A-Za-z0-9_-])${alternative}(?![A-Za-z0-9_-])`)
    .join('|'),
  'g',
);

const BEARER = /\b(?:Bearer|Basic|Token)\s+([A-Za-z0-9._~+/-]{16,}=*)/gi;

/** Names under which a secret usually travels: `api_key=...`, `"client_secret": "..."`, `password: ...`. */
const SECRET_NAME = '(?:api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret(?:[_-]?access)?[_-]?key|client[_-]?secret|secret|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|password|passwd|private[_-]?key|x-api-key)';
const NAMED_SECRET = new RegExp(`(?<![A-Za-z0-9])${SECRET_NAME}["']?\\s*[:=]\\s*["']?([^\\s"'&,;<>()\\[\\]{}]{12,})`, 'gi');
const SECRET_NAME_ONLY = new RegExp(`^${SECRET_NAME}$`, 'i');

/** Runs of 13-19 digits, possibly in groups split by single spaces or dashes. */
const CARD_CANDIDATE = /(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-]|\.\d)/g;

/** Shannon entropy in bits per character. */
function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const character of value) counts.set(character, (counts.get(character) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const share = count / value.length;
    bits -= share * Math.log2(share);
  }
  return bits;
}

/**
 * A value that looks generated rather than typed: long enough, mixing letters with digits or
 * symbols, and varied. "password=changeme" stays (it is not a key), "token=3f9a0c...e1" goes.
 */
export function looksLikeSecret(value: string): boolean {
  if (value.length < 12) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(value)).length;
  return classes >= 2 && /[0-9]/.test(value) && entropy(value) >= 3;
}

/** The Luhn check every payment card number passes (and 9 in 10 random digit strings fail). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths of the card networks in use (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro). */
function cardIssuer(digits: string): boolean {
  const length = digits.length;
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  if (digits[0] === '4') return length === 13 || length === 16 || length === 19;
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return length === 16;
  if (two === 34 || two === 37) return length === 15;
  if (two === 36 || two === 38 || two === 39 || (two === 30 && Number(digits[2]) <= 5)) return length >= 14 && length <= 19;
  if (two === 35 || two === 62 || two === 65 || four === 6011 || (four >= 6440 && four <= 6499)) return length >= 16 && length <= 19;
  if (two === 50 || (two >= 56 && two <= 69)) return length >= 12 && length <= 19;
  return false;
}

/** Grouped numbers must be grouped the way cards are printed: one separator kind, groups of 4 (Amex 4-6-5). */
function cardGrouping(candidate: string): boolean {
  const separators = new Set(candidate.replace(/\d/g, ''));
  if (separators.size === 0) return true;
  if (separators.size > 1) return false;
  const groups = candidate.split(/[ -]/).map((group) => group.length);
  const shape = groups.join('-');
  if (shape === '4-6-5' || shape === '4-6-4') return true;
  return groups.slice(0, -1).every((length) => length === 4) && (groups.at(-1) ?? 0) >= 1 && (groups.at(-1) ?? 0) <= 4;
}

export function isCardNumber(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && cardGrouping(candidate) && cardIssuer(digits) && luhnValid(digits);
}

// Keys first, so an email-like key label or a key's digits are not claimed by another rule.
const RULES: readonly Rule[] = [
  { kind: 'api_key', pattern: PREFIXED_KEYS, group: 0 },
  { kind: 'api_key', pattern: BEARER, group: 1 },
  { kind: 'api_key', pattern: NAMED_SECRET, group: 1, accept: looksLikeSecret },
  { kind: 'email', pattern: EMAIL, group: 0 },
  { kind: 'card_number', pattern: CARD_CANDIDATE, group: 0, accept: isCardNumber },
];

export function redactionTag(kind: RedactionKind): string {
  return `[REDACTED:${kind}]`;
}

/**
 * Replaces the kinds of value asked for with `[REDACTED:<kind>]` and counts the replacements.
 * Works on plain text; JSON is best redacted string by string (pipeline/record-bodies/redact-body.ts), so escapes stay valid.
 */
export function redactText(text: string, kinds: ReadonlySet<RedactionKind>, counts: RedactionCounts = {}): string {
  let result = text;
  for (const rule of RULES) {
    if (!kinds.has(rule.kind)) continue;
    rule.pattern.lastIndex = 0;
    result = result.replace(rule.pattern, (match: string, ...groups: unknown[]) => {
      const value = rule.group === 0 ? match : String(groups[rule.group - 1] ?? '');
      if (rule.accept && !rule.accept(value)) return match;
      counts[rule.kind] = (counts[rule.kind] ?? 0) + 1;
      if (rule.group === 0) return redactionTag(rule.kind);
      // Keep the label (`Bearer `, `api_key=`): the reader sees what was there, not its value.
      return match.slice(0, match.length - value.length) + redactionTag(rule.kind);
    });
  }
  return result;
}

const STRONG_SECRET_NAME = /(?:^|[_-])(?:api[_-]?key|apikey|password|passwd|client[_-]?secret|secret[_-]?access[_-]?key|private[_-]?key|authorization)$/i;

/**
 * How an object key bears on its string value: `always` (a password field is redacted whatever it
 * holds), `if-generated` (a `token` field is redacted only when the value looks generated, since
 * OpenAI's logprobs call each word a token), or undefined.
 */
export function secretField(name: string): 'always' | 'if-generated' | undefined {
  if (STRONG_SECRET_NAME.test(name)) return 'always';
  return SECRET_NAME_ONLY.test(name) ? 'if-generated' : undefined;
}

const EVERY_KIND: ReadonlySet<RedactionKind> = new Set(REDACTION_KINDS);

/** Every kind redacted: for text kept outside the opt-in body store (prompts the router keeps for training). */
export function redactAll(text: string): string {
  return redactText(text, EVERY_KIND);
}
