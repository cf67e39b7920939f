import type { CallContext } from './context.ts';
import type { Stage } from './stage.ts';

/** Onion composition: each stage wraps the ones after it. */
export function compose(stages: readonly Stage[]): (context: CallContext) => Promise<void> {
  const dispatch = (index: number, context: CallContext): Promise<void> => {
    const stage = stages[index];
    if (!stage) return Promise.resolve();
    // Usually one context per stage run; a stage making several attempts passes one child each.
    let used: CallContext | CallContext[] | undefined;
    return stage.run(context, (attempt = context) => {
      if (used === attempt || (Array.isArray(used) && used.includes(attempt))) {
        return Promise.reject(new Error('a pipeline stage called next() twice'));
      }
      used = used === undefined ? attempt : Array.isArray(used) ? [...used, attempt] : [used, attempt];
      return dispatch(index + 1, attempt);
    });
  };
  return (context) => dispatch(0, context);
}
