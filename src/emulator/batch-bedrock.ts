import { type BatchEmulator, type BatchScenario, hash, isoTime, jsonLines, phaseAt, readBatchScenario } from './batch-core.ts';
import { EmulatorError, headerText, isRecord, type RequestContext } from './context.ts';
import { sendJson } from './http-io.ts';
import { type ObjectStore, parseS3Uri } from './s3.ts';
import { SCENARIO_HEADER } from './scenarios.ts';

/**
 * Bedrock batch inference (the control-plane API of @aws-sdk/client-bedrock):
 * POST /model-invocation-job, GET /model-invocation-job/{id}, GET /model-invocation-jobs,
 * POST /model-invocation-job/{id}/stop. Input records are read from the emulator's S3 store and
 * answered by the InvokeModel (or Converse) handlers; output goes to
 * `<output uri>/<job id>/<input file name>.out` plus `manifest.json.out`, as on AWS.
 * `clientRequestToken` makes creation idempotent: the same token returns the same job.
 */

const MAX_RECORDS = 50_000;
const ACCOUNT = '123456789012';

type JobStatus = 'Submitted' | 'Validating' | 'Scheduled' | 'InProgress' | 'Completed' | 'PartiallyCompleted' | 'Failed' | 'Stopping' | 'Stopped' | 'Expired';

interface Job {
  jobArn: string;
  jobId: string;
  request: Record<string, unknown>;
  modelId: string;
  clientRequestToken: string | undefined;
  submitTime: number;
  scenario: BatchScenario;
  final?: JobStatus;
  message?: string;
  endTime?: number;
  stopAt?: number;
  counts: { total: number; processed: number; success: number; error: number };
  processing?: Promise<void>;
}

const registry = new WeakMap<BatchEmulator, Map<string, Job>>();

function jobsOf(emulator: BatchEmulator): Map<string, Job> {
  let found = registry.get(emulator);
  if (!found) {
    found = new Map();
    registry.set(emulator, found);
  }
  return found;
}

function s3Config(request: Record<string, unknown>, side: 'input' | 'output'): Record<string, unknown> | undefined {
  const config = request[side === 'input' ? 'inputDataConfig' : 'outputDataConfig'];
  const inner = isRecord(config) ? config[side === 'input' ? 's3InputDataConfig' : 's3OutputDataConfig'] : undefined;
  return isRecord(inner) ? inner : undefined;
}

/** The input objects: the one object named, or every .jsonl under a folder URI. */
function inputObjects(store: ObjectStore, uri: string) {
  const location = parseS3Uri(uri);
  if (!location) return [];
  if (location.key === '' || location.key.endsWith('/')) return store.list(location.bucket, location.key).filter((object) => object.key.endsWith('.jsonl'));
  const object = store.get(location.bucket, location.key);
  return object ? [object] : [];
}

