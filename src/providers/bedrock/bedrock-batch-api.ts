import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  BedrockClient,
  CreateModelInvocationJobCommand,
  GetModelInvocationJobCommand,
  ListModelInvocationJobsCommand,
  StopModelInvocationJobCommand,
} from '@aws-sdk/client-bedrock';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type BatchApi, type BatchResult, type BatchStatus, readJsonLines, retryableStatus } from '../batch-api.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { convertAnthropicUsage } from '../anthropic/convert-anthropic-usage.ts';
import { convertBedrockConverseUsage } from './convert-bedrock-usage.ts';
import { createBedrockSigner, signRequest, type AwsCredentials } from './sign-request.ts';

/**
 * Bedrock batch inference: the chunk is put in S3 (`<prefix><token>/input.jsonl`, a deterministic
 * key, so a repeated upload overwrites itself), and a model invocation job is created with
 * `jobName` and `clientRequestToken` both set to the token, so a repeated create is the same job.
 */

export interface BedrockBatchApiOptions {
  region: string;
  credentials: AwsCredentials | undefined;
  bucket: string;
  /** Key prefix for inputs and outputs, e.g. "costgate-batch/". */
  prefix: string;
  /** Service role Bedrock assumes to read and write the bucket. */
  roleArn: string;
  /** Control-plane endpoint; default from the SDK (or AWS_ENDPOINT_URL_BEDROCK). */
  endpoint?: string | undefined;
  /** S3 endpoint; default from the SDK (or AWS_ENDPOINT_URL_S3). Path-style addressing when set. */
  s3Endpoint?: string | undefined;
  timeoutHours?: number | undefined;
  /** Runtime endpoint and its region for on-demand calls (InvokeModel), as the gateway's adapter uses them. */
  runtimeEndpoint?: string | undefined;
  runtimeRegion?: string | undefined;
}

const OUTCOMES: Record<string, BatchStatus['outcome']> = {
  Completed: 'completed',
  PartiallyCompleted: 'expired',
  Failed: 'failed',
  Stopped: 'cancelled',
  Expired: 'expired',
};

function errorStatus(error: unknown): number {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return metadata?.httpStatusCode ?? 0;
}

