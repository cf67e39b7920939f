import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { answerText } from '../semantic-cache/testing/stage-harness.ts';
import { connectTestRedis, startThrowawayRedis, uniquePrefix, type ThrowawayRedis } from './testing/redis-test-support.ts';
import { answerFor, eventually, startReplica } from './testing/replica.ts';

// A redis-server of this test's own, on a free port: the only Redis a test may stop.
let server: ThrowawayRedis | undefined;
after(async () => {
  await server?.stop();
});

test('with Redis down the caches miss and every call is forwarded; one log line; they recover when Redis is back', async () => {
  server = await startThrowawayRedis();
  const lines: string[] = [];
  const redis = connectTestRedis(uniquePrefix(), server.url, (line) => lines.push(line));
  const replica = await startReplica(redis, { exact: 'on', semantic: 'on' });
  try {
    const question = { prompt: 'what is your refund policy' };
    assert.equal((await replica.ask(question)).cacheStatus, 'miss');
    assert.equal((await replica.ask(question)).cacheStatus, 'exact_hit');
    assert.equal(replica.upstream.calls, 1);
    assert.equal(lines.length, 0, lines.join(' | '));

    await server.stop();
    assert.ok(await eventually(() => !redis.available), 'the connection noticed');
    for (let call = 0; call < 5; call += 1) {
      const context = await replica.ask(question);
      assert.notEqual(context.cacheStatus, 'exact_hit');
      assert.equal(answerText(context), answerFor(question.prompt), 'answered by the upstream');
    }
    const paraphrase = await replica.ask({ prompt: 'tell me the refund policy' });
    assert.equal(answerText(paraphrase), answerFor('refund'));
    assert.equal(replica.upstream.calls, 7, 'every call while Redis was down went upstream');
    const outages = lines.filter((line) => line.startsWith('redis unavailable'));
    assert.equal(outages.length, 1, `one line for the outage, got: ${lines.join(' | ')}`);

    // Back, empty (no persistence): the cache fills again and serves.
    await server.restart();
    assert.ok(await eventually(() => redis.available), 'reconnected');
    assert.ok(lines.some((line) => line.startsWith('redis reachable again')));
    assert.equal((await replica.ask(question)).cacheStatus, 'miss');
    assert.equal((await replica.ask(question)).cacheStatus, 'exact_hit');
    assert.equal(replica.upstream.calls, 8);
    assert.equal(lines.filter((line) => line.startsWith('redis unavailable')).length, 1);
  } finally {
    await replica.close();
    await redis.close();
  }
});
