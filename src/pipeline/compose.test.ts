import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compose } from './compose.ts';
import type { CallContext } from './context.ts';
import type { Stage } from './stage.ts';

const context = {} as CallContext;

test('stages wrap each other in order, and a stage may answer without calling next', async () => {
  const trail: string[] = [];
  const stage = (name: string, callNext = true): Stage => ({
    name,
    async run(_context, next) {
      trail.push(`${name}:in`);
      if (callNext) await next();
      trail.push(`${name}:out`);
    },
  });
  await compose([stage('a'), stage('b', false), stage('c')])(context);
  assert.deepEqual(trail, ['a:in', 'b:in', 'b:out', 'a:out']);
});

test('calling next twice is an error, not a double upstream call', async () => {
  const twice: Stage = {
    name: 'twice',
    async run(_context, next) {
      await next();
      await next();
    },
  };
  await assert.rejects(compose([twice])(context), /next\(\) twice/);
});

test('a stage may run the rest of the pipeline once per child context (cascade attempts), never twice on one', async () => {
  const seen: string[] = [];
  const attempts: Stage = {
    name: 'attempts',
    async run(parent, next) {
      const first = { ...parent, requestId: 'first' } as CallContext;
      const second = { ...parent, requestId: 'second' } as CallContext;
      await next(first);
      await next(second);
      await assert.rejects(next(first), /next\(\) twice/);
    },
  };
  const last: Stage = {
    name: 'last',
    async run(attempt) {
      seen.push(attempt.requestId);
    },
  };
  await compose([attempts, last])({ requestId: 'parent' } as CallContext);
  assert.deepEqual(seen, ['first', 'second']);
});
