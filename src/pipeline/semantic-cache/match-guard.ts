/**
 * A guard on top of vector similarity. Embeddings put "turn on the alarm" next to "turn off the
 * alarm" and "refund for order 12" next to "refund for order 13"; a semantic match is rejected
 * when the two questions differ in negation, in numbers, in named entities or by an antonym.
 */

const NEGATIONS = new Set([
  'not', 'no', 'never', 'none', 'nobody', 'nothing', 'neither', 'nor', 'nowhere', 'without', 'cannot',
  'cant', 'dont', 'doesnt', 'didnt', 'isnt', 'arent', 'wasnt', 'werent', 'wont', 'wouldnt', 'shouldnt',
  'couldnt', 'hasnt', 'havent', 'hadnt', 'mustnt', 'neednt', 'aint', 'unable', 'except', 'excluding',
]);

// Pairs whose members embed close together yet flip the answer. Both directions are checked.
const ANTONYMS: ReadonlyArray<readonly [string, string]> = [
  ['on', 'off'], ['enable', 'disable'], ['enabled', 'disabled'], ['start', 'stop'], ['open', 'close'],
  ['increase', 'decrease'], ['add', 'remove'], ['buy', 'sell'], ['before', 'after'], ['up', 'down'],
  ['max', 'min'], ['maximum', 'minimum'], ['more', 'less'], ['most', 'least'],
  ['best', 'worst'], ['true', 'false'], ['allow', 'deny'], ['accept', 'reject'], ['include', 'exclude'],
  ['import', 'export'], ['upload', 'download'], ['encrypt', 'decrypt'], ['lock', 'unlock'],
  ['login', 'logout'], ['connect', 'disconnect'], ['install', 'uninstall'], ['win', 'lose'],
  ['male', 'female'], ['men', 'women'], ['man', 'woman'], ['love', 'hate'], ['pros', 'cons'],
  ['advantages', 'disadvantages'], ['positive', 'negative'], ['high', 'low'], ['higher', 'lower'],
  ['fast', 'slow'], ['faster', 'slower'], ['cheap', 'expensive'],
  ['hot', 'cold'], ['good', 'bad'], ['better', 'worse'], ['rich', 'poor'], ['old', 'new'],
  ['first', 'last'], ['early', 'late'], ['inside', 'outside'], ['above', 'below'],
  ['subscribe', 'unsubscribe'], ['join', 'leave'], ['gain', 'lose'], ['legal', 'illegal'],
  ['possible', 'impossible'], ['safe', 'unsafe'], ['same', 'different'], 
  ['push', 'pull'], ['send', 'receive'], ['arrive', 'depart'], ['arrival', 'departure'],
  ['north', 'south'], ['east', 'west'], ['left', 'right'], ['yes', 'no'], ['agree', 'disagree'],
  ['like', 'dislike'], ['visible', 'invisible'], ['valid', 'invalid'], ['success', 'failure'],
  ['pass', 'fail'], ['weekday', 'weekend'],
];

const NUMBER_WORDS = new Map<string, string>([
  ['zero', '0'], ['one', '1'], ['two', '2'], ['three', '3'], ['four', '4'], ['five', '5'], ['six', '6'],
  ['seven', '7'], ['eight', '8'], ['nine', '9'], ['ten', '10'], ['eleven', '11'], ['twelve', '12'],
  ['twenty', '20'], ['thirty', '30'], ['forty', '40'], ['fifty', '50'], ['hundred', '100'],
  ['thousand', '1000'], ['million', '1000000'], ['billion', '1000000000'], ['once', '1x'], ['twice', '2x'],
  ['half', '0.5'], ['double', '2x'], ['triple', '3x'], ['first', '#1'], ['second', '#2'], ['third', '#3'],
]);

// Capitalized words that start questions or sentences without naming anything.
const NOT_ENTITIES = new Set([
  'i', 'what', 'how', 'why', 'when', 'where', 'who', 'whom', 'which', 'whose', 'is', 'are', 'am', 'was',
  'were', 'do', 'does', 'did', 'can', 'could', 'should', 'would', 'will', 'shall', 'may', 'might', 'must',
  'the', 'a', 'an', 'if', 'in', 'on', 'at', 'for', 'to', 'of', 'and', 'or', 'but', 'my', 'your', 'our',
  'please', 'tell', 'give', 'explain', 'describe', 'list', 'show', 'help', 'hi', 'hello', 'hey', 'thanks',
  'there', 'this', 'that', 'these', 'those', 'it', 'its', 'has', 'have', 'had', 'be', 'any', 'some', 'all',
  'as', 'with', 'from', 'by', 'about', 'after', 'before', 'so', 'then', 'also', 'just', 'we', 'you',
  'he', 'she', 'they', 'me', 'us', 'them', 'yes', 'no', 'not', 'ok', 'okay', 'is', 'new', 'best', 'which',
]);

