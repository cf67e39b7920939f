/**
 * Recognises a degenerate answer: one that ends in the same block of text repeated over and over,
 * the way a model stuck in a loop writes until a cap stops it. Cutting such an answer loses nothing
 * a client wanted, so the truncation guard does not count it against the feature's truncation budget.
 *
 * Only the tail is read (a loop shows there), and only for answers an output cap cut, so the hot
 * path never pays for it. The test is strict on purpose: at least three whole periods and a few
 * hundred characters of exact repetition at the cut point. An answer that merely resembles itself
 * (a table, similar list items) does not qualify, and then its cut counts as a real truncation.
 */

/** How much of the answer's end is read. */
const TAIL_CHARACTERS = 16_384;
/** The end of the text whose earlier occurrence gives the candidate period. */
const PROBE_CHARACTERS = 48;
/** Fewer repeated characters than this is not evidence of a loop. */
const MIN_REPEATED_CHARACTERS = 400;
const MIN_REPEATS = 3;

export interface RepetitionLoop {
  /** Length of the repeated block, in characters. */
  period: number;
  /** How many times the block repeats at the end (may be fractional: the cut falls mid-block). */
  repeats: number;
}

export function repetitionLoop(text: string): RepetitionLoop | undefined {
  const tail = text.length > TAIL_CHARACTERS ? text.slice(-TAIL_CHARACTERS) : text;
  if (tail.length < MIN_REPEATED_CHARACTERS) return undefined;
  const probe = tail.slice(-PROBE_CHARACTERS);
  // The nearest earlier occurrence gives the smallest period the end could have.
  const previous = tail.lastIndexOf(probe, tail.length - PROBE_CHARACTERS - 1);
  if (previous < 0) return undefined;
  const period = tail.length - PROBE_CHARACTERS - previous;
  let matched = 0;
  for (let index = tail.length - 1 - period; index >= 0 && tail.charCodeAt(index) === tail.charCodeAt(index + period); index -= 1) matched += 1;
  const repeated = matched + period;
  const repeats = repeated / period;
  if (repeats < MIN_REPEATS || repeated < MIN_REPEATED_CHARACTERS) return undefined;
  return { period, repeats };
}
