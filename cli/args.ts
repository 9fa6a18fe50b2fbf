import { queueFunctions } from '../functions/registry';
import { type OutputFormat, parseFormat, parseSizes } from '../shared/config';
import { ConfigError } from '../shared/errors';
import { isKnownReason, REASON_CODES } from '../shared/operations/reasons';
import { checkNumber, type NumberRule } from '../shared/validate';

/** A mistake on the command line: the message says what to fix; main prints it with the command's usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = Record<string, 'string' | 'boolean'>;

export interface ParsedArgv {
  positionals: string[];
  options: Record<string, string | boolean>;
}

/**
 * A small argv parser: `--name value`, `--name=value`, boolean `--flag`, `-h` for `--help`, and
 * `--` to end options (so a file may be called `--odd`). Unknown options are errors, not ignored.
 */
export function parseArgv(argv: readonly string[], spec: OptionSpec, command?: string): ParsedArgv {
  const positionals: string[] = [];
  const options: Record<string, string | boolean> = {};
  const fullSpec: OptionSpec = { help: 'boolean', ...spec };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      options.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`, command);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const type = fullSpec[name];
    if (!type) throw new UsageError(`unknown option --${name}`, command);
    if (type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`, command);
      options[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`--${name} needs a value`, command);
      i++;
    }
    options[name] = value;
  }
  return { positionals, options };
}

const str = (value: string | boolean | undefined) => (typeof value === 'string' ? value : undefined);

/**
 * A numeric option through the one validation helper: `--name: expected <rule>, got <value>`.
 * Underscores group digits (`--images-per-month 2_500_000`). Undefined when the option is absent.
 */
export function numberOption(value: string | boolean | undefined, name: string, rule: NumberRule, command: string): number | undefined {
  if (value === undefined) return undefined;
  const raw = typeof value === 'string' ? value.replace(/_/g, '') : value;
  return checkNumber(
    raw,
    { ...rule, fromString: true },
    (problem) => new UsageError(`--${name}: ${problem.replace(/"[^"]*"$/, JSON.stringify(value))}`, command),
  );
}

export type FunctionName = string;
const FUNCTION_NAMES: readonly FunctionName[] = queueFunctions().map((fn) => fn.name);

export interface UploadArgs {
  files: string[];
  prefix: string;
  bucket?: string;
  /** Send to real AWS (the SDK's default endpoint and credentials) instead of the local stack. */
  aws: boolean;
  /** Wait until every thumbnail of every upload exists, and report how long it took. */
  wait: boolean;
}

/** `--prefix holiday` and `--prefix holiday/` both mean the folder `holiday/`. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

export function parseUploadArgs(argv: readonly string[]): UploadArgs & { help?: boolean } {
  const { positionals, options } = parseArgv(argv, { prefix: 'string', bucket: 'string', aws: 'boolean', wait: 'boolean' }, 'upload');
  if (options.help) return { help: true, files: [], prefix: '', aws: false, wait: false };
  if (positionals.length === 0) throw new UsageError('upload needs at least one file', 'upload');
  const bucket = str(options.bucket);
  if (bucket !== undefined && bucket.trim() === '') throw new UsageError('--bucket must not be empty', 'upload');
  return {
    files: positionals,
    prefix: normalizePrefix(str(options.prefix) ?? ''),
    bucket,
    aws: options.aws === true,
    wait: options.wait === true,
  };
}

export interface ReplayArgs {
  eventFile: string;
  functionName?: FunctionName;
}

export function parseReplayArgs(argv: readonly string[]): ReplayArgs & { help?: boolean } {
  const { positionals, options } = parseArgv(argv, { function: 'string' }, 'replay');
  if (options.help) return { help: true, eventFile: '' };
  if (positionals.length !== 1) throw new UsageError('replay needs exactly one event file', 'replay');
  const fn = str(options.function);
  if (fn !== undefined && !FUNCTION_NAMES.includes(fn)) {
    throw new UsageError(`--function must be one of ${FUNCTION_NAMES.join(', ')}, got ${JSON.stringify(fn)}`, 'replay');
  }
  return { eventFile: positionals[0], functionName: fn as FunctionName | undefined };
}

export interface ResizeArgs {
  file: string;
  outDir: string;
  sizes?: number[];
  format?: OutputFormat;
  quality?: number;
}

export function parseResizeArgs(argv: readonly string[]): ResizeArgs & { help?: boolean } {
  const { positionals, options } = parseArgv(argv, { out: 'string', sizes: 'string', format: 'string', quality: 'string' }, 'resize');
  if (options.help) return { help: true, file: '', outDir: '' };
  if (positionals.length !== 1) throw new UsageError('resize needs exactly one image file', 'resize');
  const outDir = str(options.out);
  if (!outDir) throw new UsageError('resize needs --out <dir>', 'resize');
  const result: ResizeArgs = { file: positionals[0], outDir };
  try {
    if (options.sizes !== undefined) result.sizes = parseSizes('--sizes', String(options.sizes));
    if (options.format !== undefined) result.format = parseFormat('--format', String(options.format));
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message.replace('Invalid configuration ', ''), 'resize');
    throw error;
  }
  const quality = numberOption(options.quality, 'quality', { integer: true, min: 1, max: 100 }, 'resize');
  if (quality !== undefined) result.quality = quality;
  return result;
}

export function parseStartArgs(argv: readonly string[]): { help?: boolean } {
  const { positionals, options } = parseArgv(argv, {}, 'start');
  if (positionals.length > 0) throw new UsageError(`start takes no arguments, got ${JSON.stringify(positionals[0])}`, 'start');
  return options.help ? { help: true } : {};
}

/** Every function's DLQ, by function name, and the delivery DLQ of the SNS subscriptions. */
export const DLQ_NAMES: readonly string[] = [...FUNCTION_NAMES, 'delivery'];
export type DlqName = string;
/** The DLQs a redrive can empty: the delivery DLQ's messages have no single source queue. */
export const REDRIVE_NAMES: readonly string[] = FUNCTION_NAMES;
type RedriveName = string;

