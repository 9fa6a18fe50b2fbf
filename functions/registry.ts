import path from 'node:path';
import type { RouteAccess } from '../shared/api/auth';
import { declaredConfig, type FunctionSettings, type QueueFunctionSettings } from '../shared/config';
import type { MetricName } from '../shared/observability';
import { type OutputFamilyName, PREDICTIONS_PREFIX } from '../shared/outputs';

/**
 * Every Lambda function of the pipeline, declared once. serverless.yml's functions and their
 * resources (subscription, queue, DLQ, queue policies, role, alarms, outputs), the local stack's
 * queues and pollers, the CLI's choices, the audit's output families, the cold-start benchmark and
 * the cost model are all derived from this list. Adding a function is a handler and an entry here.
 */

/** Buckets a function may be granted access to; `access` lists what it may do with the objects. */
export type BucketRole = 'uploads' | 'thumbnails' | 'models';

export type Permission =
  /**
   * Objects of a bucket (optionally only under some prefixes): `read` is GetObject(+Version),
   * `overwrite` Get/Put, `write` Get/Put/Delete; `put` (PutObject: what a presigned upload is
   * made with) and `delete` (DeleteObject) alone; `metadata` is GetObject alone (what a HEAD needs);
   * `list` is ListBucket and nothing else.
   */
  | {
      sid: string;
      bucket: BucketRole;
      access: 'read' | 'metadata' | 'overwrite' | 'write' | 'put' | 'delete' | 'list';
      prefixes?: readonly string[];
    }
  /** The stack's own SSM parameters (`/<service>/<stage>/*`), read-only. */
  | { sid: string; parameters: 'read' }
  /** One SSM parameter of the stack (`/<service>/<stage>/<parameter>`), created by the stack: GetParameter, and PutParameter when `read-write`. */
  | { sid: string; parameter: StackParameter; access: 'read' | 'read-write' }
  /**
   * The image catalogue table: `read` is GetItem and Query (its indexes too), `write` GetItem,
   * PutItem and DeleteItem (the optimistic, conditional writes of shared/catalogue). A function
   * with either gets the table's name in its environment.
   */
  | { sid: string; table: 'catalogue'; access: 'read' | 'write' }
  /**
   * What an operator does to every queue-fed function's queues: read, delete and send back the
   * messages of its DLQ (and the delivery DLQ), send to and read the depth of its queue.
   */
  | { sid: string; queues: 'operate' }
  /**
   * What the reconciler does to them: peek at every DLQ (receive, then change the visibility back;
   * never delete), read the depth of and send repairs to every queue-fed function's queue.
   */
  | { sid: string; queues: 'repair' };

/** SSM parameters a function may own (`/<service>/<stage>/<name>`). */
export type StackParameter = 'reconcile-checkpoint';

/**
 * A queue subscribed to the uploads topic (raw delivery), with its own DLQ; the function consumes
 * it in batches with partial batch responses.
 */
export interface UploadsQueueTrigger {
  type: 'uploads-queue';
}

export type { RouteAccess } from '../shared/api/auth';

/** An EventBridge schedule invoking the function every `rateMinutes` minutes. */
export interface ScheduleTrigger {
  type: 'schedule';
  rateMinutes: number;
}

/** A route of the stack's HTTP API, in API Gateway's path syntax (`/images/{key}`). */
export interface HttpRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  access: RouteAccess;
}

/** Routes of the HTTP API (API Gateway on AWS, the local stack's server on 127.0.0.1) served by the function. */
export interface HttpApiTrigger {
  type: 'http-api';
  routes: readonly HttpRoute[];
}

/** What the cost model needs: S3 requests per image and, when no benchmark says, a time per image. */
export interface CostProfile {
  s3RequestsPerImage: (thumbnailSizes: number) => { gets: number; heads: number; puts: number };
  /** Time per image on one full core when nothing better is known, and where the figure comes from. */
  defaultMsPerImage: { ms: number; source: string };
}

interface FunctionBase {
  /** Lambda function name suffix, queue name (`<name>`, `<name>-dlq`) and CLI choice. */
  name: string;
  /** Module path of the handler, from the repository root, as serverless expects it. */
  handler: string;
  description: string;
  /** Environment it reads beyond what every function gets (buckets, its DLQ, the table, Powertools settings). */
  environment: readonly (
    | 'MODEL_URI_PARAMETER'
    | 'POWERTOOLS_TRACE_ENABLED'
    | 'API_AUTH'
    | 'QUEUE_URLS'
    | 'RECONCILE_CHECKPOINT_PARAMETER'
  )[];
  permissions: readonly Permission[];
  /** Packages the bundle keeps external (native modules), beyond sharp which every function gets. */
  nativeModules: readonly string[];
}

