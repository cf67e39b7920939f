import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockClient, CreateModelInvocationJobCommand, GetModelInvocationJobCommand, ListModelInvocationJobsCommand, StopModelInvocationJobCommand } from '@aws-sdk/client-bedrock';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import OpenAI, { toFile } from 'openai';
import { startEmulator, type RunningEmulator } from './index.ts';

let emulator: RunningEmulator;
const TIMING = { validatingMs: 1000, inProgressMs: 1000, finalizingMs: 1000 };

before(async () => {
  emulator = await startEmulator({ batchTiming: TIMING, bedrockMinRecords: 2, recordBatchSubmissions: true });
});
after(() => emulator.close());

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

function chatLine(id: string, text: string, model = 'gpt-4o-mini') {
  return JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: text }] } });
}

test('OpenAI files and batches through the official SDK: validating -> in_progress -> finalizing -> completed, output and error files', async () => {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
  const content = [chatLine('a', 'hello there'), chatLine('b', 'please emu-line-invalid'), chatLine('c', 'third line')].join('\n');
  const file = await client.files.create({ file: await toFile(Buffer.from(content), 'input.jsonl'), purpose: 'batch' });
  assert.equal(file.purpose, 'batch');
  assert.equal(file.bytes, Buffer.byteLength(content));
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'j1' } });
  assert.equal(created.status, 'validating');
  emulator.clock.advance(1500);
  assert.equal((await client.batches.retrieve(created.id)).status, 'in_progress');
  emulator.clock.advance(1000);
  assert.equal((await client.batches.retrieve(created.id)).status, 'finalizing');
  emulator.clock.advance(1000);
  const done = await client.batches.retrieve(created.id);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
  assert.ok(done.output_file_id && done.error_file_id);
  const output = (await (await client.files.content(done.output_file_id)).text()).trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(output.map((line) => line.custom_id).sort(), ['a', 'c']);
  assert.equal(output[0].response.status_code, 200);
  assert.ok(output[0].response.body.usage.prompt_tokens > 0);
  const errors = (await (await client.files.content(done.error_file_id)).text()).trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(errors[0].custom_id, 'b');
  assert.equal(errors[0].response.status_code, 400);
  const listed = await client.batches.list({ limit: 10 });
  assert.ok(listed.data.some((batch) => batch.id === created.id && batch.metadata?.['job'] === 'j1'));
  const files = await client.files.list({ purpose: 'batch' });
  assert.ok(files.data.some((listedFile) => listedFile.id === file.id));
});

