import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CachedResponse, StoreListener } from './response-store.ts';

const SUFFIX = '.entry';
const FORMAT = 1;
/** Beyond this many queued file operations new writes are dropped: it is a cache, not a log. */
const MAX_PENDING = 10_000;

type EntryHeader = Omit<CachedResponse, 'body' | 'semantic'> & {
  format: number;
  bodyBytes: number;
  semantic?: { partition: string; prompt: string; feature: string | undefined; dimensions: number };
};

/** One file per entry: a length-prefixed JSON header, then the body bytes, then the vector. */
export function encodeEntry(entry: CachedResponse): Buffer {
  const { body, semantic, ...rest } = entry;
  const header: EntryHeader = {
    ...rest,
    format: FORMAT,
    bodyBytes: body.length,
    ...(semantic
      ? { semantic: { partition: semantic.partition, prompt: semantic.prompt, feature: semantic.feature, dimensions: semantic.vector.length } }
      : {}),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  const parts = [length, headerBytes, body];
  if (semantic) parts.push(Buffer.from(semantic.vector.buffer, semantic.vector.byteOffset, semantic.vector.byteLength));
  return Buffer.concat(parts);
}

export function decodeEntry(bytes: Buffer): CachedResponse | undefined {
  if (bytes.length < 4) return undefined;
  const headerLength = bytes.readUInt32BE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as EntryHeader;
  if (header.format !== FORMAT) return undefined;
  const bodyStart = 4 + headerLength;
  const body = Buffer.from(bytes.subarray(bodyStart, bodyStart + header.bodyBytes));
  const { format: _format, bodyBytes: _bodyBytes, semantic, ...rest } = header;
  const entry: CachedResponse = { ...rest, body };
  if (semantic) {
    const vectorStart = bodyStart + header.bodyBytes;
    const vectorBytes = bytes.subarray(vectorStart, vectorStart + semantic.dimensions * 4);
    if (vectorBytes.length !== semantic.dimensions * 4) return undefined;
    // Copied into its own aligned buffer: Float32Array needs a 4-byte aligned offset.
    const vector = new Float32Array(semantic.dimensions);
    Buffer.from(vector.buffer).set(vectorBytes);
    entry.semantic = { partition: semantic.partition, prompt: semantic.prompt, feature: semantic.feature, vector };
  }
  return entry;
}

/**
 * Mirrors the store to a folder, off the response path: file writes and deletes run one at a
 * time in the background, in the order the store made its changes.
 */
export class FilePersistence implements StoreListener {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly directory: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    mkdirSync(directory, { recursive: true });
  }

  added(entry: CachedResponse): void {
    if (this.pending >= MAX_PENDING) return;
    this.enqueue(async () => {
      const path = this.path(entry.key);
      const temporary = `${path}.tmp`;
      await writeFile(temporary, encodeEntry(entry));
      await rename(temporary, path);
    });
  }

  removed(entry: CachedResponse): void {
    this.enqueue(() => unlink(this.path(entry.key)).catch(() => {}));
  }

  /** Reads every entry file; expired or unreadable ones are deleted. */
  async load(now: number, insert: (entry: CachedResponse) => void): Promise<number> {
    let loaded = 0;
    const names = (await readdir(this.directory)).filter((name) => name.endsWith(SUFFIX));
    const stale: string[] = [];
    for (const name of names) {
      try {
        const entry = decodeEntry(await readFile(join(this.directory, name)));
        if (!entry || entry.expiresAt <= now) {
          stale.push(name);
          continue;
        }
        insert(entry);
        loaded += 1;
      } catch {
        stale.push(name);
      }
    }
    for (const name of stale) await unlink(join(this.directory, name)).catch(() => {});
    return loaded;
  }

  flush(): Promise<void> {
    return this.queue;
  }

  private path(key: string): string {
    return join(this.directory, `${key}${SUFFIX}`);
  }

  private enqueue(operation: () => Promise<void>): void {
    this.pending += 1;
    this.queue = this.queue
      .then(operation)
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.pending -= 1;
      });
  }
}
