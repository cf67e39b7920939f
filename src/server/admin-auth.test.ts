import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminAuthorized, adminRefusal } from './admin-auth.ts';

type Caller = Parameters<typeof adminAuthorized>[0];

function caller(remoteAddress: string, authorization?: string): Caller {
  return { headers: authorization ? { authorization } : {}, socket: { remoteAddress } } as unknown as Caller;
}

test('without an admin key, only callers on this machine are let in', () => {
  assert.equal(adminAuthorized(caller('127.0.0.1'), undefined), true);
  assert.equal(adminAuthorized(caller('::1'), undefined), true);
  assert.equal(adminAuthorized(caller('::ffff:127.0.0.1'), undefined), true);
  assert.equal(adminAuthorized(caller('10.0.0.7'), undefined), false);
  assert.equal(adminAuthorized(caller('10.0.0.7', 'Bearer anything'), undefined), false);
  assert.match(adminRefusal(undefined), /COSTGATE_ADMIN_KEY/);
});

test('with an admin key, the bearer token decides, wherever the caller is', () => {
  assert.equal(adminAuthorized(caller('10.0.0.7', 'Bearer s3cret'), 's3cret'), true);
  assert.equal(adminAuthorized(caller('127.0.0.1'), 's3cret'), false);
  assert.equal(adminAuthorized(caller('127.0.0.1', 'Bearer s3cre'), 's3cret'), false);
  assert.equal(adminAuthorized(caller('127.0.0.1', 's3cret'), 's3cret'), false);
});
