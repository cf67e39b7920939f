import type { CallContext } from './context.ts';
import type { Stage } from './stage.ts';

/** Onion composition: each stage wraps the ones after it. */
export function compose(stages: readonly Stage[]): (context: CallContext) => Promise<void> {
  return function run(context: CallContext): Promise<void> {
    let last = -1;
    const dispatch = (index: number): Promise<void> => {
      if (index <= last) return Promise.reject(new Error('a pipeline stage called next() twice'));
      last = index;
      const stage = stages[index];
      if (!stage) return Promise.resolve();
      return stage.run(context, () => dispatch(index + 1));
    };
    return dispatch(0);
  };
}
