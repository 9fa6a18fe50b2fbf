import declared from '../pipeline.config.json';
import { dlqUrlVariable, ENV } from './environment';
import { ConfigError } from './errors';
import { MODERATION_ACTIONS, type ModerationPolicy } from './moderation/policy';
import { checkNumber, checkOneOf } from './validate';

/**
 * One configuration source: pipeline.config.json declares names, sizes, formats and limits;
 * serverless.yml and the local stack read the same file. At run time the environment may
 * override a value (serverless.yml sets the AWS resource names), and everything is validated
 * once, at cold start, with an error that names the bad setting.
 */
export const OUTPUT_FORMATS = ['webp', 'jpeg', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ThumbnailConfig {
  sizes: number[];
  format: OutputFormat;
  quality: number;
}

export interface LimitsConfig {
  maxInputBytes: number;
  maxInputPixels: number;
  maxFrames: number;
}

export interface PredictionConfig {
  /** `s3://bucket/prefix/` of the active model, unless an SSM parameter names it. */
  modelUri: string;
  /** SSM parameter holding the model URI, so switching model is a parameter change (read with caching). */
  modelUriParameter?: string;
  topK: number;
  /** How often, at most, the model object's ETag is re-checked for a hot swap. */
  modelRefreshSeconds: number;
  threads: number;
}

/**
 * How the API decides who calls it: `jwt` (every AWS stage) trusts the claims API Gateway's JWT
 * authorizer verified; `local` (the local stack, bound to 127.0.0.1) treats every caller as an operator.
 */
export const API_AUTH_MODES = ['jwt', 'local'] as const;
export type ApiAuthMode = (typeof API_AUTH_MODES)[number];

export interface ApiConfig {
  auth: ApiAuthMode;
  /** Presigned uploads are made under this prefix of the uploads bucket only. */
  uploadPrefix: string;
  uploadUrlExpirySeconds: number;
  thumbnailUrlExpirySeconds: number;
  pageSize: number;
  maxPageSize: number;
  /** A caller is an operator when its token's `scope` holds `scope` or its `cognito:groups` holds `group`. */
  admin: { scope: string; group: string };
}

export interface PipelineConfig {
  buckets: { uploads: string; thumbnails: string; models: string };
  /** The image catalogue's DynamoDB table. */
  catalogue: { table: string };
  api: ApiConfig;
  thumbnails: ThumbnailConfig;
  limits: LimitsConfig;
  prediction: PredictionConfig;
  moderation: ModerationPolicy;
  /** Redrive and retention of every function's queue and DLQ. */
  queues: QueueSettings;
  /** Sizing (and, for queue-fed functions, batching) per function, as declared. */
  functions: Record<string, FunctionSettings>;
}

interface QueueSettings {
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  dlqRetentionSeconds: number;
}

/** A function's sizing (pipeline.config.json `functions.<name>`). */
export interface FunctionSettings {
  memoryMb: number;
  timeoutSeconds: number;
  reservedConcurrency: number;
}

/** A queue-fed function's sizing and batching. */
export interface QueueFunctionSettings extends FunctionSettings {
  batchSize: number;
  batchWindowSeconds: number;
}

const isQueueFunctionSettings = (settings: FunctionSettings): settings is QueueFunctionSettings => 'batchSize' in settings;

export type DeclaredConfig = typeof declared;
export const declaredConfig: DeclaredConfig = declared;

type Env = Record<string, string | undefined>;

const MAX_THUMBNAIL_EDGE = 16383; // WebP's largest encodable edge

function positiveInteger(setting: string, raw: unknown, max?: number): number {
  return checkNumber(raw, { integer: true, min: 1, max, fromString: true }, (problem) => new ConfigError(setting, problem));
}

function nonEmpty(setting: string, raw: string): string {
  if (raw.trim() === '') throw new ConfigError(setting, 'must not be empty');
  return raw.trim();
}

export function parseSizes(setting: string, raw: string | number[]): number[] {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  if (items.length === 0 || (typeof raw === 'string' && raw.trim() === '')) {
    throw new ConfigError(setting, 'needs at least one size');
  }
  const sizes = items.map((item) => positiveInteger(setting, item, MAX_THUMBNAIL_EDGE));
  if (new Set(sizes).size !== sizes.length) throw new ConfigError(setting, `sizes repeat: ${sizes.join(',')}`);
  return [...sizes].sort((a, b) => b - a);
}

export function parseFormat(setting: string, raw: string): OutputFormat {
  const format = raw.trim().toLowerCase();
  return checkOneOf(format, OUTPUT_FORMATS, (problem) => new ConfigError(setting, problem));
}

/**
 * Label thresholds: `Porn=0.8,Sexy=0.9` (or an object from the file), `off` for none. Labels are
 * case-sensitive, as the model's manifest spells them; each threshold is in (0, 1].
 */
export function parseModerationFlag(setting: string, raw: string | Record<string, unknown>): Record<string, number> {
  if (typeof raw === 'string' && raw.trim().toLowerCase() === 'off') return {};
  const entries =
    typeof raw === 'string'
      ? raw.split(',').map((item) => {
          const [label, threshold, ...rest] = item.split('=').map((part) => part.trim());
          if (!label || threshold === undefined || rest.length > 0) {
            throw new ConfigError(setting, `expected off or Label=threshold,... (e.g. Porn=0.8,Sexy=0.9), got ${JSON.stringify(raw)}`);
          }
          return [label, threshold] as const;
        })
      : Object.entries(raw);
  const flag: Record<string, number> = {};
  for (const [label, threshold] of entries) {
    if (label in flag) throw new ConfigError(setting, `label ${label} is given twice`);
    flag[label] = checkNumber(
      threshold,
      { above: 0, max: 1, fromString: true },
      (problem) => new ConfigError(`${setting} ${label}`, problem),
    );
  }
  return flag;
}

/** `s3://bucket/prefix/`, normalised to end with a slash. */
export function parseModelUri(setting: string, raw: string): string {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(raw.trim());
  if (!match) throw new ConfigError(setting, `expected s3://<bucket>/<prefix>/, got ${JSON.stringify(raw)}`);
  const prefix = match[2].replace(/\/*$/, '/');
  return `s3://${match[1]}/${prefix === '/' ? '' : prefix}`;
}

export function loadConfig(env: Env = process.env, base: DeclaredConfig = declaredConfig): PipelineConfig {
  const pick = (name: string, fallback: string | number | number[]) => env[name] ?? fallback;
  const integer = (name: string, fallback: number, max?: number) => positiveInteger(name, pick(name, fallback), max);
  const buckets = {
    uploads: nonEmpty(ENV.uploadsBucket, String(pick(ENV.uploadsBucket, base.local.buckets.uploads))),
    thumbnails: nonEmpty(ENV.thumbnailsBucket, String(pick(ENV.thumbnailsBucket, base.local.buckets.thumbnails))),
    models: nonEmpty(ENV.modelsBucket, String(pick(ENV.modelsBucket, base.local.buckets.models))),
  };
  if (buckets.uploads === buckets.thumbnails) {
    throw new ConfigError(ENV.thumbnailsBucket, `must differ from ${ENV.uploadsBucket}, or thumbnails would trigger themselves`);
  }
  const { api } = base;
  const maxUploadExpiry = 900; // the API promises presigned requests that expire within 15 minutes
  return {
    buckets,
    catalogue: { table: nonEmpty(ENV.imagesTable, String(pick(ENV.imagesTable, base.local.tables.catalogue))) },
    api: {
      auth: checkOneOf(String(pick(ENV.apiAuth, 'jwt')).trim(), API_AUTH_MODES, (problem) => new ConfigError(ENV.apiAuth, problem)),
      uploadPrefix: api.uploadPrefix,
      uploadUrlExpirySeconds: positiveInteger('api.uploadUrlExpirySeconds', api.uploadUrlExpirySeconds, maxUploadExpiry),
      thumbnailUrlExpirySeconds: positiveInteger('api.thumbnailUrlExpirySeconds', api.thumbnailUrlExpirySeconds, 7 * 24 * 3600),
      pageSize: positiveInteger('api.pageSize', api.pageSize, api.maxPageSize),
      maxPageSize: positiveInteger('api.maxPageSize', api.maxPageSize, 1000),
      admin: api.admin,
    },
    thumbnails: {
      sizes: parseSizes(ENV.thumbnailSizes, pick(ENV.thumbnailSizes, base.thumbnails.sizes) as string | number[]),
      format: parseFormat(ENV.thumbnailFormat, String(pick(ENV.thumbnailFormat, base.thumbnails.format))),
      quality: integer(ENV.thumbnailQuality, base.thumbnails.quality, 100),
    },
    prediction: {
      modelUri: parseModelUri(ENV.modelUri, String(pick(ENV.modelUri, base.prediction.modelUri))),
      modelUriParameter: env[ENV.modelUriParameter] || undefined,
      topK: integer(ENV.predictionTopK, base.prediction.topK, 1000),
      modelRefreshSeconds: integer(ENV.modelRefreshSeconds, base.prediction.modelRefreshSeconds),
      threads: integer(ENV.predictionThreads, base.prediction.threads, 64),
    },
    moderation: {
      flag: parseModerationFlag(ENV.moderationFlag, env[ENV.moderationFlag] ?? base.moderation.flag),
      action: checkOneOf(
        String(pick(ENV.moderationAction, base.moderation.action)).trim(),
        MODERATION_ACTIONS,
        (problem) => new ConfigError(ENV.moderationAction, problem),
      ),
    },
    limits: {
      maxInputBytes: integer(ENV.maxInputBytes, base.limits.maxInputBytes),
      maxInputPixels: integer(ENV.maxInputPixels, base.limits.maxInputPixels),
      maxFrames: integer(ENV.maxFrames, base.limits.maxFrames),
    },
    queues: base.queues,
    functions: base.functions,
  };
}

/** The queue-fed functions' settings (those with batching) of pipeline.config.json. */
export function queueFunctionSettings(base: DeclaredConfig = declaredConfig): [string, QueueFunctionSettings][] {
  return Object.entries(base.functions as Record<string, FunctionSettings>).filter((entry): entry is [string, QueueFunctionSettings] =>
    isQueueFunctionSettings(entry[1]),
  );
}

/** The DLQ a function sends permanent failures to; fails its cold start, naming the variable, when unset. */
export function deadLetterQueueUrl(functionName: string, env: Env = process.env): string {
  const name = dlqUrlVariable(functionName);
  return requireSetting(env[name], name);
}

/**
 * Checks the deploy-time settings that AWS guidance ties together; serverless.yml reads them verbatim,
 * so a bad edit fails the test suite instead of a deploy.
 */
export function validateDeclaredConfig(base: DeclaredConfig = declaredConfig): void {
  for (const [name, fn] of queueFunctionSettings(base)) {
    positiveInteger(`functions.${name}.timeoutSeconds`, fn.timeoutSeconds, 900);
    positiveInteger(`functions.${name}.batchSize`, fn.batchSize, 10000);
    if (base.queues.visibilityTimeoutSeconds < 6 * fn.timeoutSeconds) {
      throw new ConfigError(
        'queues.visibilityTimeoutSeconds',
        `${base.queues.visibilityTimeoutSeconds}s is under 6 x functions.${name}.timeoutSeconds (${fn.timeoutSeconds}s)`,
      );
    }
    if (fn.batchSize > 10 && !(fn.batchWindowSeconds > 0)) {
      throw new ConfigError(`functions.${name}.batchWindowSeconds`, 'SQS needs a batching window when batchSize exceeds 10');
    }
  }
  const { reconcile } = base;
  // The alarm on missing uploads spans two schedule periods, and CloudWatch evaluates at most a day.
  positiveInteger('reconcile.rateMinutes', reconcile.rateMinutes, 720);
  positiveInteger('reconcile.maxObjectsPerRun', reconcile.maxObjectsPerRun);
  positiveInteger('reconcile.pageSize', reconcile.pageSize, 1000);
  positiveInteger('reconcile.maxRepairsPerRun', reconcile.maxRepairsPerRun);
  positiveInteger('reconcile.repairRatePerSecond', reconcile.repairRatePerSecond);
  positiveInteger('reconcile.maxDlqMessages', reconcile.maxDlqMessages);
  if (reconcile.reserveSeconds >= base.functions.reconcile.timeoutSeconds) {
    throw new ConfigError(
      'reconcile.reserveSeconds',
      `${reconcile.reserveSeconds}s leaves no time to page within functions.reconcile.timeoutSeconds (${base.functions.reconcile.timeoutSeconds}s)`,
    );
  }
  if (base.queues.maxReceiveCount < 5) {
    throw new ConfigError('queues.maxReceiveCount', `must be at least 5, got ${base.queues.maxReceiveCount}`);
  }
  parseSizes('thumbnails.sizes', base.thumbnails.sizes);
  parseModerationFlag('moderation.flag', base.moderation.flag);
  parseFormat('thumbnails.format', base.thumbnails.format);
  if (!/^[a-z0-9][a-z0-9!_.*'()-]*\/$/i.test(base.api.uploadPrefix)) {
    throw new ConfigError('api.uploadPrefix', `must be a key prefix ending in /, got ${JSON.stringify(base.api.uploadPrefix)}`);
  }
}

/** For settings a function cannot run without; fails the cold start with the setting's name. */
export function requireSetting(value: string | undefined, setting: string): string {
  if (!value) throw new ConfigError(setting, 'is required but not set');
  return value;
}
