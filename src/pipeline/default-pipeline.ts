import type { Pricer } from '../pricing/pricer.ts';
import { createAttributionStage } from './attribution/attribution-stage.ts';
import { compose } from './compose.ts';
import type { CallContext } from './context.ts';
import { createForwardStage } from './forward/forward-stage.ts';
import type { UpstreamClient } from './forward/upstream-client.ts';
import { createRecordUsageStage, type UsageSink } from './record-usage/record-usage-stage.ts';
import type { Stage } from './stage.ts';

export interface PipelineDependencies {
  pricer: Pricer;
  usage: UsageSink;
  upstream: UpstreamClient;
}

export function defaultStages(dependencies: PipelineDependencies): Stage[] {
  return [
    createAttributionStage(),
    createRecordUsageStage(dependencies.pricer, dependencies.usage),
    createForwardStage(dependencies.upstream),
  ];
}

export function createDefaultPipeline(dependencies: PipelineDependencies): (context: CallContext) => Promise<void> {
  return compose(defaultStages(dependencies));
}
