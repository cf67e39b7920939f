/** A user mistake on the command line: printed as one line, exit code 2. */
export class CliError extends Error {
  override name = 'CliError';
}

export function parseInteger(value: string | undefined, flag: string, minimum = 0): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < minimum) throw new CliError(`${flag} must be an integer >= ${minimum}, got "${value}"`);
  return parsed;
}

/** Accepts an ISO date/time or a duration back from now: 30m, 24h, 7d. */
export function parseTime(value: string | undefined, flag: string, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)(m|h|d|w)$/.exec(value);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2] as 'm' | 'h' | 'd' | 'w'];
    return now - Number(relative[1]) * unit;
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new CliError(`${flag} must be an ISO date (2026-12-01, 2026-12-01T10:00Z) or a duration (24h, 7d), got "${value}"`);
  return parsed;
}
