import type { CallContext } from './context.ts';

export type Next = () => Promise<void>;

/** A named step around the rest of the pipeline; it may answer without calling `next`. */
export interface Stage {
  readonly name: string;
  run(context: CallContext, next: Next): Promise<void>;
}
