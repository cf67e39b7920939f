import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError, type GatewayErrorKind, STATUS_BY_KIND } from '../../core/errors.ts';
import type { Operation, ParsedCall, ProviderAdapter } from '../provider.ts';

export interface AdapterConformanceCase {
  adapter: ProviderAdapter;
  /** A billable operation the sample bodies belong to. */
  operation: Operation;
  /** Request body with a field no provider knows, which must reach the upstream byte for byte. */
  requestBody: Record<string, unknown>;
  /** The header carrying the client's own credential, replaced by the gateway's. */
  clientCredentialHeader: string;
  /** Proves the gateway's credential was set (for Bedrock: a SigV4 signature with its key id). */
  assertGatewayCredential(headers: Record<string, string>): void;
  /** A complete successful response and the totals its usage must convert to. */
  response: { body: Buffer; inputTotal: number; outputTotal: number };
  /** A streamed response (wire bytes) and the totals its usage must convert to. */
  stream: { operation: Operation; bytes: Buffer; inputTotal: number; outputTotal: number; stopReason: string };
  /** An upstream error response and the error type it must be recorded with. */
  error: { status: number; headers: Record<string, string>; body: Buffer; errorType: string };
  /** Checks a rendered gateway error has this provider's wire shape. */
  assertErrorShape(body: unknown, headers: Record<string, string>, kind: GatewayErrorKind): void;
}

const KINDS = Object.keys(STATUS_BY_KIND) as GatewayErrorKind[];

function call(testCase: AdapterConformanceCase, operation: Operation, stream: boolean): ParsedCall {
  const rawBody = Buffer.from(JSON.stringify(testCase.requestBody));
  return {
    operation,
    body: JSON.parse(rawBody.toString()) as Record<string, unknown>,
    rawBody,
    model: operation.pathModel ?? String(testCase.requestBody.model),
    stream,
    headers: {
      'content-type': 'application/json',
      [testCase.clientCredentialHeader]: 'client-credential',
      'x-costgate-feature': 'must-not-leak',
      'x-custom-feature-flag': 'kept',
      'accept-encoding': 'gzip, br',
      host: 'gateway.local',
    },
  };
}

/** Every provider adapter runs this same suite; a capability that does not apply is declared in the case. */
export function describeAdapterConformance(name: string, make: () => AdapterConformanceCase): void {
  describe(`${name} adapter conformance`, () => {
    test('forwards the client body byte for byte and unknown headers untouched, with the gateway\'s credential', async () => {
      const testCase = make();
      const parsed = call(testCase, testCase.operation, false);
      const upstream = await testCase.adapter.prepareUpstream(parsed, false);
      assert.ok(upstream.body?.equals(parsed.rawBody ?? Buffer.alloc(0)), 'body bytes unchanged');
      assert.equal(upstream.headers['x-custom-feature-flag'], 'kept');
      assert.equal(upstream.headers['accept-encoding'], 'identity', 'usage is read from the body, so it must not be compressed');
      assert.ok(!Object.keys(upstream.headers).some((header) => header.startsWith('x-costgate-')), 'x-costgate-* stays in the gateway');
      assert.notEqual(upstream.headers[testCase.clientCredentialHeader], 'client-credential');
      assert.equal(upstream.headers.host === 'gateway.local', false);
      testCase.assertGatewayCredential(upstream.headers);
    });

    test('re-serializes the body only when a stage changed it', async () => {
      const testCase = make();
      const parsed = call(testCase, testCase.operation, false);
      (parsed.body as Record<string, unknown>).changed_by_stage = true;
      const upstream = await testCase.adapter.prepareUpstream(parsed, true);
      assert.equal((JSON.parse(upstream.body?.toString() ?? '{}') as Record<string, unknown>).changed_by_stage, true);
      assert.equal(upstream.headers['content-length'], String(upstream.body?.length));
    });

    test('reads usage from a complete response', () => {
      const testCase = make();
      const facts = testCase.adapter.readResponse(call(testCase, testCase.operation, false), 200, {}, testCase.response.body);
      assert.equal(facts.usage?.input.total, testCase.response.inputTotal);
      assert.equal(facts.usage?.output.total, testCase.response.outputTotal);
      assert.equal(facts.errorType, undefined);
    });

    test('reads usage from a stream split at any byte, passing the bytes through unchanged', () => {
      const testCase = make();
      const { bytes } = testCase.stream;
      const step = Math.max(1, Math.floor(bytes.length / 97));
      for (let cut = 1; cut < bytes.length; cut += step) {
        const observer = testCase.adapter.observeStream(call(testCase, testCase.stream.operation, true), 200);
        const out = Buffer.concat([observer.transform(bytes.subarray(0, cut)), observer.transform(bytes.subarray(cut))]);
        assert.ok(out.equals(bytes), `bytes changed when cut at ${cut}`);
        const facts = observer.finish();
        assert.equal(facts.usage?.input.total, testCase.stream.inputTotal, `input total when cut at ${cut}`);
        assert.equal(facts.usage?.output.total, testCase.stream.outputTotal, `output total when cut at ${cut}`);
        assert.equal(facts.stopReason, testCase.stream.stopReason);
      }
    });

    test('records the provider\'s error type for an upstream error', () => {
      const testCase = make();
      const facts = testCase.adapter.readResponse(call(testCase, testCase.operation, false), testCase.error.status, testCase.error.headers, testCase.error.body);
      assert.equal(facts.errorType, testCase.error.errorType);
      assert.equal(facts.usage, undefined);
    });

    test('renders every gateway error kind in the provider\'s own shape with an error status', () => {
      const testCase = make();
      for (const kind of KINDS) {
        const rendered = testCase.adapter.renderError(new GatewayError(kind, `example ${kind}`));
        assert.ok(rendered.status >= 400 && rendered.status < 600, `${kind}: status ${rendered.status}`);
        assert.match(rendered.headers['content-type'] ?? '', /json/);
        testCase.assertErrorShape(JSON.parse(rendered.body), rendered.headers, kind);
      }
    });
  });
}
