import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoutedAnswer } from '../../providers/routing-view.ts';
import { meanTokenProbability, readConfidence, readGrade, schemaProblem, scoreAnswer, unsurePattern } from './answer-checks.ts';

const answer = (text: string, extra: Partial<RoutedAnswer> = {}): RoutedAnswer => ({ text, logprobs: undefined, truncated: false, refused: false, ...extra });

test('the confidence line is read and measured at the very end only', () => {
  assert.deepEqual(readConfidence('Canberra.\nConfidence: 0.85'), { value: 0.85, length: '\nConfidence: 0.85'.length });
  assert.deepEqual(readConfidence('Canberra.\n**Confidence**: 1\n'), { value: 1, length: '\n**Confidence**: 1\n'.length });
  assert.equal(readConfidence('Confidence: 0.8 is not the end of this answer'), undefined);
  assert.equal(readConfidence('Canberra.\nConfidence: 7'), undefined);
  assert.equal(readGrade('I would say Confidence: 0.3 overall'), 0.3);
});

test('refusal and "I don\'t know" phrasing counts near the start of the answer', () => {
  assert.ok(unsurePattern("I don't know the answer to that."));
  assert.ok(unsurePattern("I'm sorry, but I can't help with that request."));
  assert.equal(unsurePattern('Canberra is the capital of Australia.'), undefined);
  assert.ok(unsurePattern('Custom marker: NEED_HUMAN', [/NEED_HUMAN/]));
  // A hedge deep inside a long, useful answer does not fail it.
  assert.equal(unsurePattern(`${'Useful detail. '.repeat(40)}I don't know your exact version.`), undefined);
});

test('JSON schema subset: types, required, additionalProperties, enum, items, anyOf', () => {
  const schema = { type: 'object', required: ['name', 'tags'], additionalProperties: false, properties: { name: { type: 'string' }, tags: { type: 'array', items: { enum: ['a', 'b'] } }, size: { anyOf: [{ type: 'integer' }, { type: 'null' }] } } };
  assert.equal(schemaProblem({ name: 'x', tags: ['a'], size: null }, schema), undefined);
  assert.match(schemaProblem({ name: 'x' }, schema) ?? '', /tags is required/);
  assert.match(schemaProblem({ name: 'x', tags: ['c'] }, schema) ?? '', /enum/);
  assert.match(schemaProblem({ name: 'x', tags: [], extra: 1 }, schema) ?? '', /not allowed/);
  assert.match(schemaProblem({ name: 'x', tags: [], size: 1.5 }, schema) ?? '', /anyOf/);
});

test('scores: a failed check is 0, otherwise the lowest soft signal, 1 when there is none', () => {
  assert.equal(meanTokenProbability([Math.log(0.5), Math.log(0.5)]), 0.5);
  assert.deepEqual(scoreAnswer({ answer: answer('Canberra.'), json: undefined, confidence: undefined, judge: undefined, useLogprobs: true }), { score: 1, reasons: [], signals: {} });
  const soft = scoreAnswer({ answer: answer('Canberra.', { logprobs: [Math.log(0.9)] }), json: undefined, confidence: 0.6, judge: 0.8, useLogprobs: true });
  assert.ok(Math.abs(soft.score - 0.6) < 1e-12);
  assert.equal(scoreAnswer({ answer: answer('Canberra.', { logprobs: [Math.log(0.1)] }), json: undefined, confidence: undefined, judge: undefined, useLogprobs: false }).score, 1);
  const cut = scoreAnswer({ answer: answer('{"a": 1', { truncated: true }), json: { schema: undefined }, confidence: 0.99, judge: undefined, useLogprobs: true });
  assert.deepEqual(cut, { score: 0, reasons: ['truncated', 'invalid_json'], signals: { confidence: 0.99 } });
  assert.deepEqual(scoreAnswer({ answer: answer('{"a": "x"}'), json: { schema: { type: 'object', properties: { a: { type: 'number' } } } }, confidence: undefined, judge: undefined, useLogprobs: true }).reasons, ['schema: $.a should be number, is string']);
  assert.equal(scoreAnswer({ answer: answer(''), json: undefined, confidence: undefined, judge: undefined, useLogprobs: true, checks: false }).score, 1);
});