async function process(emulator: BatchEmulator, store: ObjectStore, job: Job, limitFraction: number): Promise<void> {
  const inputUri = String(s3Config(job.request, 'input')?.['s3Uri'] ?? '');
  const output = parseS3Uri(String(s3Config(job.request, 'output')?.['s3Uri'] ?? ''));
  if (!output) throw new Error('output uri was validated on create');
  const outputPrefix = output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`;
  const kind = job.request['modelInvocationType'] === 'Converse' ? 'converse' : 'invoke';
  const counts = { total: job.counts.total, processed: 0, success: 0, error: 0 };
  let inputTokens = 0;
  let outputTokens = 0;
  const limit = Math.floor(job.counts.total * limitFraction);
  let index = 0;
  for (const object of inputObjects(store, inputUri)) {
    const lines: string[] = [];
    for (const text of jsonLines(store.read(object))) {
      const record = JSON.parse(text) as { recordId?: string; modelInput: Record<string, unknown> };
      const position = index++;
      const recordId = record.recordId ?? `RECORD${String(position).padStart(7, '0')}`;
      if (position >= limit) continue;
      if (job.scenario.expire && position % 2 === 1 && emulator.failOnce(`expire\u0000${hash(text)}`)) continue;
      counts.processed += 1;
      const answer = await emulator.answer(kind, record.modelInput, job.modelId);
      if (answer.status === 200) {
        counts.success += 1;
        const usage = isRecord(answer.body['usage']) ? answer.body['usage'] : {};
        inputTokens += Number(usage['input_tokens'] ?? usage['inputTokens'] ?? 0);
        outputTokens += Number(usage['output_tokens'] ?? usage['outputTokens'] ?? 0);
        lines.push(JSON.stringify({ recordId, modelInput: record.modelInput, modelOutput: answer.body }));
      } else {
        counts.error += 1;
        lines.push(JSON.stringify({ recordId, modelInput: record.modelInput, error: { errorCode: answer.status, errorMessage: String(answer.body['message'] ?? 'error') } }));
      }
    }
    const name = object.key.split('/').at(-1) ?? 'input.jsonl';
    store.put(output.bucket, `${outputPrefix}${job.jobId}/${name}.out`, Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : ''), emulator.clock.now());
  }
  const manifest = {
    totalRecordCount: counts.total,
    processedRecordCount: counts.processed,
    successRecordCount: counts.success,
    errorRecordCount: counts.error,
    inputTokenCount: inputTokens,
    outputTokenCount: outputTokens,
  };
  store.put(output.bucket, `${outputPrefix}${job.jobId}/manifest.json.out`, Buffer.from(JSON.stringify(manifest)), emulator.clock.now());
  job.counts = counts;
}

function validate(emulator: BatchEmulator, store: ObjectStore, job: Job): string | undefined {
  const objects = inputObjects(store, String(s3Config(job.request, 'input')?.['s3Uri'] ?? ''));
  if (objects.length === 0) return 'The input S3 location has no .jsonl file.';
  let records = 0;
  let content = '';
  for (const object of objects) {
    const text = store.read(object).toString('utf8');
    content += text;
    records += jsonLines(Buffer.from(text)).length;
  }
  job.counts.total = records;
  const minimum = emulator.options.bedrockMinRecords;
  if (records < minimum) return `The number of records (${records}) is less than the minimum number of records per batch inference job (${minimum}).`;
  if (records > MAX_RECORDS) return `The number of records (${records}) exceeds the maximum per batch inference job (${MAX_RECORDS}).`;
  if (job.scenario.fail && emulator.failOnce(`bedrock-fail\u0000${hash(content)}`)) return 'The job failed (emulator scenario emu-batch-fail).';
  return undefined;
}

async function refresh(emulator: BatchEmulator, store: ObjectStore, job: Job): Promise<void> {
  while (job.processing) await job.processing;
  if (job.final !== undefined) return;
  const now = emulator.clock.now();
  const timing = emulator.options.timing;
  const { phase } = phaseAt(job.submitTime, now, timing);
  const timeoutMs = Number(job.request['timeoutDurationInHours'] ?? 24) * 3_600_000;
  const run = async (): Promise<void> => {
    if (phase === 'validating') return;
    const problem = validate(emulator, store, job);
    if (problem !== undefined) {
      job.final = 'Failed';
      job.message = problem;
    } else if (job.stopAt !== undefined) {
      if (now - job.stopAt < timing.finalizingMs) return;
      await process(emulator, store, job, phaseAt(job.submitTime, job.stopAt, timing).progress);
      job.final = 'Stopped';
    } else if (now - job.submitTime >= timeoutMs) {
      await process(emulator, store, job, 0.5);
      job.final = 'PartiallyCompleted';
      job.message = 'The job timed out before every record was processed.';
    } else if (phase === 'ended') {
      await process(emulator, store, job, 1);
      job.final = job.counts.processed < job.counts.total ? 'PartiallyCompleted' : 'Completed';
    } else {
      return;
    }
    job.endTime = now;
  };
  job.processing = run().finally(() => {
    delete job.processing;
  });
  await job.processing;
}

function status(emulator: BatchEmulator, job: Job): JobStatus {
  if (job.final !== undefined) return job.final;
  if (job.stopAt !== undefined) return 'Stopping';
  const elapsed = emulator.clock.now() - job.submitTime;
  const timing = emulator.options.timing;
  if (elapsed < timing.validatingMs / 2) return 'Submitted';
  if (elapsed < timing.validatingMs) return 'Validating';
  return 'InProgress';
}

function jobObject(emulator: BatchEmulator, job: Job) {
  const { request } = job;
  return {
    jobArn: job.jobArn,
    jobName: request['jobName'],
    modelId: job.modelId,
    clientRequestToken: job.clientRequestToken,
    roleArn: request['roleArn'],
    status: status(emulator, job),
    ...(job.message === undefined ? {} : { message: job.message }),
    submitTime: isoTime(job.submitTime),
    lastModifiedTime: isoTime(job.endTime ?? job.submitTime),
    ...(job.endTime === undefined ? {} : { endTime: isoTime(job.endTime) }),
    inputDataConfig: request['inputDataConfig'],
    outputDataConfig: request['outputDataConfig'],
    timeoutDurationInHours: request['timeoutDurationInHours'] ?? 24,
    jobExpirationTime: isoTime(job.submitTime + Number(request['timeoutDurationInHours'] ?? 24) * 3_600_000),
    modelInvocationType: request['modelInvocationType'] ?? 'InvokeModel',
    totalRecordCount: job.counts.total,
    processedRecordCount: job.counts.processed,
    successRecordCount: job.counts.success,
    errorRecordCount: job.counts.error,
  };
}

export async function handleCreateJob(context: RequestContext, emulator: BatchEmulator, store: ObjectStore): Promise<void> {
  const request = context.body;
  for (const name of ['jobName', 'roleArn', 'modelId'] as const) {
    if (typeof request[name] !== 'string' || request[name] === '') throw new EmulatorError('invalid_request', `${name} is required`);
  }
  const input = s3Config(request, 'input');
  const output = s3Config(request, 'output');
  if (!input || !parseS3Uri(String(input['s3Uri'] ?? ''))) throw new EmulatorError('invalid_request', 'inputDataConfig.s3InputDataConfig.s3Uri must be an s3:// URI');
  if (!output || !parseS3Uri(String(output['s3Uri'] ?? ''))) throw new EmulatorError('invalid_request', 'outputDataConfig.s3OutputDataConfig.s3Uri must be an s3:// URI');
  const hours = request['timeoutDurationInHours'];
  if (hours !== undefined && (typeof hours !== 'number' || hours < 24 || hours > 168)) {
    throw new EmulatorError('invalid_request', 'timeoutDurationInHours must be between 24 and 168');
  }
  const token = typeof request['clientRequestToken'] === 'string' ? request['clientRequestToken'] : undefined;
  const jobs = jobsOf(emulator);
  const existing = [...jobs.values()].find((job) => (token !== undefined && job.clientRequestToken === token) || job.request['jobName'] === request['jobName']);
  if (existing) {
    // Idempotent retry of the same creation; a different request under a taken name is a conflict.
    if (token !== undefined && existing.clientRequestToken === token) return sendJson(context, 200, { jobArn: existing.jobArn });
    throw new EmulatorError('invalid_request', `A job named ${String(request['jobName'])} already exists.`);
  }
  const modelId = String(request['modelId']);
  const scenario = readBatchScenario([modelId, headerText(context.request, SCENARIO_HEADER)]);
  emulator.checkCreate(scenario, `bedrock\u0000${String(request['jobName'])}`);
  const jobId = emulator.nextId('').slice(-12).toLowerCase();
  const job: Job = {
    jobArn: `arn:aws:bedrock:us-east-1:${ACCOUNT}:model-invocation-job/${jobId}`,
    jobId,
    request,
    modelId,
    clientRequestToken: token,
    submitTime: emulator.clock.now(),
    scenario,
    counts: { total: 0, processed: 0, success: 0, error: 0 },
  };
  const records = inputObjects(store, String(input['s3Uri'])).flatMap((object) => jsonLines(store.read(object)));
  emulator.noteSubmitted(records.map((text, index) => String((JSON.parse(text) as { recordId?: unknown }).recordId ?? index)));
  jobs.set(jobId, job);
  await sendJson(context, 200, { jobArn: job.jobArn });
}

async function found(emulator: BatchEmulator, store: ObjectStore, identifier: string): Promise<Job> {
  const jobId = decodeURIComponent(identifier).split('/').at(-1) ?? '';
  const job = jobsOf(emulator).get(jobId);
  if (!job) throw new EmulatorError('not_found', `Could not find job ${identifier}`);
  await refresh(emulator, store, job);
  return job;
}

export async function handleGetJob(context: RequestContext, emulator: BatchEmulator, store: ObjectStore, identifier: string): Promise<void> {
  await sendJson(context, 200, jobObject(emulator, await found(emulator, store, identifier)));
}

export async function handleStopJob(context: RequestContext, emulator: BatchEmulator, store: ObjectStore, identifier: string): Promise<void> {
  const job = await found(emulator, store, identifier);
  if (job.final !== undefined) throw new EmulatorError('invalid_request', `The job has already ended (${job.final}).`);
  job.stopAt ??= emulator.clock.now();
  await sendJson(context, 200, {});
}

export async function handleListJobs(context: RequestContext, emulator: BatchEmulator, store: ObjectStore, search: URLSearchParams): Promise<void> {
  const maxResults = Math.min(Number(search.get('maxResults') ?? 100) || 100, 1000);
  const nameContains = search.get('nameContains');
  const statusEquals = search.get('statusEquals');
  const start = Number(search.get('nextToken') ?? 0) || 0;
  const all = [...jobsOf(emulator).values()].reverse();
  for (const job of all) await refresh(emulator, store, job);
  const matching = all
    .filter((job) => nameContains === null || String(job.request['jobName']).includes(nameContains))
    .filter((job) => statusEquals === null || status(emulator, job) === statusEquals);
  const page = matching.slice(start, start + maxResults).map((job) => jobObject(emulator, job));
  await sendJson(context, 200, { invocationJobSummaries: page, ...(start + maxResults < matching.length ? { nextToken: String(start + maxResults) } : {}) });
}
