import type { HeaderMap, ResponseSink } from './context.ts';

/**
 * A sink that passes everything to the one it wraps. Stages that watch or decorate a response
 * (record its bytes, add headers) extend it and override only what they change.
 */
export class WrappingSink implements ResponseSink {
  constructor(protected readonly inner: ResponseSink) {}

  get started(): boolean {
    return this.inner.started;
  }

  get status(): number | undefined {
    return this.inner.status;
  }

  start(status: number, headers: HeaderMap): void {
    this.inner.start(status, headers);
  }

  write(chunk: Buffer): boolean {
    return this.inner.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.inner.onDrain(callback);
  }

  end(): void {
    this.inner.end();
  }

  abort(): void {
    this.inner.abort();
  }
}

/** Adds headers (served model, route, attempt count) to whatever the wrapped call starts. */
export class HeaderAddingSink extends WrappingSink {
  constructor(
    inner: ResponseSink,
    private readonly extra: HeaderMap,
  ) {
    super(inner);
  }

  override start(status: number, headers: HeaderMap): void {
    this.inner.start(status, { ...headers, ...this.extra });
  }
}
