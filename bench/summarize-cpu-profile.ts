import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalLine } from './source-locations.ts';
import { renderTable } from './statistics.ts';

/**
 * Reads a `node --cpu-prof` profile (such as the costgate process's from
 * `BENCH_CPU_PROFILE=<dir> npm run bench:overhead`) and prints where the busy time went:
 * self time by function and by kind of code, and inclusive time of the project's own functions,
 * which is where a fix would go, and each sample charged to the innermost src/ function on its
 * stack. Idle samples are left out of every percentage.
 *
 * Usage: node --import tsx bench/summarize-cpu-profile.ts <file.cpuprofile> [rows]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

function place(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(projectRoot) ? relative(projectRoot, path) : path;
}

function kind(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const path = place(url);
  if (path.startsWith('node:')) return 'node internals';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (dependency) return `dependency ${dependency[1]}`;
  if (path.startsWith('src/')) return 'costgate src/';
  return path;
}

const labels = new Map<number, string>();

function label(node: ProfileNode): string {
  let text = labels.get(node.id);
  if (text === undefined) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const path = place(url);
    // Project files ran transpiled by tsx; their source maps give back the .ts line.
    const line = path.startsWith('src/') || path.startsWith('bench/')
      ? originalLine(fileURLToPath(url), lineNumber, columnNumber, functionName)
      : undefined;
    text = url === '' ? name : `${path}:${line ?? `${lineNumber + 1}:${columnNumber + 1}`} ${name}`;
    labels.set(node.id, text);
  }
  return text;
}

const [file, rowsArgument] = process.argv.slice(2);
if (!file) throw new Error('usage: summarize-cpu-profile.ts <file.cpuprofile> [rows]');
const rowCount = Number(rowsArgument ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const kinds = new Map<string, number>();
const charged = new Map<string, number>();
const add = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);
let busyMicroseconds = 0;

// timeDeltas[i] is the time before sample i; charging it to sample i is how DevTools does it.
profile.samples.forEach((id, index) => {
  const node = byId.get(id);
  const delta = profile.timeDeltas[index] ?? 0;
  if (!node || node.callFrame.functionName === '(idle)') return;
  busyMicroseconds += delta;
  add(self, label(node), delta);
  add(kinds, kind(node), delta);
  const seen = new Set<string>();
  let innermost: string | undefined;
  for (let current: ProfileNode | undefined = node; current; current = byId.get(parentOf.get(current.id) ?? -1)) {
    const key = label(current);
    if (innermost === undefined && key.startsWith('src/')) innermost = key;
    // Recursion would count the same function twice in one sample.
    if (current.callFrame.url.includes('/src/') && !seen.has(key)) {
      seen.add(key);
      add(inclusive, key, delta);
    }
  }
  add(charged, innermost ?? '(no src/ frame on the stack)', delta);
});

const percent = (value: number) => `${((100 * value) / busyMicroseconds).toFixed(1)}%`;
const top = (map: Map<string, number>, filter: (key: string) => boolean = () => true) =>
  [...map.entries()]
    .filter(([key]) => filter(key))
    .sort((left, right) => right[1] - left[1])
    .slice(0, rowCount)
    .map(([key, value]) => [key, percent(value), (value / 1000).toFixed(0)]);

console.log(`${file}: ${(busyMicroseconds / 1e6).toFixed(1)} s busy on the main thread (idle left out)\n`);
console.log(renderTable(['kind of code (self time)', '% busy', 'ms'], top(kinds)));
console.log('');
console.log(renderTable(['function (self time)', '% busy', 'ms'], top(self)));
console.log('');
console.log(renderTable(['src/ function (inclusive time)', '% busy', 'ms'], top(inclusive, (key) => key.startsWith('src/'))));
console.log('');
// Every busy sample charged to the innermost project function on its stack: node, undici and
// DuckDB work lands on the src/ line that asked for it, and the rows add up to 100%.
console.log(renderTable(['innermost src/ function (time charged)', '% busy', 'ms'], top(charged)));