/** A function fed by the uploads: one upload event per record, its outputs checked by the audit. */
export interface QueueFunction extends FunctionBase {
  settings: QueueFunctionSettings;
  trigger: UploadsQueueTrigger;
  /** The output families it writes: the audit checks these for every upload. */
  outputs: readonly OutputFamilyName[];
  cost: CostProfile;
}

/** A function behind the HTTP API. */
export interface HttpFunction extends FunctionBase {
  settings: FunctionSettings;
  trigger: HttpApiTrigger;
}

/** A function run on a schedule (not by the local stack, which has no scheduler: `npx pipeline reconcile` runs one pass). */
export interface ScheduledFunction extends FunctionBase {
  settings: FunctionSettings;
  trigger: ScheduleTrigger;
  /**
   * Metrics of its own (Powertools, dimension `service` = the function's name) that alarm when
   * their Sum over a schedule period is above 0 in `periods` consecutive periods.
   */
  alarmsOn: readonly { metric: MetricName; periods: number; description: string }[];
}

export type FunctionDefinition = QueueFunction | HttpFunction | ScheduledFunction;

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    name: 'resize',
    handler: 'functions/resize/handler.handler',
    description: 'Writes the configured thumbnail sizes for every image uploaded to the uploads bucket',
    settings: declaredConfig.functions.resize,
    trigger: { type: 'uploads-queue' },
    outputs: ['thumbnails'],
    environment: [],
    permissions: [
      { sid: 'ReadUploads', bucket: 'uploads', access: 'read' },
      { sid: 'WriteThumbnails', bucket: 'thumbnails', access: 'write' },
      { sid: 'RecordInCatalogue', table: 'catalogue', access: 'write' },
    ],
    nativeModules: [],
    cost: {
      // HEADs: the largest thumbnail (duplicate check), the prediction's verdict before and after
      // writing, the source (unchanged since it was read?); GET of the source; one PUT per size.
      s3RequestsPerImage: (sizes) => ({ gets: 1, heads: 4, puts: sizes }),
      defaultMsPerImage: { ms: 150, source: 'default (a decode-once sharp path: 9-15 MP photo into three WebP sizes, one core)' },
    },
  },
  {
    name: 'predict',
    handler: 'functions/predict/handler.handler',
    description: 'Labels every image uploaded to the uploads bucket with the model from the models bucket',
    settings: declaredConfig.functions.predict,
    trigger: { type: 'uploads-queue' },
    outputs: ['prediction'],
    environment: ['MODEL_URI_PARAMETER'],
    permissions: [
      { sid: 'ReadUploads', bucket: 'uploads', access: 'read' },
      { sid: 'ReadModels', bucket: 'models', access: 'read' },
      { sid: 'WritePredictions', bucket: 'thumbnails', access: 'write', prefixes: ['predictions/'] },
      // A flagged upload's thumbnails are written again, obscured (never deleted) by predict.
      {
        sid: 'ObscureFlaggedThumbnails',
        bucket: 'thumbnails',
        access: 'overwrite',
        prefixes: declaredConfig.thumbnails.sizes.map((size) => `${size}/`),
      },
      { sid: 'ReadOwnParameters', parameters: 'read' },
      { sid: 'RecordInCatalogue', table: 'catalogue', access: 'write' },
    ],
    nativeModules: ['onnxruntime-node'],
    cost: {
      // HEADs: the prediction (duplicate check), the source (unchanged since it was read?); GET of the
      // source; PUT of the prediction JSON. A flagged upload adds a HEAD and a PUT per size.
      s3RequestsPerImage: () => ({ gets: 1, heads: 2, puts: 1 }),
      defaultMsPerImage: { ms: 90, source: 'default (whole predict handler, warm, 12 MP JPEG, measured on one core)' },
    },
  },
  {
    name: 'api',
    handler: 'functions/api/handler.handler',
    description: 'The HTTP API: presigned uploads, image status, listing and deletion',
    settings: declaredConfig.functions.api,
    trigger: {
      type: 'http-api',
      routes: [
        { method: 'GET', path: '/health', access: 'public' },
        { method: 'POST', path: '/uploads', access: 'user' },
        { method: 'GET', path: '/images', access: 'user' },
        { method: 'GET', path: '/images/{key}', access: 'user' },
        { method: 'DELETE', path: '/images/{key}', access: 'user' },
      ],
    },
    environment: ['API_AUTH'],
    permissions: [
      // The presigned POST is signed with this role's credentials: S3 lets it through only under the prefix.
      { sid: 'PresignUploads', bucket: 'uploads', access: 'put', prefixes: [declaredConfig.api.uploadPrefix] },
      { sid: 'DeleteUploads', bucket: 'uploads', access: 'delete' },
      // Presigned GETs of the thumbnails, never of the predictions.
      { sid: 'ReadThumbnails', bucket: 'thumbnails', access: 'read', prefixes: declaredConfig.thumbnails.sizes.map((size) => `${size}/`) },
      { sid: 'ReadCatalogue', table: 'catalogue', access: 'read' },
    ],
    nativeModules: [],
  },
  {
    name: 'operator',
    handler: 'functions/operator/handler.handler',
    description: 'Operator routes of the HTTP API: the DLQ rows, a redrive by reason, the audit summary',
    settings: declaredConfig.functions.operator,
    trigger: {
      type: 'http-api',
      routes: [
        { method: 'GET', path: '/operator/dlq', access: 'admin' },
        { method: 'POST', path: '/operator/dlq/redrive', access: 'admin' },
        { method: 'GET', path: '/operator/audit', access: 'admin' },
      ],
    },
    environment: ['QUEUE_URLS'],
    permissions: [
      { sid: 'OperateQueues', queues: 'operate' },
      // The audit lists both buckets and HEADs each family's marker (the largest thumbnail, the prediction).
      { sid: 'ListUploads', bucket: 'uploads', access: 'list' },
      { sid: 'ReadOutputMarkers', bucket: 'thumbnails', access: 'read' },
    ],
    nativeModules: [],
  },
  {
    name: 'reconcile',
    handler: 'functions/reconcile/handler.handler',
    description: 'On a schedule: audits one slice of the uploads bucket from its checkpoint and sends the repairs of what is missing',
    settings: declaredConfig.functions.reconcile,
    trigger: { type: 'schedule', rateMinutes: declaredConfig.reconcile.rateMinutes },
    environment: ['QUEUE_URLS', 'RECONCILE_CHECKPOINT_PARAMETER'],
    permissions: [
      { sid: 'ListUploads', bucket: 'uploads', access: 'list' },
      { sid: 'ListOutputs', bucket: 'thumbnails', access: 'list' },
      // Only the markers are HEADed: the largest thumbnail (written last) and the prediction.
      {
        sid: 'ReadOutputMarkers',
        bucket: 'thumbnails',
        access: 'metadata',
        prefixes: [`${Math.max(...declaredConfig.thumbnails.sizes)}/`, PREDICTIONS_PREFIX],
      },
      { sid: 'RepairQueues', queues: 'repair' },
      { sid: 'Checkpoint', parameter: 'reconcile-checkpoint', access: 'read-write' },
    ],
    nativeModules: [],
    alarmsOn: [
      { metric: 'UploadsMissing', periods: 2, description: 'The reconciler found uploads with missing outputs in two runs in a row' },
    ],
  },
];

