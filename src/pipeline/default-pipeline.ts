import type { Config } from '../config/config-schema.ts';
import type { Pricer } from '../pricing/pricer.ts';
import { createAttributionStage } from './attribution/attribution-stage.ts';
import { compose } from './compose.ts';
import type { CallContext } from './context.ts';
import { createForwardStage } from './forward/forward-stage.ts';
import type { UpstreamClient } from './forward/upstream-client.ts';
import { createRecordUsageStage, type UsageSink } from './record-usage/record-usage-stage.ts';
import type { Stage } from './stage.ts';

export interface PipelineDependencies {
  config: Config;
  pricer: Pricer;
  usage: UsageSink;
  upstream: UpstreamClient;
  /** Folder beside the ledger where stages persist what they learn (statistics, caches). */
  dataDir: string;
}

/**
 * The order matters: attribution first (every lever is per feature and tenant); record-usage
 * wraps all levers, so it sees what each did once the call has ended; levers that can answer
 * without an upstream call (the response cache) come before those that reshape the request
 * (routing, output policy, context trimming, prompt-cache breakpoints); forward is last.
 */
export function defaultStages(dependencies: PipelineDependencies): Stage[] {
  return [
    createAttributionStage(),
    createRecordUsageStage(dependencies.pricer, dependencies.usage),
    // response cache (exact, then semantic)
    // routing and cascades
    // output policy and context trimming
    // prompt-cache planner
    createForwardStage(dependencies.upstream),
  ];
}

export function createDefaultPipeline(dependencies: PipelineDependencies): (context: CallContext) => Promise<void> {
  return compose(defaultStages(dependencies));
}
