import { analyticsParameters, formatUsd, get, reportParameters, setKey, Unauthorized, usd, type Filters, type ReportRow } from './api.ts';
import { categoryChart, table, tiles, timeChart } from './charts.ts';
import './styles.css';

type View = (root: HTMLElement, filters: Filters) => Promise<void>;

const DAY = 86_400_000;
const label = (key: string | null) => key ?? '(not attributed)';
const percent = (value: number) => `${Math.round(value * 1000) / 10}%`;

interface SavingsRow {
  lever: string;
  key: string | null;
  requests: number;
  measured: string;
  estimated: string;
}

async function overview(root: HTMLElement, filters: Filters): Promise<void> {
  const [days, levers] = await Promise.all([
    get<ReportRow[]>('report', reportParameters(filters, filters.to - filters.from <= 2 * DAY ? 'hour' : 'day')),
    get<SavingsRow[]>('analytics/savings', analyticsParameters(filters)),
  ]);
  const sorted = [...days].sort((a, b) => String(a.key).localeCompare(String(b.key)));
  const cost = sorted.reduce((sum, row) => sum + usd(row.cost), 0);
  const baseline = sorted.reduce((sum, row) => sum + usd(row.baselineCost), 0);
  const requests = sorted.reduce((sum, row) => sum + row.requests, 0);
  tiles(root, [
    ['Spend', formatUsd(cost)],
    ['Without costgate', formatUsd(baseline)],
    ['Saved', formatUsd(baseline - cost)],
    ['Requests', requests.toLocaleString('en-US')],
  ]);
  timeChart(
    root,
    'Spend and savings over time',
    sorted.map((row) => Date.parse(String(row.key).replace(/T(\d\d):00Z$/, 'T$1:00:00Z'))),
    [
      { label: 'spend', values: sorted.map((row) => usd(row.cost)) },
      { label: 'saved', values: sorted.map((row) => usd(row.baselineCost) - usd(row.cost)) },
    ],
  );
  const byLever = new Map<string, { measured: number; estimated: number }>();
  for (const row of levers) {
    const entry = byLever.get(row.lever) ?? { measured: 0, estimated: 0 };
    entry.measured += usd(row.measured);
    entry.estimated += usd(row.estimated);
    byLever.set(row.lever, entry);
  }
  categoryChart(root, 'Savings by lever', [...byLever.keys()], [
    { label: 'measured', values: [...byLever.values()].map((entry) => entry.measured) },
    { label: 'estimated', values: [...byLever.values()].map((entry) => entry.estimated) },
  ]);
}

async function features(root: HTMLElement, filters: Filters): Promise<void> {
  const [rows, growth, ratios] = await Promise.all([
    get<ReportRow[]>('report', reportParameters(filters, 'feature', 20)),
    get<Array<{ key: string | null; currentCost: string; previousCost: string; change: string; changeRatio: number | null }>>(
      'analytics/growth',
      analyticsParameters({ ...filters, feature: '' }, { by: 'feature', to: filters.to, periodMs: 7 * DAY, top: 15, 'filter.customer': filters.customer }),
    ),
    get<Array<{ key: string | null; inputOutputRatio: number | null; meanInputTokens: number; meanOutputTokens: number; cacheHitRate: number }>>(
      'analytics/ratios',
      analyticsParameters(filters, { by: 'feature', top: 20 }),
    ),
  ]);
  categoryChart(root, 'Cost by feature', rows.map((row) => label(row.key)), [
    { label: 'cost', values: rows.map((row) => usd(row.cost)) },
    { label: 'saved', values: rows.map((row) => usd(row.baselineCost) - usd(row.cost)) },
  ]);
  table(
    root,
    'Week over week, by dollar growth',
    ['feature', 'last 7 days', 'previous 7 days', 'change', 'change %'],
    growth.map((row) => [label(row.key), formatUsd(usd(row.currentCost)), formatUsd(usd(row.previousCost)), formatUsd(usd(row.change)), row.changeRatio === null ? 'new' : percent(row.changeRatio)]),
  );
  table(
    root,
    'Input / output per feature',
    ['feature', 'input:output', 'mean input', 'mean output', 'cache hit rate'],
    ratios.map((row) => [label(row.key), row.inputOutputRatio === null ? '-' : `${row.inputOutputRatio.toFixed(1)} : 1`, Math.round(row.meanInputTokens), Math.round(row.meanOutputTokens), percent(row.cacheHitRate)]),
  );
}