/** Where the operations commands look: the local stack (default) or, with --aws, a deployed stage. */
export interface TargetArgs {
  aws: boolean;
  /** The deployed stage whose CloudFormation outputs name the buckets and queues (default dev). */
  stage?: string;
}

export interface DlqListArgs extends TargetArgs {
  action: 'list';
  queue?: DlqName;
  /** Read this queue instead of the stage's DLQs. */
  queueUrl?: string;
  json: boolean;
}

export interface DlqRedriveArgs extends TargetArgs {
  action: 'redrive';
  queue?: RedriveName;
  queueUrl?: string;
  reason?: string;
  dryRun: boolean;
}

export interface DlqPurgeArgs extends TargetArgs {
  action: 'purge';
  queue?: DlqName;
  queueUrl?: string;
  reason?: string;
  /** Only messages that failed at least this long ago. */
  olderThanMs?: number;
  dryRun: boolean;
}

export type DlqArgs = DlqListArgs | DlqRedriveArgs | DlqPurgeArgs;

const AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `12h`, `7d` in milliseconds. */
export function parseAge(raw: string, command: string): number {
  const match = /^(\d+)([smhd])$/.exec(raw.trim());
  if (!match) throw new UsageError(`--older-than must be a number and a unit (s, m, h, d), e.g. 7d; got ${JSON.stringify(raw)}`, command);
  return Number(match[1]) * AGE_UNITS[match[2]];
}

const TARGET_SPEC: OptionSpec = { aws: 'boolean', stage: 'string' };

export function targetArgs(options: Record<string, string | boolean>, command: string): TargetArgs {
  const stage = str(options.stage);
  if (stage !== undefined && options.aws !== true) throw new UsageError('--stage needs --aws (the local stack has one stage)', command);
  if (stage !== undefined && !/^[A-Za-z0-9-]+$/.test(stage))
    throw new UsageError(`--stage must be letters, digits and dashes, got ${JSON.stringify(stage)}`, command);
  return { aws: options.aws === true, ...(stage !== undefined && { stage }) };
}

