import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs a TypeScript file from this folder in a separate node process, the way the gateway runs. */
export function spawnTypeScript(script: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: projectRoot, stdio: 'pipe' });
}

/**
 * Calls onLine for each stdout line as it arrives, and resolves with every line once the
 * child has exited (by any means, SIGKILL included).
 */
export function collectLines(child: ChildProcessWithoutNullStreams, onLine: (line: string) => void = () => {}): Promise<string[]> {
  const lines: string[] = [];
  let partial = '';
  let errors = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      onLine(line);
    }
  });
  child.stderr.on('data', (chunk: string) => {
    errors += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`child exited with ${code}: ${errors}`));
      else resolve(lines);
    });
  });
}

/** Resolves when the child prints `expected` on a line of its own. */
export function waitForLine(child: ChildProcessWithoutNullStreams, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer | string): void => {
      seen += chunk.toString();
      if (seen.split('\n').includes(expected)) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', () => reject(new Error(`child exited before printing "${expected}"`)));
  });
}
