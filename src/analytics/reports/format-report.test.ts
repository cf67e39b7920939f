import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportRow } from '../../ledger/ledger.ts';
import { formatReport, formatUsdForPeople } from './format-report.ts';

function row(overrides: Partial<ReportRow>): ReportRow {
  return {
    key: 'search',
    requests: 10,
    inputTokens: 1000,
    cacheReadTokens: 200,
    cacheWriteTokens: 50,
    outputTokens: 300,
    cost: 1_234_567_890_000n,
    baselineCost: 2_000_000_000_000n,
    unpricedRequests: 0,
    cacheWritePremium: 1_000_000n,
    cacheReadSavings: 5_000_000n,
    ...overrides,
  };
}

const rows: ReportRow[] = [
  row({ key: 'search' }),
  row({ key: 'chat, "beta"', requests: 3, cost: 27_000_000n, baselineCost: 27_000_000n, unpricedRequests: 1 }),
  row({ key: null, requests: 2, inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, outputTokens: 0, cost: 0n, baselineCost: 0n, unpricedRequests: 2, cacheWritePremium: 0n, cacheReadSavings: 0n }),
];

describe('formatReport json', () => {
  it('is an array of objects with the group value under the group name and USD numbers', () => {
    const parsed = JSON.parse(formatReport(rows, 'feature', 'json')) as unknown[];
    assert.deepEqual(parsed[0], {
      feature: 'search',
      requests: 10,
      input_tokens: 1000,
      cache_read_tokens: 200,
      cache_write_tokens: 50,
      output_tokens: 300,
      cost_usd: 1.23456789,
      baseline_cost_usd: 2,
      savings_usd: 0.76543211,
      unpriced_requests: 0,
      cache_write_premium_usd: 0.000001,
      cache_read_savings_usd: 0.000005,
      cache_net_usd: 0.000004,
    });
    assert.deepEqual(parsed[2], {
      feature: null,
      requests: 2,
      input_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      baseline_cost_usd: 0,
      savings_usd: 0,
      unpriced_requests: 2,
      cache_write_premium_usd: 0,
      cache_read_savings_usd: 0,
      cache_net_usd: 0,
    });
  });

  it('names the key after the grouping, e.g. day', () => {
    const parsed = JSON.parse(formatReport([row({ key: '2026-12-04' })], 'day', 'json')) as Array<Record<string, unknown>>;
    assert.equal(parsed[0]?.['day'], '2026-12-04');
    assert.equal('feature' in (parsed[0] ?? {}), false);
  });

  it('gives the JSON number nearest the exact picodollar amount', () => {
    const large = 123_456_789_012_345_678_901n; // $123,456,789.012345678901
    const [record] = JSON.parse(formatReport([row({ cost: large, baselineCost: large + 1n })], 'model', 'json')) as Array<Record<string, number>>;
    assert.equal(record?.['cost_usd'], 123456789.0123456789);
    assert.equal(record?.['savings_usd'], 1e-12);
  });

  it('is an empty array for no rows', () => {
    assert.equal(formatReport([], 'feature', 'json'), '[]\n');
  });
});

describe('formatReport csv', () => {
  it('has a header, exact USD decimals, quoted fields and an empty cell for null', () => {
    const lines = formatReport(rows, 'customer', 'csv').trimEnd().split('\n');
    assert.deepEqual(lines, [
      'customer,requests,input_tokens,cache_read_tokens,cache_write_tokens,output_tokens,cost_usd,baseline_cost_usd,savings_usd,unpriced_requests,cache_write_premium_usd,cache_read_savings_usd,cache_net_usd',
      'search,10,1000,200,50,300,1.23456789,2,0.76543211,0,0.000001,0.000005,0.000004',
      '"chat, ""beta""",3,1000,200,50,300,0.000027,0.000027,0,1,0.000001,0.000005,0.000004',
      ',2,0,0,0,0,0,0,0,2,0,0,0',
    ]);
  });
});

describe('formatReport table', () => {
  const table = formatReport(rows, 'feature', 'table');
  const lines = table.split('\n');

  it('aligns columns under a header', () => {
    assert.match(lines[0] ?? '', /^feature\s+requests\s+input\s+cache read\s+cache write\s+output\s+cost\s+baseline\s+savings\s+cache net\s+unpriced$/);
    const widths = lines.slice(0, 5).map((line) => line.length);
    assert.equal(new Set(widths).size, 1, `all rows the same width:\n${table}`);
  });

  it('shows unpriced groups as unpriced, never $0', () => {
    const notAttributed = lines.find((line) => line.startsWith('(not attributed)')) ?? '';
    assert.match(notAttributed, /unpriced\s+-\s+-\s+-\s+2$/);
    assert.doesNotMatch(notAttributed, /\$0/);
    assert.match(table, /3 unpriced requests \(no known price for their model\) are not in cost/);
  });

  it('shows USD with decimals that fit the amount', () => {
    assert.match(lines[2] ?? '', /\$1\.23\s+\$2\.00\s+\$0\.7654\s+\$0\.000004\s+0$/);
    assert.match(lines[3] ?? '', /\$0\.000027\s+\$0\.000027\s+\$0\.00\s+\$0\.000004\s+1$/);
  });

  it('flags groups where prompt caching cost more than it saved', () => {
    const losing = formatReport([row({ key: 'sparse', cacheWritePremium: 9_000_000n, cacheReadSavings: 1_000_000n }), row({ key: 'busy' })], 'feature', 'table');
    assert.match(losing, /prompt caching cost more than it saved \(negative cache net\) for feature sparse\.$/m);
    assert.doesNotMatch(table, /cost more than it saved/);
  });

    it('says so when there is nothing to show', () => {
    assert.equal(formatReport([], 'feature', 'table'), 'no usage recorded for this query\n');
  });
});

describe('formatUsdForPeople', () => {
  it('rounds in integers and groups thousands', () => {
    assert.equal(formatUsdForPeople(0n), '$0.00');
    assert.equal(formatUsdForPeople(1_234_565_000_000_000n), '$1,234.57');
    assert.equal(formatUsdForPeople(12_345_000_000n), '$0.0123');
    assert.equal(formatUsdForPeople(27_000_000n), '$0.000027');
    assert.equal(formatUsdForPeople(400_000n), '<$0.000001');
    assert.equal(formatUsdForPeople(-2_500_000_000_000n), '-$2.50');
  });
});