function nonEmptyOption(options: Record<string, string | boolean>, name: string, command: string): string | undefined {
  const value = str(options[name]);
  if (value !== undefined && value.trim() === '') throw new UsageError(`--${name} must not be empty`, command);
  return value;
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  name: string,
  command: string,
  hint = '',
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}${hint}`, command);
  }
  return value as T;
}

/** `pipeline dlq list|redrive [options]`. */
export function parseDlqArgs(argv: readonly string[]): DlqArgs | { help: true } {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') return { help: true };
  if (action === 'list') {
    const { positionals, options } = parseArgv(rest, { ...TARGET_SPEC, queue: 'string', 'queue-url': 'string', json: 'boolean' }, 'dlq');
    if (options.help) return { help: true };
    if (positionals.length > 0) throw new UsageError(`dlq list takes no arguments, got ${JSON.stringify(positionals[0])}`, 'dlq');
    const queue = oneOf(str(options.queue), DLQ_NAMES, 'queue', 'dlq');
    const queueUrl = nonEmptyOption(options, 'queue-url', 'dlq');
    return { action, ...targetArgs(options, 'dlq'), ...(queue && { queue }), ...(queueUrl && { queueUrl }), json: options.json === true };
  }
  if (action === 'redrive') {
    const spec: OptionSpec = { ...TARGET_SPEC, queue: 'string', 'queue-url': 'string', reason: 'string', 'dry-run': 'boolean' };
    const { positionals, options } = parseArgv(rest, spec, 'dlq');
    if (options.help) return { help: true };
    if (positionals.length > 0) throw new UsageError(`dlq redrive takes no arguments, got ${JSON.stringify(positionals[0])}`, 'dlq');
    const hint =
      str(options.queue) === 'delivery' ? ' (delivery DLQ messages have no single source queue: upload the object again instead)' : '';
    const queue = oneOf(str(options.queue), REDRIVE_NAMES, 'queue', 'dlq', hint);
    const queueUrl = nonEmptyOption(options, 'queue-url', 'dlq');
    const reason = nonEmptyOption(options, 'reason', 'dlq');
    if (reason !== undefined && !isKnownReason(reason)) {
      throw new UsageError(`--reason ${JSON.stringify(reason)} is no reason code; known: ${REASON_CODES.join(', ')}`, 'dlq');
    }
    return {
      action,
      ...targetArgs(options, 'dlq'),
      ...(queue && { queue }),
      ...(queueUrl && { queueUrl }),
      ...(reason && { reason }),
      dryRun: options['dry-run'] === true,
    };
  }
  if (action === 'purge') {
    const spec: OptionSpec = {
      ...TARGET_SPEC,
      queue: 'string',
      'queue-url': 'string',
      reason: 'string',
      'older-than': 'string',
      'dry-run': 'boolean',
    };
    const { positionals, options } = parseArgv(rest, spec, 'dlq');
    if (options.help) return { help: true };
    if (positionals.length > 0) throw new UsageError(`dlq purge takes no arguments, got ${JSON.stringify(positionals[0])}`, 'dlq');
    const queue = oneOf(str(options.queue), DLQ_NAMES, 'queue', 'dlq');
    const queueUrl = nonEmptyOption(options, 'queue-url', 'dlq');
    const reason = nonEmptyOption(options, 'reason', 'dlq');
    if (reason !== undefined && !isKnownReason(reason)) {
      throw new UsageError(`--reason ${JSON.stringify(reason)} is no reason code; known: ${REASON_CODES.join(', ')}`, 'dlq');
    }
    const olderThan = str(options['older-than']);
    if (reason === undefined && olderThan === undefined) {
      throw new UsageError('dlq purge needs --reason CODE or --older-than AGE (or both): it never empties a DLQ blindly', 'dlq');
    }
    return {
      action,
      ...targetArgs(options, 'dlq'),
      ...(queue && { queue }),
      ...(queueUrl && { queueUrl }),
      ...(reason && { reason }),
      ...(olderThan !== undefined && { olderThanMs: parseAge(olderThan, 'dlq') }),
      dryRun: options['dry-run'] === true,
    };
  }
  throw new UsageError(`unknown dlq action ${JSON.stringify(action)}; actions: list, redrive, purge`, 'dlq');
}

const AUDIT_OUTPUTS = ['thumbnails', 'prediction', 'all'] as const;
type AuditOutputs = (typeof AUDIT_OUTPUTS)[number];
export const DEFAULT_GRACE_SECONDS = 120;
/** Repair messages per second unless --rate says otherwise: well under what the queues take, so a busy pipeline keeps up. */
export const DEFAULT_REPAIR_RATE = 20;

export interface AuditArgs extends TargetArgs {
  json: boolean;
  outputs: AuditOutputs;
  graceSeconds: number;
  /** Send the events of what is missing again (forcing the work); with dryRun, only say what would be sent. */
  repair: boolean;
  dryRun: boolean;
  /** At most this many repair messages. */
  limit?: number;
  /** Repair messages per second at most. */
  rate: number;
  uploadsBucket?: string;
  thumbnailsBucket?: string;
}

export function parseAuditArgs(argv: readonly string[]): AuditArgs | { help: true } {
  const spec: OptionSpec = {
    ...TARGET_SPEC,
    json: 'boolean',
    outputs: 'string',
    'grace-seconds': 'string',
    'uploads-bucket': 'string',
    'thumbnails-bucket': 'string',
    repair: 'boolean',
    'dry-run': 'boolean',
    limit: 'string',
    rate: 'string',
  };
  const { positionals, options } = parseArgv(argv, spec, 'audit');
  if (options.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`audit takes no arguments, got ${JSON.stringify(positionals[0])}`, 'audit');
  const outputs = oneOf(str(options.outputs), AUDIT_OUTPUTS, 'outputs', 'audit') ?? 'all';
  const graceSeconds = numberOption(options['grace-seconds'], 'grace-seconds', { integer: true, min: 0 }, 'audit') ?? DEFAULT_GRACE_SECONDS;
  const uploadsBucket = nonEmptyOption(options, 'uploads-bucket', 'audit');
  const thumbnailsBucket = nonEmptyOption(options, 'thumbnails-bucket', 'audit');
  const repair = options.repair === true;
  for (const name of ['dry-run', 'limit', 'rate'] as const) {
    if (options[name] !== undefined && !repair) throw new UsageError(`--${name} goes with --repair`, 'audit');
  }
  const limit = numberOption(options.limit, 'limit', { integer: true, min: 1 }, 'audit');
  return {
    ...targetArgs(options, 'audit'),
    json: options.json === true,
    outputs,
    graceSeconds,
    repair,
    dryRun: options['dry-run'] === true,
    ...(limit !== undefined && { limit }),
    rate: numberOption(options.rate, 'rate', { above: 0, max: 1000 }, 'audit') ?? DEFAULT_REPAIR_RATE,
    ...(uploadsBucket && { uploadsBucket }),
    ...(thumbnailsBucket && { thumbnailsBucket }),
  };
}

export interface ReconcileArgs extends TargetArgs {
  json: boolean;
  dryRun: boolean;
  /** Uploads judged in this run at most (default: the reconciler's maxObjectsPerRun). */
  maxObjects?: number;
  /** Uploads younger than this count as pending (default: the reconciler's graceSeconds). */
  graceSeconds?: number;
}

/** `pipeline reconcile [--max-objects N] [--grace-seconds N] [--dry-run] [--json]`: the local stack only. */
export function parseReconcileArgs(argv: readonly string[]): ReconcileArgs | { help: true } {
  const spec: OptionSpec = { json: 'boolean', 'dry-run': 'boolean', 'max-objects': 'string', 'grace-seconds': 'string' };
  const { positionals, options } = parseArgv(argv, spec, 'reconcile');
  if (options.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`reconcile takes no arguments, got ${JSON.stringify(positionals[0])}`, 'reconcile');
  const maxObjects = numberOption(options['max-objects'], 'max-objects', { integer: true, min: 1 }, 'reconcile');
  const graceSeconds = numberOption(options['grace-seconds'], 'grace-seconds', { integer: true, min: 0 }, 'reconcile');
  return {
    aws: false,
    json: options.json === true,
    dryRun: options['dry-run'] === true,
    ...(maxObjects !== undefined && { maxObjects }),
    ...(graceSeconds !== undefined && { graceSeconds }),
  };
}

export interface CatalogueRebuildArgs extends TargetArgs {
  action: 'rebuild';
  /** Print what would change, change nothing. */
  dryRun: boolean;
  json: boolean;
}

/** `pipeline catalogue rebuild [--dry-run] [--json] [--aws [--stage S]]`. */
export function parseCatalogueArgs(argv: readonly string[]): CatalogueRebuildArgs | { help: true } {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') return { help: true };
  if (action !== 'rebuild') throw new UsageError(`unknown catalogue action ${JSON.stringify(action)}; actions: rebuild`, 'catalogue');
  const { positionals, options } = parseArgv(rest, { ...TARGET_SPEC, 'dry-run': 'boolean', json: 'boolean' }, 'catalogue');
  if (options.help) return { help: true };
  if (positionals.length > 0)
    throw new UsageError(`catalogue rebuild takes no arguments, got ${JSON.stringify(positionals[0])}`, 'catalogue');
  return { action, ...targetArgs(options, 'catalogue'), dryRun: options['dry-run'] === true, json: options.json === true };
}

export interface PredictArgs {
  file: string;
  /** A model folder (model.onnx + manifest.json) or an s3:// URI; default: the committed demo model. */
  model?: string;
}

export function parsePredictArgs(argv: readonly string[]): PredictArgs & { help?: boolean } {
  const { positionals, options } = parseArgv(argv, { model: 'string' }, 'predict');
  if (options.help) return { file: '', help: true };
  if (positionals.length !== 1) throw new UsageError('predict needs exactly one image file', 'predict');
  return { file: positionals[0], ...(typeof options.model === 'string' && { model: options.model }) };
}

export interface ModelUploadArgs {
  dir: string;
  name?: string;
  version?: string;
  bucket?: string;
  /** Real AWS (default credentials and region) instead of the local stack. */
  aws?: boolean;
}

export interface ModelImportArgs {
  /** A TF.js Layers model: model.json + weight shards, or nsfwjs's model.min.js + group1-shard*.min.js. */
  dir: string;
  out: string;
  labels: string[];
  name: string;
  version: string;
  fit: 'fill' | 'cover';
}

export type ModelArgs = ({ action: 'upload' } & ModelUploadArgs) | ({ action: 'import' } & ModelImportArgs);

/** `pipeline model upload <dir> ...` and `pipeline model import <dir> --out <dir> --labels ...`. */
export function parseModelArgs(argv: readonly string[]): ModelArgs | { help: true } {
  const spec: OptionSpec = {
    name: 'string',
    version: 'string',
    bucket: 'string',
    aws: 'boolean',
    out: 'string',
    labels: 'string',
    fit: 'string',
  };
  const { positionals, options } = parseArgv(argv, spec, 'model');
  if (options.help) return { help: true };
  const [action, ...rest] = positionals;
  const text = (name: string) => (typeof options[name] === 'string' ? { [name]: options[name] as string } : {});
  const only = (allowed: string[]) => {
    const other = Object.keys(options).find((name) => !allowed.includes(name));
    if (other) throw new UsageError(`model ${action} takes no --${other}`, 'model');
  };
  if (action === 'upload') {
    only(['name', 'version', 'bucket', 'aws']);
    if (rest.length !== 1) throw new UsageError('model upload needs exactly one model folder', 'model');
    if (options.aws && typeof options.bucket !== 'string')
      throw new UsageError('model upload --aws needs --bucket (the stack output ModelsBucketName)', 'model');
    return { action, dir: rest[0], ...text('name'), ...text('version'), ...text('bucket'), ...(options.aws === true && { aws: true }) };
  }
  if (action === 'import') {
    only(['name', 'version', 'out', 'labels', 'fit']);
    if (rest.length !== 1) throw new UsageError('model import needs exactly one TF.js model folder', 'model');
    const out = nonEmptyOption(options, 'out', 'model');
    if (!out) throw new UsageError('model import needs --out <dir>', 'model');
    const labels = (str(options.labels) ?? '').split(',').map((label) => label.trim());
    if (labels.length < 2 || labels.some((label) => label === '')) {
      throw new UsageError('model import needs --labels with the class names in the output order, e.g. --labels cat,dog', 'model');
    }
    const fit = oneOf(str(options.fit), ['fill', 'cover'] as const, 'fit', 'model') ?? 'fill';
    return { action, dir: rest[0], out, labels, name: str(options.name) ?? 'imported', version: str(options.version) ?? '1', fit };
  }
  throw new UsageError(`model needs an action: upload or import (got ${JSON.stringify(action ?? '')})`, 'model');
}

const COMMANDS = [
  'start',
  'upload',
  'replay',
  'resize',
  'predict',
  'model',
  'dlq',
  'audit',
  'catalogue',
  'reconcile',
  'moderation',
  'bench',
  'cost',
  'help',
] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Splits `pipeline <command> [args]`; no command, `help`, `--help` and `-h` all mean help. */
export function parseCommand(argv: readonly string[]): { command: CommandName; args: string[]; topic?: string } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    return { command: 'help', args: [], topic: first === 'help' ? rest[0] : undefined };
  }
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command ${JSON.stringify(first)}; commands: ${COMMANDS.join(', ')}`);
  }
  return { command: first as CommandName, args: rest };
}