export const isQueueFunction = (fn: FunctionDefinition): fn is QueueFunction => fn.trigger.type === 'uploads-queue';
export const isHttpFunction = (fn: FunctionDefinition): fn is HttpFunction => fn.trigger.type === 'http-api';
export const isScheduledFunction = (fn: FunctionDefinition): fn is ScheduledFunction => fn.trigger.type === 'schedule';

/** The functions fed by the uploads (each with its queue and DLQ), in registry order. */
export const queueFunctions = (functions: readonly FunctionDefinition[] = FUNCTIONS): QueueFunction[] => functions.filter(isQueueFunction);

/** The functions behind the HTTP API. */
export const httpFunctions = (functions: readonly FunctionDefinition[] = FUNCTIONS): HttpFunction[] => functions.filter(isHttpFunction);

/** The functions run on a schedule. */
export const scheduledFunctions = (functions: readonly FunctionDefinition[] = FUNCTIONS): ScheduledFunction[] =>
  functions.filter(isScheduledFunction);

/** Where a function's handler module is and which export is the handler (`functions/resize/handler.handler`). */
export function handlerLocation(fn: Pick<FunctionDefinition, 'handler'>): { modulePath: string; exportName: string } {
  const dot = fn.handler.lastIndexOf('.');
  return { modulePath: path.resolve(__dirname, '..', fn.handler.slice(0, dot)), exportName: fn.handler.slice(dot + 1) };
}

export function functionNamed<F extends FunctionDefinition>(name: string, functions: readonly F[]): F {
  const fn = functions.find((candidate) => candidate.name === name);
  if (!fn) throw new Error(`no function named ${JSON.stringify(name)}; functions: ${functions.map((f) => f.name).join(', ')}`);
  return fn;
}
