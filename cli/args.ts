import { parseFormat, parseSizes, type OutputFormat } from '../shared/config';
import { ConfigError } from '../shared/errors';

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

export type FunctionName = 'resize' | 'predict';
const FUNCTIONS: readonly FunctionName[] = ['resize', 'predict'];

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
  return { files: positionals, prefix: normalizePrefix(str(options.prefix) ?? ''), bucket, aws: options.aws === true, wait: options.wait === true };
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
  if (fn !== undefined && !(FUNCTIONS as readonly string[]).includes(fn)) {
    throw new UsageError(`--function must be one of ${FUNCTIONS.join(', ')}, got ${JSON.stringify(fn)}`, 'replay');
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
    if (options.sizes !== undefined) result.sizes = parseSizes('--sizes', str(options.sizes)!);
    if (options.format !== undefined) result.format = parseFormat('--format', str(options.format)!);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message.replace('Invalid configuration ', ''), 'resize');
    throw error;
  }
  if (options.quality !== undefined) {
    const quality = Number(options.quality);
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
      throw new UsageError(`--quality must be a whole number from 1 to 100, got ${JSON.stringify(options.quality)}`, 'resize');
    }
    result.quality = quality;
  }
  return result;
}

export function parseStartArgs(argv: readonly string[]): { help?: boolean } {
  const { positionals, options } = parseArgv(argv, {}, 'start');
  if (positionals.length > 0) throw new UsageError(`start takes no arguments, got ${JSON.stringify(positionals[0])}`, 'start');
  return options.help ? { help: true } : {};
}

export const COMMANDS = ['start', 'upload', 'replay', 'resize', 'help'] as const;
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
