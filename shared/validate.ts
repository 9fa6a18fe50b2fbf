/**
 * The one way settings, manifest fields and command-line options are checked. Each caller names
 * the value and raises its own error type (ConfigError, ManifestError, UsageError) from `invalid`,
 * so every message reads alike: `<name>: expected <what>, got <actual>`.
 */
export type Invalid = (problem: string) => Error;

export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Strictly greater than this. */
  above?: number;
  /** Accept a decimal string (environment variables, command-line options). */
  fromString?: boolean;
}

function describeNumber(rule: NumberRule): string {
  const kind = rule.integer ? 'a whole number' : 'a number';
  const low = rule.above !== undefined ? `above ${rule.above}` : rule.min !== undefined ? `${rule.min}` : undefined;
  if (rule.above !== undefined) return rule.max === undefined ? `${kind} ${low}` : `${kind} ${low} and up to ${rule.max}`;
  if (low !== undefined && rule.max !== undefined) return `${kind} between ${low} and ${rule.max}`;
  if (low !== undefined) return `${kind} of at least ${low}`;
  return rule.max === undefined ? kind : `${kind} up to ${rule.max}`;
}

export function checkNumber(raw: unknown, rule: NumberRule, invalid: Invalid): number {
  const value = rule.fromString && typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : raw;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max) &&
    (rule.above === undefined || value > rule.above);
  if (!ok) throw invalid(`expected ${describeNumber(rule)}, got ${JSON.stringify(raw)}`);
  return value as number;
}

export function checkOneOf<T extends string>(raw: unknown, allowed: readonly T[], invalid: Invalid): T {
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw invalid(`expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}
