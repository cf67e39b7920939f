import { ledgerLocalDir } from '../ledger/open-ledger.ts';
import { parseArgs } from 'node:util';
import { formatPrefixAudit, prefixAuditRows } from '../analytics/prompt-cache/prefix-audit-report.ts';
import { loadConfig } from '../config/load-config.ts';
import { createFileStateStore, plannerStatePath } from '../pipeline/prompt-cache/planner-state-file.ts';
import { AUDIT_OUTPUT_HELP, auditOutputCommand } from './audit-output.ts';
import { CliError } from './cli-error.ts';

export const AUDIT_HELP = `costgate audit prefixes [--ledger PATH] [--config FILE] [--format table|json]
  Features whose prompt prefix is not stable from call to call (a timestamp, date, id, email, user
  name or number inside the system prompt or tools), with a redacted example of what sits at the
  divergence point, the tokens that could have been cached and the dollars lost per day. Read from
  the prompt-cache planner's statistics beside the ledger (written every 30 s by a running gateway);
  the planner's mode must be observe or auto for the features to audit.

${AUDIT_OUTPUT_HELP}`;

export async function auditCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'output') return auditOutputCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ledger: { type: 'string' },
      config: { type: 'string' },
      format: { type: 'string', default: 'table' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [what, ...rest] = positionals;
  if (what !== 'prefixes' || rest.length > 0) throw new CliError(`usage: costgate audit prefixes (got "${positionals.join(' ')}")`);
  const format = values.format;
  if (format !== 'table' && format !== 'json') throw new CliError(`--format must be table or json, got "${format}"`);
  const { ledger } = loadConfig(values.config).config;
  const ledgerPath = values.ledger ?? ledger.path;
  const path = plannerStatePath(ledgerLocalDir(ledgerPath, ledger.localDir));
  const state = createFileStateStore(path).load();
  if (!state) {
    throw new CliError(`no prompt-cache statistics at ${path}: set promptCache.default.mode (or a feature's mode) to observe or auto and send traffic`);
  }
  // As of the snapshot: a loss rate measured up to when the statistics were written.
  process.stdout.write(formatPrefixAudit(prefixAuditRows(state, state.savedAt), format));
}
