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