async function customers(root: HTMLElement, filters: Filters): Promise<void> {
  const pareto = await get<{ totalCost: string; groups: number; rows: Array<{ key: string | null; cost: string; share: number; cumulativeShare: number }>; rest: { groups: number; cost: string } }>(
    'analytics/pareto',
    analyticsParameters(filters, { by: 'customer', top: 15 }),
  );
  const top = pareto.rows.findIndex((row) => row.cumulativeShare >= 0.6);
  tiles(root, [
    ['Customers', String(pareto.groups)],
    ['Spend', formatUsd(usd(pareto.totalCost))],
    ['60% of spend', top === -1 ? '-' : `${top + 1} customer${top === 0 ? '' : 's'}`],
  ]);
  categoryChart(root, 'Customers (Pareto)', pareto.rows.map((row) => label(row.key)), [
    { label: 'cost', values: pareto.rows.map((row) => usd(row.cost)) },
    { label: 'cumulative share', values: pareto.rows.map((row) => row.cumulativeShare), bars: false, scale: 'share' },
  ]);
}

async function models(root: HTMLElement, filters: Filters): Promise<void> {
  const [rows, percentiles] = await Promise.all([
    get<ReportRow[]>('report', reportParameters(filters, 'model', 15)),
    get<Array<{ key: string | null; requests: number; p50: string; p90: string; p99: string; max: string }>>('analytics/percentiles', analyticsParameters(filters, { by: 'model', top: 15 })),
  ]);
  categoryChart(root, 'Cost by model', rows.map((row) => label(row.key)), [{ label: 'cost', values: rows.map((row) => usd(row.cost)) }]);
  table(
    root,
    'Cost per request',
    ['model', 'requests', 'p50', 'p90', 'p99', 'max'],
    percentiles.map((row) => [label(row.key), row.requests, formatUsd(usd(row.p50)), formatUsd(usd(row.p90)), formatUsd(usd(row.p99)), formatUsd(usd(row.max))]),
  );
}

async function caching(root: HTMLElement, filters: Filters): Promise<void> {
  const rows = await get<ReportRow[]>('report', reportParameters(filters, 'feature', 15));
  categoryChart(
    root,
    'Prompt-cache hit rate by feature',
    rows.map((row) => label(row.key)),
    [{ label: 'hit rate %', values: rows.map((row) => (row.inputTokens > 0 ? (100 * row.cacheReadTokens) / row.inputTokens : 0)) }],
    false,
  );
  categoryChart(root, 'Cache writes paid vs reads saved', rows.map((row) => label(row.key)), [
    { label: 'write premium', values: rows.map((row) => usd(row.cacheWritePremium)) },
    { label: 'read savings', values: rows.map((row) => usd(row.cacheReadSavings)) },
  ]);
}

function leverView(lever: string, title: string, note: string): View {
  return async (root, filters) => {
    const [savings, mix] = await Promise.all([
      get<SavingsRow[]>('analytics/savings', analyticsParameters(filters, { by: 'feature' })),
      get<ReportRow[]>('report', reportParameters(filters, 'model', 10)),
    ]);
    const rows = savings.filter((row) => row.lever === lever);
    categoryChart(root, title, rows.map((row) => label(row.key)), [
      { label: 'measured', values: rows.map((row) => usd(row.measured)) },
      { label: 'estimated', values: rows.map((row) => usd(row.estimated)) },
    ]);
    if (lever === 'routing') categoryChart(root, 'Model mix (requests)', mix.map((row) => label(row.key)), [{ label: 'requests', values: mix.map((row) => row.requests) }], false);
    const paragraph = document.createElement('p');
    paragraph.className = 'note';
    paragraph.textContent = note;
    root.append(paragraph);
  };
}

async function anomalies(root: HTMLElement, filters: Filters): Promise<void> {
  const [alerts, series] = await Promise.all([
    get<{ enabled: boolean; alerts: Array<{ hour: string; dimension: string; key: string | null; kind: string; expected: number; observed: number; severity: number; cause: string }> }>('analytics/anomalies', {}),
    get<Array<{ hour: number; cost: string }>>('analytics/series', analyticsParameters(filters, { dimension: 'total' })),
  ]);
  timeChart(root, 'Hourly spend', series.map((point) => point.hour), [{ label: 'spend', values: series.map((point) => usd(point.cost)) }]);
  table(
    root,
    alerts.enabled ? 'Recent anomaly alerts' : 'Anomaly checks are off in this gateway',
    ['hour', 'series', 'kind', 'expected', 'observed', 'severity', 'likely cause'],
    alerts.alerts.map((alert) => [alert.hour.slice(0, 16), `${alert.dimension} ${label(alert.key)}`, alert.kind, alert.expected.toFixed(4), alert.observed.toFixed(4), `${alert.severity.toFixed(1)}x`, alert.cause]),
  );
}

