import type { ProviderId } from '../../src/core/provider-id.ts';
import { createBatchHarness } from './batch-harness.ts';

/**
 * Runs (or resumes) one batch job in its own process, for the kill test: the parent sets
 * COSTGATE_BATCH_FAILPOINT=K and this process SIGKILLs itself at step K.
 * Arguments: provider emulator-url directory input model [min-records concurrency]
 */
const [provider, url, directory, input, model, minRecords, concurrency] = process.argv.slice(2);
if (!provider || !url || !directory || !input) throw new Error('usage: provider url directory input [model [min-records concurrency]]');
const harness = createBatchHarness(url, minRecords ? Number(minRecords) : 2, directory, concurrency ? Number(concurrency) : undefined);
const job = await harness.run(provider as ProviderId, input, model ? { model } : {});
process.stdout.write(`${job.jobId} ${job.state}\n`);
