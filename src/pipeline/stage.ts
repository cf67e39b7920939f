import type { CallContext } from './context.ts';

/**
 * Runs the rest of the pipeline. A stage that makes several upstream attempts for one call (a
 * cascade) passes a fresh child context per attempt; calling next twice with the same context is
 * an error, so no stage can send the same request upstream twice by mistake.
 */
export type Next = (attempt?: CallContext) => Promise<void>;

/** A named step around the rest of the pipeline; it may answer without calling `next`. */
export interface Stage {
  readonly name: string;
  run(context: CallContext, next: Next): Promise<void>;
}
