import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CallContext } from '../context.ts';
import { answerText } from '../semantic-cache/testing/stage-harness.ts';
import type { SharedRedis } from './shared-redis.ts';
import { connectTestRedis, deleteKeys, uniquePrefix } from './testing/redis-test-support.ts';
import { answerFor, eventually, startReplica, type Replica } from './testing/replica.ts';

const connections: SharedRedis[] = [];
const replicas: Replica[] = [];

/** Replicas of one deployment: each its own connection, all under one key prefix. */
async function deployment(policy: Record<string, unknown>, count: number): Promise<{ prefix: string; replicas: Replica[]; add(): Promise<Replica> }> {
  const prefix = uniquePrefix();
  const add = async () => {
    const redis = connectTestRedis(prefix);
    connections.push(redis);
    const replica = await startReplica(redis, policy);
    replicas.push(replica);
    return replica;
  };
  const started: Replica[] = [];
  for (let index = 0; index < count; index += 1) started.push(await add());
  return { prefix, replicas: started, add };
}

function semanticDecision(context: CallContext): unknown {
  return context.levers.find((effect) => effect.lever === 'response_cache' && effect.detail?.kind === 'semantic')?.detail?.decision;
}

after(async () => {
  for (const replica of replicas) await replica.close();
  for (const redis of connections) {
    await deleteKeys(redis, redis.keyPrefix);
    await redis.close();
  }
});

describe('two replicas sharing one Redis', () => {
  test('an exact entry stored by one replica is served by the other, to the same tenant only', async () => {
    const { replicas: [first, second] } = await deployment({ exact: 'on' }, 2);
    assert.ok(first && second);
    const question = { prompt: 'what is the capital of France', customer: 'acme' };
    const stored = await first.ask(question);
    assert.equal(stored.cacheStatus, 'miss');
    assert.equal(first.upstream.calls, 1);

    const served = await second.ask(question);
    assert.equal(served.cacheStatus, 'exact_hit');
    assert.equal(second.upstream.calls, 0, 'the second replica did not call upstream');
    assert.equal(answerText(served), answerFor(question.prompt));
    assert.equal(served.result?.headers['x-costgate-cache'], 'exact_hit');

    const otherTenant = await second.ask({ ...question, customer: 'globex' });
    assert.equal(otherTenant.cacheStatus, 'miss', 'another tenant never gets the entry');
    const otherKey = await second.ask({ ...question, apiKey: 'sk-other' });
    assert.equal(otherKey.cacheStatus, 'miss', 'another credential never gets the entry');
    assert.equal(second.upstream.calls, 2);
  });

  test('a semantic entry inserted on one replica is found by the other; a removal reaches it too', async () => {
    const { replicas: [first, second], add } = await deployment({ semantic: 'on' }, 2);
    assert.ok(first && second);
    const before = await second.ask({ prompt: 'how do I reset my alarm' });
    assert.equal(semanticDecision(before), 'none', 'nothing to match yet');

    const stored = await first.ask({ prompt: 'what is your refund policy' });
    const key = stored.responseCache?.key;
    assert.ok(key);
    assert.ok(first.semantic.matcher.idOf(key) !== undefined, 'indexed where it was stored');
    assert.ok(await eventually(() => second.semantic.matcher.idOf(key) !== undefined), 'indexed on the other replica from the stream');

    const paraphrase = await second.ask({ prompt: 'tell me the refund policy' });
    assert.equal(semanticDecision(paraphrase), 'explore', 'the first replica entry is the candidate');

    const late = await add();
    assert.ok(late.semantic.matcher.idOf(key) !== undefined, 'a replica started later loads the existing entries');

    await first.cache.store.delete(key);
    assert.ok(await eventually(() => second.semantic.matcher.idOf(key) === undefined), 'the removal reached the other replica');
    assert.ok(await eventually(() => late.semantic.matcher.idOf(key) === undefined));
  });
});