export function createBedrockBatchApi(options: BedrockBatchApiOptions): BatchApi {
  const common = { region: options.region, ...(options.credentials ? { credentials: options.credentials } : {}) };
  const bedrock = new BedrockClient({ ...common, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const s3 = new S3Client({ ...common, ...(options.s3Endpoint ? { endpoint: options.s3Endpoint, forcePathStyle: true } : {}) });
  const prefix = options.prefix === '' || options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
  const modelOf = new Map<string, string>();
  const runtimeRegion = options.runtimeRegion ?? options.region;
  const runtime = options.runtimeEndpoint ?? `https://bedrock-runtime.${runtimeRegion}.amazonaws.com`;
  // Signed as the gateway signs its Bedrock calls (without credentials, sent unsigned as it does).
  const signer = options.credentials ? createBedrockSigner(runtimeRegion, options.credentials) : undefined;

  function result(line: Record<string, unknown>, converse: boolean): BatchResult {
    const customId = String(line['recordId'] ?? '');
    const output = objectField(line['modelOutput']);
    const { modelInput: _dropped, ...kept } = line;
    if (output) {
      return {
        customId,
        ok: true,
        status: 200,
        usage: converse ? convertBedrockConverseUsage(output['usage']) : convertAnthropicUsage(output['usage']),
        servedModel: undefined,
        stopReason: stringField(output['stop_reason']) ?? stringField(output['stopReason']),
        errorType: undefined,
        errorMessage: undefined,
        retryable: false,
        line: kept,
      };
    }
    const error = objectField(line['error']);
    const code = Number(error?.['errorCode'] ?? 500);
    const status = Number.isFinite(code) ? code : 500;
    return {
      customId,
      ok: false,
      status,
      usage: undefined,
      servedModel: undefined,
      stopReason: undefined,
      errorType: String(error?.['errorCode'] ?? 'error'),
      errorMessage: stringField(error?.['errorMessage']),
      retryable: retryableStatus(status),
      line: kept,
    };
  }

  return {
    provider: 'bedrock',
    idField: 'recordId',
    wrapperBytes: 0,
    inputLine: (customId, _endpoint, bodyJson) => `{"recordId":${JSON.stringify(customId)},"modelInput":${bodyJson}}`,

    async upload(token, file) {
      const key = `${prefix}${token}/input.jsonl`;
      await s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: createReadStream(file.path), ContentLength: file.bytes, ContentType: 'application/jsonl' }));
      return `s3://${options.bucket}/${key}`;
    },

    // The key is deterministic and a put overwrites it, so uploading again is as good as finding it.
    findUpload: async () => undefined,

    async create(token, fileRef, file) {
      try {
        const created = await bedrock.send(
          new CreateModelInvocationJobCommand({
            jobName: token,
            clientRequestToken: token,
            roleArn: options.roleArn,
            modelId: file.model,
            inputDataConfig: { s3InputDataConfig: { s3Uri: fileRef, s3InputFormat: 'JSONL' } },
            outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${options.bucket}/${prefix}${token}/output/` } },
            timeoutDurationInHours: options.timeoutHours ?? 24,
            ...(file.endpoint === 'converse' ? { modelInvocationType: 'Converse' as const } : {}),
          }),
        );
        return { batchId: String(created.jobArn) };
      } catch (error) {
        const status = errorStatus(error);
        const message = `${(error as Error).name}: ${(error as Error).message}`;
        return retryableStatus(status) ? { retryAfterMs: 5000, message } : { rejected: message };
      }
    },

    async findCreated(token) {
      const listed = await bedrock.send(new ListModelInvocationJobsCommand({ nameContains: token, maxResults: 100 }));
      const job = listed.invocationJobSummaries?.find((summary) => summary.jobName === token);
      return job?.jobArn ? { batchId: job.jobArn } : undefined;
    },

    async status(batchId) {
      const job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: batchId }));
      const status = String(job.status);
      const outcome = OUTCOMES[status];
      modelOf.set(batchId, `${job.modelInvocationType ?? 'InvokeModel'}`);
      const output = job.outputDataConfig?.s3OutputDataConfig?.s3Uri ?? '';
      const jobId = batchId.split('/').at(-1) ?? '';
      return {
        ended: outcome !== undefined,
        ...(outcome ? { outcome } : {}),
        status,
        counts: { total: job.totalRecordCount ?? 0, succeeded: job.successRecordCount ?? 0, failed: job.errorRecordCount ?? 0 },
        ...(job.message ? { message: job.message } : {}),
        resultRefs: [`${output.endsWith('/') ? output : `${output}/`}${jobId}/`],
      };
    },

    async *results(batchId, status) {
      const converse = modelOf.get(batchId) === 'Converse';
      for (const ref of status.resultRefs ?? []) {
        const location = /^s3:\/\/([^/]+)\/(.*)$/.exec(ref);
        if (!location?.[1]) continue;
        const [, bucket, keyPrefix = ''] = location;
        let token: string | undefined;
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ...(token ? { ContinuationToken: token } : {}) }));
          for (const object of page.Contents ?? []) {
            if (!object.Key?.endsWith('.jsonl.out')) continue;
            const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))).Body as Readable | undefined;
            if (!body) continue;
            for await (const line of readJsonLines(body)) yield result(line, converse);
          }
          token = page.NextContinuationToken;
        } while (token);
      }
    },

    async cancel(batchId) {
      await bedrock.send(new StopModelInvocationJobCommand({ jobIdentifier: batchId })).catch((error: unknown) => {
        if (errorStatus(error) !== 400) throw error;
      });
    },

    errorLine: (customId, errorType, message) => ({ recordId: customId, error: { errorCode: errorType, errorMessage: message } }),

    // The answer becomes the record a batch job would have written for the line, so collection,
    // pricing and the merged output treat both alike.
    async invoke(customId, model, endpoint, bodyJson) {
      const converse = endpoint === 'converse';
      const url = new URL(`${runtime}/model/${encodeURIComponent(model)}/${converse ? 'converse' : 'invoke'}`);
      const body = Buffer.from(bodyJson);
      let headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (signer) headers = await signRequest(signer, url, 'POST', headers, body);
      const response = await fetch(url, { method: 'POST', headers, body });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const output = objectField(parsed);
      if (response.ok && output) return result({ recordId: customId, modelOutput: output }, converse);
      const message = stringField(output?.['message']) ?? stringField(output?.['Message']) ?? text.slice(0, 500);
      return result({ recordId: customId, error: { errorCode: response.status, errorMessage: message } }, converse);
    },
  };
}