interface GuardFeatures {
  tokens: string[];
  tokenSet: Set<string>;
  negations: number;
  numbers: string[];
  entities: Set<string>;
}

function tokenize(text: string): string[] {
  // Apostrophes are dropped inside words so "don't" and "dont" are the same negation.
  return text.toLowerCase().replace(/[\u2019']/g, '').match(/[a-z0-9]+(?:[.,][0-9]+)*/g) ?? [];
}

/** Words that name something: capitalized mid-sentence, all caps, or mixing letters and digits or cases. */
function entitiesOf(text: string): Set<string> {
  const entities = new Set<string>();
  const words = text.replace(/[\u2019']s\b/g, '').match(/[A-Za-z][A-Za-z0-9+#.\-]*[A-Za-z0-9+#]|[A-Za-z]/g) ?? [];
  const sentenceStarts = new Set<number>();
  let position = 0;
  for (const word of words) {
    const index = text.indexOf(word, position);
    const before = text.slice(0, index).trimEnd();
    if (before === '' || /[.!?:;"(\n]$/.test(before)) sentenceStarts.add(index);
    position = index + word.length;
    const lower = word.toLowerCase();
    if (NOT_ENTITIES.has(lower)) continue;
    const capitalized = /^[A-Z]/.test(word) && !sentenceStarts.has(index);
    const allCaps = word.length > 1 && word === word.toUpperCase() && /[A-Z]/.test(word);
    const mixed = /[a-z][A-Z]|[A-Za-z][0-9]|[0-9][A-Za-z]/.test(word);
    if (capitalized || allCaps || mixed) entities.add(lower);
  }
  return entities;
}

export function guardFeatures(text: string): GuardFeatures {
  const tokens = tokenize(text);
  const numbers: string[] = [];
  let negations = 0;
  for (const token of tokens) {
    if (NEGATIONS.has(token)) negations += 1;
    if (/^[0-9]/.test(token)) numbers.push(token.replace(/,/g, ''));
    else {
      const word = NUMBER_WORDS.get(token);
      if (word) numbers.push(word);
    }
  }
  return { tokens, tokenSet: new Set(tokens), negations, numbers: numbers.sort(), entities: entitiesOf(text) };
}

export type GuardVerdict = { pass: true } | { pass: false; reason: 'negation' | 'number' | 'entity' | 'antonym' };

function sameList(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/** An entity named on one side must at least appear as a word on the other ("python" vs "Python" is fine). */
function entitiesCovered(from: GuardFeatures, to: GuardFeatures): boolean {
  for (const entity of from.entities) {
    if (to.tokenSet.has(entity)) continue;
    const parts = tokenize(entity);
    if (parts.length === 0 || !parts.every((part) => to.tokenSet.has(part))) return false;
  }
  return true;
}

function antonymSplit(left: GuardFeatures, right: GuardFeatures): boolean {
  for (const [first, second] of ANTONYMS) {
    const leftFirst = left.tokenSet.has(first);
    const leftSecond = left.tokenSet.has(second);
    const rightFirst = right.tokenSet.has(first);
    const rightSecond = right.tokenSet.has(second);
    if ((leftFirst && !leftSecond && rightSecond && !rightFirst) || (leftSecond && !leftFirst && rightFirst && !rightSecond)) return true;
  }
  return false;
}

/** Whether a cached question may answer a new one that is close in embedding space. */
export function guardMatch(query: string | GuardFeatures, cached: string | GuardFeatures): GuardVerdict {
  const left = typeof query === 'string' ? guardFeatures(query) : query;
  const right = typeof cached === 'string' ? guardFeatures(cached) : cached;
  if (left.negations % 2 !== right.negations % 2) return { pass: false, reason: 'negation' };
  if (!sameList(left.numbers, right.numbers)) return { pass: false, reason: 'number' };
  if (antonymSplit(left, right)) return { pass: false, reason: 'antonym' };
  if (!entitiesCovered(left, right) || !entitiesCovered(right, left)) return { pass: false, reason: 'entity' };
  return { pass: true };
}
