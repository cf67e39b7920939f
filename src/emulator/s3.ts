import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchEmulator } from './batch-core.ts';
import { headerText, type EmulatorRequest, type RequestContext } from './context.ts';

/**
 * A minimal S3-compatible object store for Bedrock batch input and output: path-style
 * PutObject, GetObject, HeadObject, DeleteObject, CreateBucket and ListObjectsV2, enough for
 * @aws-sdk/client-s3 with `forcePathStyle: true`. Objects live on disk beside the batch files.
 * Uploads sent with the SDK's default streaming checksums (aws-chunked bodies) are decoded.
 */

export interface StoredObject {
  bucket: string;
  key: string;
  path: string;
  size: number;
  etag: string;
  lastModified: number;
}

export class ObjectStore {
  readonly #objects = new Map<string, StoredObject>();
  readonly #directory: string;
  #counter = 0;

  constructor(directory: string) {
    this.#directory = join(directory, 's3');
    mkdirSync(this.#directory, { recursive: true });
  }

  put(bucket: string, key: string, content: Buffer, now: number): StoredObject {
    const existing = this.#objects.get(`${bucket}/${key}`);
    this.#counter += 1;
    const path = existing?.path ?? join(this.#directory, `object-${this.#counter}`);
    writeFileSync(path, content);
    const object = { bucket, key, path, size: content.length, etag: `"${createHash('md5').update(content).digest('hex')}"`, lastModified: now };
    this.#objects.set(`${bucket}/${key}`, object);
    return object;
  }

  get(bucket: string, key: string): StoredObject | undefined {
    return this.#objects.get(`${bucket}/${key}`);
  }

  read(object: StoredObject): Buffer {
    return readFileSync(object.path);
  }

  delete(bucket: string, key: string): void {
    const object = this.#objects.get(`${bucket}/${key}`);
    if (!object) return;
    this.#objects.delete(`${bucket}/${key}`);
    rmSync(object.path, { force: true });
  }

  /** Keys under a prefix, in key order, as ListObjectsV2 returns them. */
  list(bucket: string, prefix: string): StoredObject[] {
    return [...this.#objects.values()]
      .filter((object) => object.bucket === bucket && object.key.startsWith(prefix))
      .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  }
}

/** `s3://bucket/some/key` -> bucket and key. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return match?.[1] === undefined ? undefined : { bucket: match[1], key: match[2] ?? '' };
}

/** Requests signed for the S3 service (SigV4 credential scope .../s3/aws4_request). */
export function isS3Request(request: EmulatorRequest): boolean {
  return /\/s3\/aws4_request/.test(headerText(request, 'authorization') ?? '');
}

/** aws-chunked: `<hex size>[;chunk-signature=...]\r\n<data>\r\n` ... `0\r\n<trailers>\r\n\r\n`. */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

function sendXml(context: RequestContext, status: number, xml: string, headers: Record<string, string> = {}): void {
  if (context.isClosed()) return;
  const bytes = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  context.response.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(bytes.length), 'x-amz-request-id': context.requestId, ...headers });
  context.response.end(bytes);
}

function s3Error(context: RequestContext, status: number, code: string, message: string, resource: string): void {
  sendXml(context, status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${context.requestId}</RequestId></Error>`);
}

export async function handleS3(context: RequestContext, emulator: BatchEmulator, store: ObjectStore, path: string, search: URLSearchParams): Promise<void> {
  const method = context.request.method ?? 'GET';
  const [bucketPart, ...keyParts] = path.slice(1).split('/');
  const bucket = decodeURIComponent(bucketPart ?? '');
  const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
  const now = emulator.clock.now();
  if (bucket === '') return s3Error(context, 400, 'InvalidBucketName', 'A bucket name is required.', path);

  if (key === '') {
    if (method === 'PUT') {
      if (!context.isClosed()) {
        context.response.writeHead(200, { location: `/${bucket}`, 'content-length': '0' });
        context.response.end();
      }
      return;
    }
    if (method === 'GET' && search.get('list-type') === '2') {
      const prefix = search.get('prefix') ?? '';
      const maxKeys = Math.min(Number(search.get('max-keys') ?? 1000) || 1000, 1000);
      const all = store.list(bucket, prefix);
      const token = search.get('continuation-token');
      const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8')) || 0;
      const page = all.slice(start, start + maxKeys);
      const truncated = start + maxKeys < all.length;
      const contents = page
        .map((object) => `<Contents><Key>${escapeXml(object.key)}</Key><LastModified>${new Date(object.lastModified).toISOString()}</LastModified><ETag>${escapeXml(object.etag)}</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`)
        .join('');
      const next = truncated ? `<NextContinuationToken>${Buffer.from(String(start + maxKeys)).toString('base64url')}</NextContinuationToken>` : '';
      return sendXml(
        context,
        200,
        `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
      );
    }
    return s3Error(context, 405, 'MethodNotAllowed', `The emulator does not support ${method} on a bucket.`, path);
  }

  switch (method) {
    case 'PUT': {
      const raw = context.rawBody ?? Buffer.alloc(0);
      const chunked = /aws-chunked/.test(headerText(context.request, 'content-encoding') ?? '') || (headerText(context.request, 'x-amz-content-sha256') ?? '').startsWith('STREAMING-');
      const object = store.put(bucket, key, chunked ? decodeAwsChunked(raw) : raw, now);
      if (!context.isClosed()) {
        context.response.writeHead(200, { etag: object.etag, 'content-length': '0', 'x-amz-request-id': context.requestId });
        context.response.end();
      }
      return;
    }
    case 'GET':
    case 'HEAD': {
      const object = store.get(bucket, key);
      if (!object) return s3Error(context, 404, 'NoSuchKey', 'The specified key does not exist.', path);
      if (context.isClosed()) return;
      context.response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(object.size),
        etag: object.etag,
        'last-modified': new Date(object.lastModified).toUTCString(),
        'x-amz-request-id': context.requestId,
      });
      context.response.end(method === 'GET' ? store.read(object) : undefined);
      return;
    }
    case 'DELETE':
      store.delete(bucket, key);
      if (!context.isClosed()) {
        context.response.writeHead(204, {});
        context.response.end();
      }
      return;
    default:
      return s3Error(context, 405, 'MethodNotAllowed', `The emulator does not support ${method} on an object.`, path);
  }
}
