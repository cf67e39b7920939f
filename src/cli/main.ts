import { ConfigError, hasProviderKeys } from '../config/load-config.ts';
import { LedgerLockedError, LedgerNotFoundError } from '../ledger/duckdb/duckdb-ledger.ts';
import { AUDIT_HELP, auditCommand } from './audit.ts';
import { BATCH_HELP, batchCommand } from './batch.ts';
import { CACHE_HELP, cacheCommand } from './cache.ts';
import { CliError } from './cli-error.ts';
import { DEMO_HELP, demoCommand, runDemo } from './demo.ts';
import { EMULATE_HELP, emulateCommand } from './emulate.ts';
import { KEYS_HELP, keysCommand } from './keys.ts';
import { PRICES_HELP, pricesCommand } from './prices.ts';
import { ALERTS_HELP, alertsCommand } from './alerts.ts';
import { EXPORT_HELP, exportCommand, REPORT_ANALYTICS_HELP, SAVINGS_HELP, savingsCommand } from './analytics-commands.ts';
import { BREAKEVEN_HELP, breakevenCommand } from './breakeven.ts';
import { REPORT_HELP, reportCommand } from './report.ts';
import { ROUTER_HELP, routerCommand } from './router.ts';
import { SERVE_HELP, serveCommand } from './serve.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  serve: { run: serveCommand, help: SERVE_HELP },
  emulate: { run: emulateCommand, help: EMULATE_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  report: { run: reportCommand, help: `${REPORT_HELP}\n${REPORT_ANALYTICS_HELP}` },
  savings: { run: savingsCommand, help: SAVINGS_HELP },
  breakeven: { run: breakevenCommand, help: BREAKEVEN_HELP },
  alerts: { run: alertsCommand, help: ALERTS_HELP },
  export: { run: exportCommand, help: EXPORT_HELP },
  prices: { run: pricesCommand, help: PRICES_HELP },
  router: { run: routerCommand, help: ROUTER_HELP },
  cache: { run: cacheCommand, help: CACHE_HELP },
  batch: { run: batchCommand, help: BATCH_HELP },
  audit: { run: auditCommand, help: AUDIT_HELP },
  keys: { run: keysCommand, help: KEYS_HELP },
  start: {
    // The quick start: the real gateway when provider keys are set, otherwise the demo.
    run: async (argv) => (hasProviderKeys() ? serveCommand(argv) : runDemo({ keepRunning: true })),
    help: 'costgate start   serve when provider keys are set, else the demo (kept running)',
  },
};

function usage(): string {
  return ['costgate: an LLM API gateway that cuts the bill and proves every saving', '', ...Object.values(COMMANDS).map((command) => command.help), ''].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new CliError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known =
    error instanceof CliError ||
    error instanceof ConfigError ||
    error instanceof LedgerNotFoundError ||
    error instanceof LedgerLockedError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`costgate: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exitCode = known ? 2 : 1;
});
