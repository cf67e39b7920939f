import { formatUsd } from '../src/core/money.ts';
import type { LedgerCheck } from './load-faults-ledger.ts';
import type { CallRecord } from './load-faults-traffic.ts';
import { percentile } from './statistics.ts';

/** The tables bench:load prints: the fault schedule as run, calls per outcome and window, the ledger and budget checks. */

export interface FaultWindow {
  name: string;
  /** Ms since the run started; `to` is when the service was back (or the storm ended). */
  from: number;
  to: number;
  note: string;
}

export interface BudgetFacts {
  keyId: string;
  budget: bigint;
  replicas: number;
  /** What the Redis spend counter says at the end (picodollars), if it exists. */
  counter: bigint | undefined;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const milliseconds = (values: number[], share: number) => (values.length ? percentile(values, share).toFixed(0) : '-');

function windowRow(name: string, calls: readonly CallRecord[]): string[] {
  const ok = calls.filter((call) => call.outcome === 'ok');
  const latencies = ok.map((call) => call.latencyMs).sort((a, b) => a - b);
  return [
    name,
    String(calls.length),
    String(ok.length),
    String(calls.filter((call) => call.outcome === 'refused').length),
    String(calls.filter((call) => call.outcome === 'failed').length),
    String(calls.filter((call) => call.outcome === 'ok' && call.replicas.length > 1).length),
    milliseconds(latencies, 0.5),
    milliseconds(latencies, 0.99),
    latencies.length ? (latencies.at(-1) ?? 0).toFixed(0) : '-',
  ];
}

export function faultTable(windows: readonly FaultWindow[], skipped: readonly string[]): string {
  const rows = windows.map((window) => [window.name, `${seconds(window.from)}-${seconds(window.to)}`, window.note]);
  for (const reason of skipped) rows.push([reason, '-', 'not exercised']);
  return table(['fault', 't (s)', 'as it happened'], rows);
}

export function windowTable(records: readonly CallRecord[], windows: readonly FaultWindow[]): string {
  // A call belongs to every fault it overlapped (one in flight when a replica was killed, say).
  const inside = (call: CallRecord, window: FaultWindow) => call.startedAt < window.to && call.startedAt + call.latencyMs >= window.from;
  const calm = records.filter((call) => !windows.some((window) => inside(call, window)));
  const rows = [windowRow('all calls', records), windowRow('no fault active', calm)];
  for (const window of windows) rows.push(windowRow(window.name, records.filter((call) => inside(call, window))));
  return table(['calls overlapping', 'sent', 'ok', 'refused', 'failed', 'failover', 'p50 ms', 'p99 ms', 'max ms'], rows);
}

export function causeTable(records: readonly CallRecord[]): string {
  const causes = new Map<string, { calls: number; first: number; last: number }>();
  for (const call of records) {
    if (call.outcome === 'ok') continue;
    const label = `${call.outcome}: ${call.cause ?? 'unknown'}`;
    const entry = causes.get(label) ?? { calls: 0, first: call.startedAt, last: call.startedAt };
    entry.calls += 1;
    entry.first = Math.min(entry.first, call.startedAt);
    entry.last = Math.max(entry.last, call.startedAt);
    causes.set(label, entry);
  }
  const rows = [...causes].sort((a, b) => b[1].calls - a[1].calls).map(([label, entry]) => [label, String(entry.calls), `${seconds(entry.first)}-${seconds(entry.last)}`]);
  return rows.length ? table(['not answered with success, by cause', 'calls', 'sent at t (s)'], rows) : '(every call succeeded)';
}

export function kindTable(records: readonly CallRecord[]): string {
  const groups = new Map<string, CallRecord[]>();
  for (const call of records) {
    const name = `${call.kind} / ${call.key} key`;
    const list = groups.get(name) ?? [];
    list.push(call);
    groups.set(name, list);
  }
  const rows = [...groups].sort((a, b) => a[0].localeCompare(b[0])).map(([name, calls]) => {
    const row = windowRow(name, calls);
    row.push(String(calls.filter((call) => call.servedBy !== undefined).length));
    return row;
  });
  return table(['calls by kind', 'sent', 'ok', 'refused', 'failed', 'failover', 'p50 ms', 'p99 ms', 'max ms', 'fallback'], rows);
}

export function ledgerTable(check: LedgerCheck, spool: { files: number; bytes: number }): string {
  const rows: string[][] = [
    ['ledger rows (all statuses)', String(check.rows)],
    ['successful calls with a request id (warm-up included)', String(check.successes)],
    ['  ... of them with no ledger row (lost)', String(check.missing)],
    ['request ids stored more than once', String(check.duplicated)],
    ['successful calls without x-costgate-request-id', String(check.successesWithoutId)],
    ['spool files left with content after shutdown', `${spool.files} (${spool.bytes} bytes)`],
  ];
  if (check.killedSpool) {
    rows.push(
      ["events in killed replica B's spool segments at the kill", String(check.killedSpool.events)],
      ['  ... already in the ledger right after the kill', String(check.killedSpool.storedAtKill)],
      ['  ... in the ledger at the end (the rest replayed by B)', String(check.killedSpool.inLedger)],
    );
  }
  for (const [label, count] of [...check.rowsWithoutClientSuccess].sort((a, b) => b[1] - a[1])) rows.push([`row without client success: ${label}`, String(count)]);
  return table(['ledger check', 'count'], rows);
}

export interface BudgetVerdict {
  spend: bigint;
  overspend: bigint;
  bound: bigint;
  withinBound: boolean;
}

export function budgetVerdict(check: LedgerCheck, facts: BudgetFacts): BudgetVerdict {
  const entry = check.spendByKey.get(facts.keyId) ?? { spend: 0n, largest: 0n, rows: 0 };
  const overspend = entry.spend > facts.budget ? entry.spend - facts.budget : 0n;
  const bound = BigInt(facts.replicas) * entry.largest;
  return { spend: entry.spend, overspend, bound, withinBound: overspend <= bound };
}

export function budgetTable(check: LedgerCheck, facts: BudgetFacts, verdict: BudgetVerdict, mainKeyId: string, records: readonly CallRecord[]): string {
  const firstRefusal = records.filter((call) => call.outcome === 'refused').reduce<number | undefined>((first, call) => (first === undefined || call.startedAt < first ? call.startedAt : first), undefined);
  const capped = check.spendByKey.get(facts.keyId) ?? { spend: 0n, largest: 0n, rows: 0 };
  const main = check.spendByKey.get(mainKeyId) ?? { spend: 0n, largest: 0n, rows: 0 };
  const usd = (picodollars: bigint) => `$${formatUsd(picodollars)}`;
  return table(
    ['budget check (ledger, picodollar-exact)', 'value'],
    [
      [`capped key ${facts.keyId}: monthly budget`, usd(facts.budget)],
      ['  settled spend (sum of its rows)', `${usd(capped.spend)} over ${capped.rows} priced rows`],
      ['  largest single call', usd(capped.largest)],
      ['  overspend (spend - budget, 0 if under)', usd(verdict.overspend)],
      [`  bound: ${facts.replicas} replicas x largest call`, usd(verdict.bound)],
      ['  verdict', verdict.withinBound ? 'within bound' : 'OVER BOUND'],
      ['  Redis spend counter at the end', facts.counter === undefined ? 'absent' : `${usd(facts.counter)} (ledger minus counter: ${usd(capped.spend - facts.counter)})`],
      ['  first refused for its budget at', firstRefusal === undefined ? 'never' : `t=${seconds(firstRefusal)} s`],
      [`main key ${mainKeyId}: settled spend`, `${usd(main.spend)} over ${main.rows} priced rows`],
    ],
  );
}
