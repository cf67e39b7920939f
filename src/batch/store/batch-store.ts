import type { ProviderId } from '../../core/provider-id.ts';

/**
 * The durable state of batch jobs: jobs, their lines and the provider batches ("chunks") the lines
 * were sent in. Every change the orchestrator makes is one call here, committed before the call
 * returns, so a process killed at any point leaves a state `resume` can continue from.
 * The DuckDB implementation is duckdb-batch-store.ts; another backend implements this interface.
 */

export type JobState = 'ingesting' | 'running' | 'merging' | 'done' | 'cancelled' | 'failed';

export interface ChunkLimits {
  maxRequests: number;
  maxBytes: number;
  /** Bedrock refuses jobs with fewer records than its quota (100 by default). */
  minRequests: number;
}

export interface JobOptions {
  maxRetries: number;
  /** Provider batches in flight (created and not ended) at once. */
  concurrency: number;
  /** Estimated input tokens in flight per model: the provider's enqueued-token (batch queue) limit. */
  maxEnqueuedTokens: number;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  limits: ChunkLimits;
  /**
   * A model group under `limits.minRequests` (Bedrock): sent one request at a time at the on-demand
   * price, or failed. Absent in jobs created before the choice existed: on-demand.
   */
  belowMinimum?: BelowMinimum;
}

export type BelowMinimum = 'on-demand' | 'fail';

export interface JobDefaults {
  feature?: string;
  customer?: string;
  user?: string;
  tags?: Record<string, string>;
}

export interface JobRecord {
  jobId: string;
  createdAt: number;
  provider: ProviderId;
  model: string | undefined;
  inputPath: string;
  outputPath: string | undefined;
  workDir: string;
  state: JobState;
  options: JobOptions;
  defaults: JobDefaults;
  cancelRequested: boolean;
  runnerPid: number | undefined;
  error: string | undefined;
  totalLines: number;
  invalidLines: number;
  duplicateLines: number;
}

export type ChunkState = 'planned' | 'uploading' | 'uploaded' | 'creating' | 'submitted' | 'ended' | 'collected';

export interface ChunkRecord {
  jobId: string;
  chunkId: number;
  model: string;
  endpoint: string;
  lines: number;
  bytes: number;
  estTokens: number;
  state: ChunkState;
  /** Names this chunk attempt at the provider (file name, metadata, job name, custom id prefix). */
  token: string;
  fileRef: string | undefined;
  batchId: string | undefined;
  /** When the last provider call was about to be made (epoch ms): the window findCreated searches. */
  intentAt: number | undefined;
  submittedAt: number | undefined;
  endedAt: number | undefined;
  outcome: string | undefined;
  message: string | undefined;
  providerStatus: string | undefined;
  /** Earliest time of the next provider call for this chunk (poll, or create after a 429). */
  nextAttemptAt: number;
  pollIntervalMs: number;
  succeeded: number;
  failed: number;
  /** The last line of this chunk (by line number) whose ledger row is written; -1 once all are. */
  recordedThrough: number;
  /** A group too small for a provider batch: its lines are sent one by one, on demand (on-demand.ts). */
  onDemand: boolean;
}

export type ChunkPatch = Partial<Omit<ChunkRecord, 'jobId' | 'chunkId' | 'model' | 'endpoint' | 'lines' | 'bytes' | 'estTokens' | 'token' | 'recordedThrough' | 'onDemand'>>;

/** One input line as ingested. */
export interface IngestedLine {
  lineNo: number;
  customId: string;
  model: string;
  endpoint: string;
  requestHash: string;
  requestOffset: number;
  requestLength: number;
  estTokens: number;
  feature: string | undefined;
  customer: string | undefined;
  user: string | undefined;
  tagsJson: string;
  state: 'pending' | 'invalid';
  errorMessage: string | undefined;
}

export type LineState = 'pending' | 'queued' | 'succeeded' | 'failed' | 'invalid' | 'duplicate' | 'cancelled';

/** What one collected result did to its line. */
export interface LineOutcome {
  lineNo: number;
  /** succeeded, failed (final) or pending (to be retried in a new batch). */
  state: 'succeeded' | 'failed' | 'pending';
  outFile: string;
  outOffset: number;
  outLength: number;
  status: number;
  errorType: string | undefined;
  errorMessage: string | undefined;
  servedModel: string | undefined;
  usageJson: string | undefined;
  stopReason: string | undefined;
  cost: bigint | undefined;
  baseline: bigint | undefined;
  priceVersion: string | undefined;
  cacheWritePremium: bigint | undefined;
  cacheReadSaving: bigint | undefined;
  latencyMs: number;
  timeMs: number;
}

/** A line of a chunk as collection needs it. */
export interface ChunkLine {
  lineNo: number;
  customId: string;
  attempts: number;
  requestOffset: number;
  requestLength: number;
}

