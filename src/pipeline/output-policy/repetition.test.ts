import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repetitionLoop } from './repetition.ts';

const prose =
  'The ledger keeps one row per call. Each row holds the tokens, the price version and the levers that ' +
  'changed the call. A report groups rows by feature and team, and a budget reads the same rows to ' +
  'decide whether a call may go ahead. Savings are computed against a baseline measured in the same run, ' +
  'so a lever that costs money shows a negative number instead of hiding it. ';

test('an answer that ends in a repeated block is a loop, wherever the cut falls', () => {
  const block = 'Let me check the invoice total again. ';
  const looped = prose + block.repeat(40);
  const found = repetitionLoop(looped);
  assert.ok(found);
  assert.equal(found.period, block.length);
  assert.ok(found.repeats >= 39);
  // Cut mid-block, as a max_tokens cut does.
  assert.ok(repetitionLoop(looped.slice(0, -7)));
  // A loop of one character (blank lines) counts too.
  assert.ok(repetitionLoop(`${prose}${'\n'.repeat(600)}`));
  // A long period (a repeated paragraph) is still found.
  assert.equal(repetitionLoop(`intro. ${prose.repeat(4)}`)?.period, prose.length);
});

test('ordinary prose, short repeats and look-alike rows are not loops', () => {
  assert.equal(repetitionLoop(prose.repeat(1) + 'The end.'), undefined);
  // Two repeats are not enough evidence; neither is a short stretch.
  assert.equal(repetitionLoop(`${prose}${prose}`), undefined);
  assert.equal(repetitionLoop(`${prose}${'ok. '.repeat(20)}`), undefined);
  // Table rows that share their shape but not their values.
  const rows = Array.from({ length: 60 }, (_, index) => `| item ${index} | ${(index * 37) % 101} | ${(index * 11) % 7} |\n`).join('');
  assert.equal(repetitionLoop(rows), undefined);
  assert.equal(repetitionLoop(''), undefined);
});