test('OpenAI batch: cancel gives partial results, emu-batch-fail fails validation once, 429 on create', async () => {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
  const upload = async (model: string) =>
    client.files.create({ file: await toFile(Buffer.from([chatLine('x', 'one', model), chatLine('y', 'two', model)].join('\n')), 'in.jsonl'), purpose: 'batch' });
  const cancelFile = await upload('gpt-4o-mini');
  const toCancel = await client.batches.create({ input_file_id: cancelFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  assert.equal((await client.batches.cancel(toCancel.id)).status, 'cancelling');
  emulator.clock.advance(1500);
  const cancelled = await client.batches.retrieve(toCancel.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(cancelled.error_file_id);

  const failFile = await upload('gpt-4o-mini-emu-batch-fail');
  const failing = await client.batches.create({ input_file_id: failFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  emulator.clock.advance(1500);
  const failed = await client.batches.retrieve(failing.id);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.errors?.data?.[0]?.code, 'emulator_failure');

  const limited = await upload('gpt-4o-mini-emu-429-then-ok');
  await assert.rejects(client.batches.create({ input_file_id: limited.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), (error: unknown) => error instanceof OpenAI.RateLimitError);
  const accepted = await client.batches.create({ input_file_id: limited.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  assert.equal(accepted.status, 'validating');
});

test('Anthropic message batches through the official SDK: processing_status, request_counts, streamed results', async () => {
  const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: emulator.url, maxRetries: 0 });
  const params = (text: string, model = 'claude-sonnet-4-5') => ({ model, max_tokens: 64, messages: [{ role: 'user' as const, content: text }] });
  const batch = await client.messages.batches.create({
    requests: [
      { custom_id: 'one', params: params('first question') },
      { custom_id: 'two', params: params('emu-line-error please') },
      { custom_id: 'three', params: params('third question') },
    ],
  });
  assert.equal(batch.processing_status, 'in_progress');
  assert.equal(batch.request_counts.processing, 3);
  emulator.clock.advance(3500);
  const ended = await client.messages.batches.retrieve(batch.id);
  assert.equal(ended.processing_status, 'ended');
  assert.deepEqual(ended.request_counts, { processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 });
  const results = [];
  for await (const result of await client.messages.batches.results(batch.id)) results.push(result);
  assert.equal(results.length, 3);
  const first = results.find((result) => result.custom_id === 'one');
  assert.equal(first?.result.type, 'succeeded');
  if (first?.result.type === 'succeeded') assert.equal(first.result.message.usage.service_tier, 'batch');
  assert.equal(results.find((result) => result.custom_id === 'two')?.result.type, 'errored');
  const page = await client.messages.batches.list({ limit: 5 });
  assert.ok(page.data.some((listed) => listed.id === batch.id));

  const expiring = await client.messages.batches.create({
    requests: [0, 1, 2, 3].map((index) => ({ custom_id: `e${index}`, params: params(`expire ${index}`, 'claude-sonnet-4-5-emu-batch-expire') })),
  });
  emulator.clock.advance(3500);
  const expired = await client.messages.batches.retrieve(expiring.id);
  assert.equal(expired.request_counts.expired, 2);
  assert.equal(expired.request_counts.succeeded, 2);
});

test('Bedrock model invocation jobs and the S3 store through the official AWS SDKs', async () => {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: emulator.url, forcePathStyle: true, credentials });
  const bedrock = new BedrockClient({ region: 'us-east-1', endpoint: emulator.url, credentials, maxAttempts: 1 });
  const record = (id: string, text: string) =>
    JSON.stringify({ recordId: id, modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: text }] } });
  await s3.send(new PutObjectCommand({ Bucket: 'batch-bucket', Key: 'in/job1/input.jsonl', Body: [record('R1', 'alpha'), record('R2', 'beta'), record('R3', 'emu-line-error')].join('\n') }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'batch-bucket', Prefix: 'in/' }));
  assert.deepEqual(listed.Contents?.map((object) => object.Key), ['in/job1/input.jsonl']);

  const request = {
    jobName: 'job-one',
    roleArn: 'arn:aws:iam::123456789012:role/BedrockBatch',
    clientRequestToken: 'token-one',
    modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
    inputDataConfig: { s3InputDataConfig: { s3Uri: 's3://batch-bucket/in/job1/input.jsonl', s3InputFormat: 'JSONL' as const } },
    outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://batch-bucket/out/' } },
  };
  const { jobArn } = await bedrock.send(new CreateModelInvocationJobCommand(request));
  assert.ok(jobArn?.startsWith('arn:aws:bedrock:'));
  // The same client token is an idempotent retry, not a second job.
  assert.equal((await bedrock.send(new CreateModelInvocationJobCommand(request))).jobArn, jobArn);
  assert.equal((await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))).status, 'Submitted');
  emulator.clock.advance(3500);
  const done = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
  assert.equal(done.status, 'Completed');
  assert.equal(done.successRecordCount, 2);
  assert.equal(done.errorRecordCount, 1);
  assert.ok(done.submitTime instanceof Date);
  const jobId = jobArn?.split('/').at(-1);
  const output = await s3.send(new GetObjectCommand({ Bucket: 'batch-bucket', Key: `out/${jobId}/input.jsonl.out` }));
  const lines = (await output.Body?.transformToString())?.trim().split('\n').map((line) => JSON.parse(line)) ?? [];
  assert.equal(lines.length, 3);
  assert.ok(lines.find((line) => line.recordId === 'R1')?.modelOutput.usage.input_tokens > 0);
  assert.equal(lines.find((line) => line.recordId === 'R3')?.error.errorCode, 500);
  const manifest = await s3.send(new GetObjectCommand({ Bucket: 'batch-bucket', Key: `out/${jobId}/manifest.json.out` }));
  assert.equal(JSON.parse((await manifest.Body?.transformToString()) ?? '{}').successRecordCount, 2);
  const jobs = await bedrock.send(new ListModelInvocationJobsCommand({ nameContains: 'job-one' }));
  assert.equal(jobs.invocationJobSummaries?.[0]?.jobArn, jobArn);

  const second = await bedrock.send(new CreateModelInvocationJobCommand({ ...request, jobName: 'job-two', clientRequestToken: 'token-two' }));
  await bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: second.jobArn }));
  assert.equal((await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: second.jobArn }))).status, 'Stopping');
  emulator.clock.advance(1500);
  assert.equal((await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: second.jobArn }))).status, 'Stopped');
  assert.equal(emulator.batchSubmissions.get('R1'), 2);
});
