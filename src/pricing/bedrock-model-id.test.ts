import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bedrockModelIdCandidates } from './bedrock-model-id.ts';

describe('bedrockModelIdCandidates', () => {
  it('tries the id as given first, and leaves plain ids alone', () => {
    assert.deepEqual(bedrockModelIdCandidates('anthropic.claude-sonnet-4-5-20250929-v1:0'), [
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]);
  });

  it('never strips global. (that would change the price class)', () => {
    assert.deepEqual(bedrockModelIdCandidates('global.anthropic.claude-opus-4-5-20251101-v1:0'), [
      'global.anthropic.claude-opus-4-5-20251101-v1:0',
    ]);
  });

  it('strips geographic prefixes as a last resort', () => {
    assert.deepEqual(bedrockModelIdCandidates(' ca.anthropic.claude-sonnet-4-5-20250929-v1:0 '), [
      'ca.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]);
    assert.equal(bedrockModelIdCandidates('us-gov.anthropic.claude-x').at(-1), 'anthropic.claude-x');
  });

  it('decodes URL-encoded ids and reduces ARNs to the id after the last slash', () => {
    assert.deepEqual(
      bedrockModelIdCandidates('arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1%3A0'),
      [
        'arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1%3A0',
        'arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0',
        'us.anthropic.claude-haiku-4-5-20251001-v1:0',
        'anthropic.claude-haiku-4-5-20251001-v1:0',
      ],
    );
    assert.deepEqual(bedrockModelIdCandidates('bad%E0%A4%A'), ['bad%E0%A4%A']);
  });
});