async function breakEven(root: HTMLElement, filters: Filters): Promise<void> {
  const models = await get<ReportRow[]>('report', { ...reportParameters(filters, 'model', 30), provider: 'bedrock' });
  const form = document.createElement('form');
  form.className = 'inline';
  form.innerHTML = `<label>Model <select name="model"></select></label>
    <label>MU $/h 1-month <input name="oneMonthPerHour" type="number" step="0.01" value="63"></label>
    <label>MU $/h 6-month <input name="sixMonthPerHour" type="number" step="0.01" value="34.99"></label>
    <label>input tok/min per MU <input name="inputTokensPerMinute" type="number" value="300000"></label>
    <label>output tok/min per MU <input name="outputTokensPerMinute" type="number" value="30000"></label>`;
  const select = form.querySelector('select') as HTMLSelectElement;
  for (const row of models) if (row.key) select.add(new Option(row.key, row.key));
  root.append(form);
  const output = document.createElement('div');
  root.append(output);
  const render = async () => {
    output.replaceChildren();
    if (!select.value) {
      output.textContent = 'No Bedrock model in this range.';
      return;
    }
    const values = Object.fromEntries(new FormData(form).entries()) as Record<string, string>;
    const report = await get<{
      recommendation: string;
      onDemandMonthly: number;
      options: Array<{ units: number; term: string; monthlyCost: number }>;
      breakEvenTokensPerHour: Record<string, number>;
      meanLoad: number;
      peakLoad: number;
    }>('analytics/breakeven', { ...values, from: filters.from, to: filters.to, maxUnits: 8 });
    const recommendation = document.createElement('p');
    recommendation.className = 'recommendation';
    recommendation.textContent = report.recommendation;
    output.append(recommendation);
    const units = [...new Set(report.options.map((option) => option.units))];
    const of = (term: string) => units.map((unit) => report.options.find((option) => option.units === unit && option.term === term)?.monthlyCost ?? 0);
    categoryChart(output, 'Monthly cost: on demand vs model units (with overflow on demand)', units.map((unit) => `${unit} MU`), [
      { label: '1-month term', values: of('1-month') },
      { label: '6-month term', values: of('6-month') },
      { label: 'on demand', values: units.map(() => report.onDemandMonthly), bars: false },
    ]);
    tiles(output, [
      ['Break-even (6-month)', `${Math.round(report.breakEvenTokensPerHour['6-month'] ?? 0).toLocaleString('en-US')} tokens/h sustained`],
      ['Mean load', `${report.meanLoad.toFixed(2)} MU`],
      ['Peak load', `${report.peakLoad.toFixed(2)} MU`],
    ]);
  };
  form.addEventListener('change', () => void render().catch(showError(output)));
  await render();
}

const VIEWS: Record<string, View> = {
  overview,
  features,
  customers,
  models,
  caching,
  routing: leverView('routing', 'Routing savings by feature', 'Savings from routing and cascades as the router recorded them on each call; escalations show as calls whose routing saving is negative.'),
  batches: leverView('batch', 'Batch savings by feature', 'The batch discount earned by calls sent through provider batch APIs.'),
  anomalies,
  'break-even': breakEven,
};

function showError(root: HTMLElement) {
  return (error: unknown) => {
    if (error instanceof Unauthorized) {
      const key = prompt('costgate admin key (COSTGATE_ADMIN_KEY)');
      if (key) {
        setKey(key);
        void show();
      }
      return;
    }
    const message = document.createElement('p');
    message.className = 'error';
    message.textContent = `Could not load: ${(error as Error).message}`;
    root.append(message);
  };
}

function currentFilters(): Filters {
  const form = document.getElementById('filters') as HTMLFormElement;
  const data = new FormData(form);
  const now = Date.now();
  const days = Number(data.get('range') ?? 30);
  return { from: now - days * DAY, to: now + 60_000, feature: String(data.get('feature') ?? ''), customer: String(data.get('customer') ?? '') };
}

async function fillFilterChoices(): Promise<void> {
  const filters = { ...currentFilters(), feature: '', customer: '' };
  for (const name of ['feature', 'customer'] as const) {
    const select = document.querySelector(`select[name=${name}]`) as HTMLSelectElement;
    const rows = await get<ReportRow[]>('report', reportParameters(filters, name, 200));
    for (const row of rows) if (row.key && ![...select.options].some((option) => option.value === row.key)) select.add(new Option(row.key, row.key));
  }
}

async function show(): Promise<void> {
  const name = location.hash.slice(1) || 'overview';
  const view = VIEWS[name] ?? overview;
  for (const link of document.querySelectorAll('#tabs a')) link.classList.toggle('active', link.getAttribute('href') === `#${name}`);
  const root = document.getElementById('view') as HTMLElement;
  root.replaceChildren();
  root.dataset['view'] = name;
  root.dataset['state'] = 'loading';
  try {
    await view(root, currentFilters());
  } catch (error) {
    showError(root)(error);
  }
  root.dataset['state'] = 'ready';
}

const tabs = document.getElementById('tabs') as HTMLElement;
for (const name of Object.keys(VIEWS)) {
  const link = document.createElement('a');
  link.href = `#${name}`;
  link.textContent = name;
  tabs.append(link);
}
window.addEventListener('hashchange', () => void show());
document.getElementById('filters')?.addEventListener('change', () => void show());
void fillFilterChoices().catch(() => undefined);
void show();
