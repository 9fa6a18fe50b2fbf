import declared from '../pipeline.config.json';
import { ConfigError } from './errors';

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

export interface PipelineConfig {
  buckets: { uploads: string; thumbnails: string; models: string };
  dlqUrls: { resize?: string; predict?: string };
  thumbnails: ThumbnailConfig;
  limits: LimitsConfig;
  prediction: PredictionConfig;
}

/** A function's sizing and batching (pipeline.config.json `functions.<name>`). */
export interface FunctionSettings {
  memoryMb: number;
  timeoutSeconds: number;
  batchSize: number;
  batchWindowSeconds: number;
  reservedConcurrency: number;
}

export type DeclaredConfig = typeof declared;
export const declaredConfig: DeclaredConfig = declared;

type Env = Record<string, string | undefined>;

const MAX_THUMBNAIL_EDGE = 16383; // WebP's largest encodable edge

function positiveInteger(setting: string, raw: string | number, max = Number.MAX_SAFE_INTEGER): number {
  const value = typeof raw === 'number' ? raw : Number(raw.trim());
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new ConfigError(setting, `expected a whole number between 1 and ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
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
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(setting, `expected one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return format as OutputFormat;
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
  const buckets = {
    uploads: nonEmpty('UPLOADS_BUCKET', String(pick('UPLOADS_BUCKET', base.local.buckets.uploads))),
    thumbnails: nonEmpty('THUMBNAILS_BUCKET', String(pick('THUMBNAILS_BUCKET', base.local.buckets.thumbnails))),
    models: nonEmpty('MODELS_BUCKET', String(pick('MODELS_BUCKET', base.local.buckets.models))),
  };
  if (buckets.uploads === buckets.thumbnails) {
    throw new ConfigError('THUMBNAILS_BUCKET', 'must differ from UPLOADS_BUCKET, or thumbnails would trigger themselves');
  }
  return {
    buckets,
    dlqUrls: { resize: env.RESIZE_DLQ_URL || undefined, predict: env.PREDICT_DLQ_URL || undefined },
    thumbnails: {
      sizes: parseSizes('THUMBNAIL_SIZES', pick('THUMBNAIL_SIZES', base.thumbnails.sizes) as string | number[]),
      format: parseFormat('THUMBNAIL_FORMAT', String(pick('THUMBNAIL_FORMAT', base.thumbnails.format))),
      quality: positiveInteger('THUMBNAIL_QUALITY', pick('THUMBNAIL_QUALITY', base.thumbnails.quality) as string | number, 100),
    },
    prediction: {
      modelUri: parseModelUri('MODEL_URI', String(pick('MODEL_URI', base.prediction.modelUri))),
      modelUriParameter: env.MODEL_URI_PARAMETER || undefined,
      topK: positiveInteger('PREDICTION_TOP_K', pick('PREDICTION_TOP_K', base.prediction.topK) as string | number, 1000),
      modelRefreshSeconds: positiveInteger(
        'MODEL_REFRESH_SECONDS',
        pick('MODEL_REFRESH_SECONDS', base.prediction.modelRefreshSeconds) as string | number,
      ),
      threads: positiveInteger('PREDICTION_THREADS', pick('PREDICTION_THREADS', base.prediction.threads) as string | number, 64),
    },
    limits: {
      maxInputBytes: positiveInteger('MAX_INPUT_BYTES', pick('MAX_INPUT_BYTES', base.limits.maxInputBytes) as string | number),
      maxInputPixels: positiveInteger('MAX_INPUT_PIXELS', pick('MAX_INPUT_PIXELS', base.limits.maxInputPixels) as string | number),
      maxFrames: positiveInteger('MAX_FRAMES', pick('MAX_FRAMES', base.limits.maxFrames) as string | number),
    },
  };
}

/**
 * Checks the deploy-time settings that AWS guidance ties together; serverless.yml reads them verbatim,
 * so a bad edit fails the test suite instead of a deploy.
 */
export function validateDeclaredConfig(base: DeclaredConfig = declaredConfig): void {
  for (const [name, fn] of Object.entries(base.functions)) {
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
  if (base.queues.maxReceiveCount < 5) {
    throw new ConfigError('queues.maxReceiveCount', `must be at least 5, got ${base.queues.maxReceiveCount}`);
  }
  parseSizes('thumbnails.sizes', base.thumbnails.sizes);
  parseFormat('thumbnails.format', base.thumbnails.format);
}

/** For settings a function cannot run without; fails the cold start with the setting's name. */
export function requireSetting(value: string | undefined, setting: string): string {
  if (!value) throw new ConfigError(setting, 'is required but not set');
  return value;
}
