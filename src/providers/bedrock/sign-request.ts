import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** SHA-256 for the signer from node:crypto (the pure-JS default is several times slower). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) this.hash = createHash('sha256');
    else if (typeof secret === 'string') this.hash = createHmac('sha256', secret);
    else if (secret instanceof ArrayBuffer) this.hash = createHmac('sha256', new Uint8Array(secret));
    else this.hash = createHmac('sha256', new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength));
  }

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') this.hash.update(data);
    else if (data instanceof ArrayBuffer) this.hash.update(new Uint8Array(data));
    else this.hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

export function createBedrockSigner(region: string, credentials: AwsCredentials): SignatureV4 {
  return new SignatureV4({ service: 'bedrock', region, credentials, sha256: NodeSha256 });
}

/** Signs with the gateway's own credentials; returns the headers to send. */
export async function signRequest(
  signer: SignatureV4,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Promise<Record<string, string>> {
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...headers, host: url.host },
    body,
  });
  return signed.headers;
}
