import type { AnomalyAlert } from './anomaly-monitor.ts';

function amount(alert: AnomalyAlert, value: number): string {
  switch (alert.metric) {
    case 'cost_usd':
      return `$${value.toFixed(2)}/h`;
    case 'cost_per_request_usd':
      return `$${value.toFixed(value < 0.01 ? 5 : 4)}/request`;
    case 'cache_hit_rate':
      return `${Math.round(value * 100)}% cache hits`;
    default:
      return `${Math.round(value).toLocaleString('en-US')} tokens/h`;
  }
}

const KIND_TITLES: Record<AnomalyAlert['kind'], string> = {
  spike: 'cost spike',
  level_shift: 'sustained cost increase',
  cost_per_request: 'cost per request regression',
  cache_hit_collapse: 'cache hit collapse',
};

/** One line naming the series, expected and observed, and the likely cause. */
export function describeAlert(alert: AnomalyAlert): string {
  const series = `${alert.dimension === 'total' ? 'all traffic' : `${alert.dimension} ${alert.key ?? '(not attributed)'}`}`;
  const factor = alert.metric === 'cache_hit_rate' ? '' : ` (${alert.severity.toFixed(1)}x)`;
  return `${KIND_TITLES[alert.kind]} in ${series} at ${alert.hour.slice(0, 13)}:00Z: expected ${amount(alert, alert.expected)}, observed ${amount(alert, alert.observed)}${factor}; likely cause: ${alert.cause}`;
}

/** Slack incoming-webhook JSON (`text` plus blocks); other receivers get the same alerts under `costgate`. */
export function slackPayload(alerts: readonly AnomalyAlert[]): Record<string, unknown> {
  const lines = alerts.map(describeAlert);
  const text = `costgate: ${alerts.length} cost anomal${alerts.length === 1 ? 'y' : 'ies'}\n${lines.map((line) => `• ${line}`).join('\n')}`;
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `costgate: ${alerts.length} cost anomal${alerts.length === 1 ? 'y' : 'ies'}` } },
      ...lines.slice(0, 40).map((line) => ({ type: 'section', text: { type: 'mrkdwn', text: line } })),
    ],
    costgate: { alerts },
  };
}

/** Posts to a webhook (5 s timeout) and writes each alert to the log; a failing webhook is logged, never thrown. */
export function createNotifier(options: { webhookUrl?: string | undefined; log: (line: string) => void; fetch?: typeof fetch }) {
  const send = options.fetch ?? fetch;
  return async (alerts: AnomalyAlert[]): Promise<void> => {
    for (const alert of alerts) options.log(`anomaly: ${describeAlert(alert)}`);
    if (!options.webhookUrl) return;
    try {
      const response = await send(options.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(slackPayload(alerts)),
        signal: AbortSignal.timeout(5000),
      });
      await response.arrayBuffer();
      if (!response.ok) options.log(`anomaly webhook answered ${response.status}`);
    } catch (error) {
      options.log(`anomaly webhook failed: ${(error as Error).message}`);
    }
  };
}
