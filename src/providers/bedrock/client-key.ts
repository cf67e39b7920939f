/**
 * The stable part of a SigV4 `authorization` header: the access key id in `Credential=AKID/date/...`.
 * The rest (date, signature) changes on every request, so only this identifies the client's key.
 */
export function sigV4AccessKeyId(authorization: string): string | undefined {
  if (!authorization.startsWith('AWS4-HMAC-SHA256')) return undefined;
  return /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
}
