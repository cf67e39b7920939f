/**
 * Crash testing: every state change and provider call of the orchestrator passes a numbered step.
 * With COSTGATE_BATCH_FAILPOINT=K the process kills itself (SIGKILL, as kill -9 would) on step K,
 * so a test can stop a job at every point and check that `resume` loses and repeats nothing.
 * COSTGATE_BATCH_TRACE=1 prints each step to stderr. Both are inert unless set.
 */
let steps = 0;
const target = Number(process.env.COSTGATE_BATCH_FAILPOINT ?? 0);
const trace = process.env.COSTGATE_BATCH_TRACE === '1';

export function failpoint(name: string): void {
  steps += 1;
  if (trace) process.stderr.write(`batch step ${steps}: ${name}\n`);
  if (target > 0 && steps === target) process.kill(process.pid, 'SIGKILL');
}

export function stepsTaken(): number {
  return steps;
}
