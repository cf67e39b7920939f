/**
 * A numeric benchmark knob from the environment, checked, so a typo fails the run instead of
 * silently measuring something else. Zero is allowed only where it means something (a fault off).
 */
export function setting(name: string, fallback: number, options: { allowZero?: boolean } = {}): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  const valid = Number.isFinite(value) && (options.allowZero ? value >= 0 : value > 0);
  if (!valid) throw new Error(`${name} must be a ${options.allowZero ? 'non-negative' : 'positive'} number, got ${raw}`);
  return value;
}