/** A finished line not yet in the ledger. */
export interface UnrecordedLine {
  lineNo: number;
  customId: string;
  model: string;
  endpoint: string;
  state: 'succeeded' | 'failed';
  duplicateOf: number | undefined;
  feature: string | undefined;
  customer: string | undefined;
  user: string | undefined;
  tagsJson: string;
  status: number;
  errorType: string | undefined;
  servedModel: string | undefined;
  usageJson: string | undefined;
  stopReason: string | undefined;
  cost: bigint | undefined;
  baseline: bigint | undefined;
  priceVersion: string | undefined;
  cacheWritePremium: bigint | undefined;
  cacheReadSaving: bigint | undefined;
  batchId: string | undefined;
  latencyMs: number;
  timeMs: number;
}

/** A line in input order, for the merged output. */
export interface MergeLine {
  lineNo: number;
  customId: string;
  state: LineState;
  duplicateOf: number | undefined;
  outFile: string | undefined;
  outOffset: number;
  outLength: number;
  errorType: string | undefined;
  errorMessage: string | undefined;
}

export interface JobSummary {
  lines: Record<LineState, number>;
  /** Batch cost of the lines done so far (priced lines only). */
  cost: bigint;
  /** The same lines at the on-demand price. */
  baseline: bigint;
  unpriced: number;
  chunks: number;
  chunksActive: number;
}

export interface PlanOptions {
  limits: ChunkLimits;
  /** Bytes a chunk adds around its lines (Anthropic's JSON wrapper). */
  wrapperBytes: number;
  /** Cap on one chunk's estimated tokens, so it fits under the enqueued-token limit. */
  maxTokens: number;
  /** The provider line adds the custom id and envelope around each body: bytes per line. */
  lineOverhead: number;
  maxRetries: number;
  token: (chunkId: number) => string;
  /** What becomes of a group under `limits.minRequests`: an on-demand chunk, or failed lines (the default). */
  belowMinimum?: BelowMinimum;
}

export interface BatchStore {
  createJob(job: JobRecord): Promise<void>;
  getJob(jobId: string): Promise<JobRecord | undefined>;
  listJobs(limit: number): Promise<JobRecord[]>;
  updateJob(jobId: string, patch: Partial<Pick<JobRecord, 'state' | 'error' | 'cancelRequested' | 'runnerPid' | 'outputPath'>>): Promise<void>;
  /** Forgets a job's lines and chunks (an ingest that did not finish starts over). */
  resetLines(jobId: string): Promise<void>;
  appendLines(jobId: string, lines: readonly IngestedLine[]): Promise<void>;
  /** Marks repeated custom ids invalid and identical requests as duplicates; the job starts running. */
  finishIngest(jobId: string): Promise<void>;
  /** Groups pending lines into new chunks; returns how many were made. */
  planChunks(jobId: string, options: PlanOptions): Promise<number>;
  chunks(jobId: string): Promise<ChunkRecord[]>;
  updateChunk(jobId: string, chunkId: number, patch: ChunkPatch): Promise<void>;
  chunkLines(jobId: string, chunkId: number): Promise<ChunkLine[]>;
  /**
   * Collecting a chunk: `beginResults` forgets what an interrupted earlier collection of it stored,
   * `appendResults` stores outcomes (each call committed on its own, so callers pass bounded slices),
   * and `finishResults` gives the chunk's lines without a result `missing` (retried or failed by
   * their attempts) and marks the chunk collected, in one transaction.
   */
  beginResults(jobId: string, chunkId: number): Promise<void>;
  appendResults(jobId: string, chunkId: number, outcomes: readonly LineOutcome[]): Promise<void>;
  finishResults(jobId: string, chunkId: number, missing: { errorType: string; errorMessage: string; maxRetries: number; timeMs: number }): Promise<void>;
  /** Lines not done yet become cancelled (a cancelled job). */
  cancelRemaining(jobId: string): Promise<void>;
  /**
   * Final lines of a collected chunk, with the duplicates that take their answers, after `afterLine`
   * in line order: the ledger rows still to write. `markRecorded` moves the chunk's watermark.
   */
  unrecorded(jobId: string, chunkId: number, afterLine: number, limit: number): Promise<UnrecordedLine[]>;
  markRecorded(jobId: string, chunkId: number, throughLine: number): Promise<void>;
  /**
   * On-demand chunks: `markSending` commits that a line is about to be sent (before the call), and
   * `sendingProgress` tells which of a chunk's lines were marked and which have a result.
   */
  markSending(jobId: string, chunkId: number, lineNo: number): Promise<void>;
  sendingProgress(jobId: string, chunkId: number): Promise<{ marked: Set<number>; answered: Set<number> }>;
  summary(jobId: string): Promise<JobSummary>;
  /** Every line in input order, in pages. */
  mergeLines(jobId: string, onPage: (lines: MergeLine[]) => Promise<void>): Promise<void>;
  /** Failed lines with their errors, in input order. */
  failedLines(jobId: string, limit: number): Promise<MergeLine[]>;
  /** Lets other processes at the store until the next operation (a held store closes its file). */
  release(): Promise<void>;
  close(): Promise<void>;
}
