import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCardNumber, looksLikeSecret, luhnValid, REDACTION_KINDS, redactText, secretField, type RedactionCounts, type RedactionKind } from './redaction.ts';

const ALL = new Set<RedactionKind>(REDACTION_KINDS);
const redact = (text: string, kinds: ReadonlySet<RedactionKind> = ALL) => redactText(text, kinds);

test('emails are replaced with a typed tag, including plus-addressing, subdomains and neighbours', () => {
  assert.equal(redact('write to bob.smith+billing@mail.example.co.uk today'), 'write to [REDACTED:email] today');
  assert.equal(redact('<alice@x.io>, "carol_99@corp-name.com"'), '<[REDACTED:email]>, "[REDACTED:email]"');
  assert.equal(redact('line one\nalice@x.io'), 'line one\n[REDACTED:email]');
});

test('not emails: a handle, a decorator, a version, an address without a top-level domain', () => {
  for (const text of ['@alice said hi', '@Component({selector})', 'npm i left-pad@1.3.0', 'root@localhost', 'a @ b.com']) {
    assert.equal(redact(text), text, text);
  }
});

test('provider keys: OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), AWS access key ids', () => {
  const keys = [
    'sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL',
    'sk-proj-Ab3_dE6-gH9jK2mN5pQ8sT1vW4yZ7aC0eF3hJ6kM9nP2rS5uV8xA1dG4',
    'sk-svcacct-9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    'sk-ant-api03-qwertyuiopASDFGHJKLzxcvbnm1234567890_-QWERTYUIOPasdfghjkl-AA',
    'AKIAIOSFODNN7EXAMPLE',
    'ASIAY34FZKBOKMUTVV7A',
  ];
  for (const key of keys) {
    assert.equal(redact(`key: ${key}.`), 'key: [REDACTED:api_key].', key);
    assert.equal(redact(`"${key}"`), '"[REDACTED:api_key]"', key);
  }
});

test('other credentials: bearer tokens keep their scheme, named secrets keep their name', () => {
  assert.equal(redact('Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543abc'), 'Authorization: Bearer [REDACTED:api_key]');
  assert.equal(redact('curl -H "x-api-key: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"'), 'curl -H "x-api-key: [REDACTED:api_key]"');
  assert.equal(redact('https://api.example.com/v2?api_key=3f9a0c77e1d24b8f9a&page=2'), 'https://api.example.com/v2?api_key=[REDACTED:api_key]&page=2');
  assert.equal(redact('client_secret = "Xy7#kP2$mQ9vL4wR"'), 'client_secret = "[REDACTED:api_key]"');
  assert.equal(redact('aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), 'aws_secret_access_key=[REDACTED:api_key]');
  assert.equal(redact('ghp_1234567890abcdefghijklmnopqrstuvwxyzAB and xoxb-123456789012-abcdefABCDEF'), '[REDACTED:api_key] and [REDACTED:api_key]');
  assert.equal(redact('jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'), 'jwt [REDACTED:api_key]');
});

test('not secrets: ordinary words after key= or token:, short values, prose about keys, sk- words', () => {
  for (const text of [
    'token: hello_world_example',
    'password=changeme',
    'the api_key=YOUR_API_KEY_HERE placeholder',
    'use your secret key wisely',
    'max_tokens=1024 and temperature=0.2',
    'risk-management-framework-document',
    'a task-oriented approach',
  ]) {
    assert.equal(redact(text), text, text);
  }
  assert.equal(looksLikeSecret('3f9a0c77e1d24b8f9a'), true);
  assert.equal(looksLikeSecret('hello_world_example'), false);
  assert.equal(looksLikeSecret('2026-12-04T10:00:00Z'.slice(0, 10)), false);
});

test('card numbers: valid Luhn numbers of real issuers, plain or grouped', () => {
  const cards = ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '5555555555554444', '2223003122003222', '378282246310005', '3782 822463 10005', '6011111111111117', '3530111333300000'];
  for (const card of cards) {
    assert.equal(redact(`card ${card}, exp 12/29`), 'card [REDACTED:card_number], exp 12/29', card);
  }
});

test('not cards: Luhn failures, timestamps, order ids, UUIDs, phone numbers, decimals, IBANs, odd grouping', () => {
  assert.equal(luhnValid('4111111111111112'), false);
  assert.equal(luhnValid('4000123412341235'), false);
  const texts = [
    'card 4111111111111112', // one digit off: fails Luhn
    'order #4000123412341235 shipped',
    'at 1733356800000 ms', // epoch milliseconds: no card network starts with 1
    'nanos 1733356800123456789',
    'id 550e8400-e29b-41d4-a716-446655440000',
    'id 12345678-1234-5678-1234-567812345678',
    'call +1 415 555 2671 or +44 20 7946 0958',
    'pi is 3.14159265358979323',
    'ratio 0.4111111111111111',
    'IBAN DE89370400440532013000',
    'ISBN 978-3-16-148410-0',
    'tracking 9400111202555842761234',
    'grouped 41 1111 1111 1111 11', // Luhn-valid digits, not a card's grouping
  ];
  for (const text of texts) assert.equal(redact(text), text, text);
  assert.equal(isCardNumber('4111 1111-1111 1111'), false, 'mixed separators');
});

test('only the kinds asked for are redacted, and replacements are counted per kind', () => {
  const text = 'alice@x.io paid with 4242424242424242 using sk-proj-Ab3dE6gH9jK2mN5pQ8sT1vW4 and bob@y.org';
  assert.equal(redact(text, new Set(['email'])), '[REDACTED:email] paid with 4242424242424242 using sk-proj-Ab3dE6gH9jK2mN5pQ8sT1vW4 and [REDACTED:email]');
  assert.equal(redact(text, new Set()), text);
  const counts: RedactionCounts = {};
  redactText(text, ALL, counts);
  assert.deepEqual(counts, { email: 2, card_number: 1, api_key: 1 });
});

test('object keys: password fields always, token fields only when generated', () => {
  assert.equal(secretField('password'), 'always');
  assert.equal(secretField('openai_api_key'), 'always');
  assert.equal(secretField('Authorization'), 'always');
  assert.equal(secretField('token'), 'if-generated');
  assert.equal(secretField('max_tokens'), undefined);
  assert.equal(secretField('content'), undefined);
});

test('a long run of key-like characters without a match is scanned in linear time (no backtracking blow-up)', () => {
  // 200k characters of base64-like text: a pathological pattern would take minutes, not finish the test.
  const text = `${'aB3+'.repeat(50_000)}@`;
  assert.equal(redact(text), text);
});
