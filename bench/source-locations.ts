import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Maps a position in code that tsx transpiled back to the line in the .ts file, so a CPU profile
 * can name `src/server/read-call.ts:31` instead of "line 1, column 900" of minified output. tsx keeps
 * each transpiled file with its source map in a cache folder; this reads those maps. Best effort:
 * when no map is found the caller shows the transpiled position.
 */

interface Mapped {
  /** Per generated line: [generated column, original line] pairs, columns ascending. */
  lines: Array<Array<[number, number]>>;
  code: string;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const character of segment) {
    const digit = BASE64.indexOf(character);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function decodeMappings(mappings: string): Array<Array<[number, number]>> {
  let originalLine = 0;
  return mappings.split(';').map((line) => {
    let column = 0;
    const pairs: Array<[number, number]> = [];
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const [columnDelta = 0, , lineDelta] = decodeVlq(segment);
      column += columnDelta;
      if (lineDelta === undefined) continue;
      originalLine += lineDelta;
      pairs.push([column, originalLine]);
    }
    return pairs;
  });
}

let cache: Map<string, Array<{ modified: number; file: string }>> | undefined;

/** Source path -> tsx cache entries for it, newest first. */
function cacheIndex(): Map<string, Array<{ modified: number; file: string }>> {
  if (cache) return cache;
  cache = new Map();
  const folder = join(tmpdir(), `tsx-${userInfo().uid}`);
  let names: string[] = [];
  try {
    names = readdirSync(folder);
  } catch {
    return cache;
  }
  for (const name of names) {
    const file = join(folder, name);
    try {
      const text = readFileSync(file, 'utf8');
      const source = /"sources":\["([^"]+)"\]/.exec(text)?.[1];
      if (!source) continue;
      const entries = cache.get(source) ?? [];
      entries.push({ modified: statSync(file).mtimeMs, file });
      cache.set(source, entries);
    } catch {
      // Not a cache entry this reader understands.
    }
  }
  for (const entries of cache.values()) entries.sort((left, right) => right.modified - left.modified);
  return cache;
}

const parsed = new Map<string, Mapped | undefined>();

function load(file: string): Mapped | undefined {
  if (!parsed.has(file)) {
    try {
      const entry = JSON.parse(readFileSync(file, 'utf8')) as { code: string; map: { mappings: string } };
      parsed.set(file, { code: entry.code, lines: decodeMappings(entry.map.mappings) });
    } catch {
      parsed.set(file, undefined);
    }
  }
  return parsed.get(file);
}

/**
 * The 1-based line in `sourcePath` for a zero-based transpiled (line, column). The newest cache
 * entry whose code has `functionName` at that column wins, so an edited file maps to its own version.
 */
export function originalLine(sourcePath: string, line: number, column: number, functionName: string): number | undefined {
  for (const { file } of cacheIndex().get(sourcePath) ?? []) {
    const mapped = load(file);
    if (!mapped) continue;
    if (functionName !== '' && functionName !== '(anonymous)') {
      // V8 puts a function at its parameter list, so its name sits just before the column.
      const text = mapped.code.split('\n')[line]?.slice(Math.max(0, column - 100), column + 20) ?? '';
      if (!text.includes(functionName)) continue;
    }
    const pairs = mapped.lines[line] ?? [];
    let found: number | undefined;
    for (const [generatedColumn, original] of pairs) {
      if (generatedColumn > column) break;
      found = original;
    }
    if (found !== undefined) return found + 1;
  }
  return undefined;
}
