import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { dlqName, queueName } from '../functions/naming';
import {
  FUNCTIONS,
  type FunctionDefinition,
  type HttpFunction,
  handlerLocation,
  httpFunctions,
  isScheduledFunction,
  type QueueFunction,
  queueFunctions,
} from '../functions/registry';
import { createS3Client, createSqsClient } from '../shared/clients';
import { declaredConfig, loadConfig } from '../shared/config';
import { ENV } from '../shared/environment';
import { decodeS3EventKey } from '../shared/s3Key';
import { buildConsoleAssets } from './console';
import {
  assertPortFree,
  LOCAL_HOST,
  type LocalPorts,
  localPorts,
  localQueueArn,
  localQueueUrl,
  PORT_SETTINGS,
  PortInUseError,
} from './endpoints';
import { type Fanout, startFanout } from './fanout';
import { type HttpHandler, type LocalHttpApi, startLocalHttpApi } from './httpApi';
import { type BatchReport, type Poller, type SqsHandler, startPoller } from './poller';
import { reconcileUploads } from './reconcile';
import { MODELS_DIR, seedDirectory, seedSamples } from './samples';
import { type LocalServers, startLocalServers } from './servers';
import { removeStackState, writeStackState } from './stackState';

/**
 * The whole pipeline on one machine: embedded S3, SQS and DynamoDB, the uploads bucket's fan-out to
 * the queue-fed functions' queues, one poller per queue invoking the real handlers the way Lambda's
 * event source mapping does, and the HTTP API on 127.0.0.1 invoking the API's handlers the way API
 * Gateway does.
 */

export type FunctionName = string;

export interface LocalStackOptions extends Partial<LocalPorts> {
  /** Port defaults: S3_PORT / SQS_PORT / DYNAMODB_PORT / API_PORT, else pipeline.config.json's.
  /** Bucket contents live here and survive restarts (default `.local`). */
  stateDir?: string;
  visibilityTimeoutSeconds?: number;
  /** No banner and no activity lines; handler logs silenced unless POWERTOOLS_LOG_LEVEL is set. */
  quiet?: boolean;
  /** Where banner and activity lines go (default console.log). */
  log?: (line: string) => void;
  /**
   * Send every upload whose outputs are missing (with no DLQ entry and nothing queued) to its
   * functions' queues again at start (default true): what a stopped or killed stack had in flight.
   */
  reconcile?: boolean;
  /** Copy events/samples into the uploads bucket and models/ into the models bucket, when missing (default true). */
  seed?: boolean;
  /** The functions to run (default: the registry). */
  functions?: readonly FunctionDefinition[];
  /** Loads a function's handler; called after the environment is set. Default: the registry's handler module. */
  loadHandler?: (fn: FunctionDefinition) => Handler | Promise<Handler>;
  /** Extra environment for the handlers (e.g. THUMBNAIL_SIZES). */
  env?: Record<string, string>;
  /** Batching window override (seconds); default per function from pipeline.config.json. */
  batchWindowSeconds?: number;
  onBatch?: (report: BatchReport) => void;
  /** Serve the web console (console/, bundled in memory) at the HTTP API's `/` (default true). */
  console?: boolean;
}

export interface LocalStack {
  servers: LocalServers;
  /** The HTTP API, when the registry has functions behind it. */
  api?: LocalHttpApi;
  ports: LocalPorts;
  s3: S3Client;
  sqs: SQSClient;
  /** The handlers' environment (also written into process.env while the stack runs). */
  env: Record<string, string>;
  fanout: Fanout;
  pollers: Record<FunctionName, Poller>;
  /** Keys seeded into the uploads bucket by this start. */
  seeded: string[];
  /** Uploads whose missing outputs this start sent to their queues again (see LocalStackOptions.reconcile). */
  reconciled: string[];
  stop(): Promise<void>;
}

const local = declaredConfig.local;

/**
 * The configured browser origins plus the API's own: the console is served by the API's server, so
 * its page (on whatever port the API took) must be allowed to POST uploads to the local S3.
 */
function browserOrigins(apiPort: number): string[] {
  const own = [`http://${LOCAL_HOST}:${apiPort}`, `http://localhost:${apiPort}`];
  return [...new Set([...declaredConfig.api.cors.allowedOrigins, ...own])];
}

/** An SQS handler for queue-fed functions, an HTTP one for the API's. */
export type Handler = SqsHandler | HttpHandler;

/** Required lazily: each handler module reads its configuration from process.env when loaded. */
export function requireHandler(fn: QueueFunction): SqsHandler;
export function requireHandler(fn: HttpFunction): HttpHandler;
export function requireHandler(fn: FunctionDefinition): Handler;
export function requireHandler(fn: FunctionDefinition): Handler {
  const { modulePath, exportName } = handlerLocation(fn);
  return require(modulePath)[exportName];
}

/** Sets (or, for `undefined`, unsets) variables in process.env; returns a function that puts the previous values back. */
export function applyEnv(values: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  const set = (entries: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  set(values);
  return () => set(previous);
}

/** The pipeline settings among the handlers' environment (sizes, format, model, limits): what the CLI must agree with. */
const SETTING_NAMES: ReadonlySet<string> = new Set([
  ENV.thumbnailSizes,
  ENV.thumbnailFormat,
  ENV.thumbnailQuality,
  ENV.modelUri,
  ENV.predictionTopK,
  ENV.maxInputBytes,
  ENV.maxInputPixels,
  ENV.maxFrames,
]);
const pipelineSettings = (env: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => SETTING_NAMES.has(entry[0]) && entry[1] !== undefined),
  );

export function banner(stack: {
  servers: LocalServers;
  api?: LocalHttpApi;
  stateDir: string;
  functions: readonly FunctionDefinition[];
  /** The web console is served at the API's `/`. */
  console?: boolean;
}): string[] {
  const { s3Endpoint, sqsEndpoint, dynamodbEndpoint } = stack.servers;
  const consumers = queueFunctions(stack.functions);
  const [first] = consumers;
  const { buckets } = local;
  const creds = 'AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER';
  return [
    ...(stack.api ? [`API ${stack.api.endpoint}`] : []),
    ...(stack.api && stack.console ? [`Console ${stack.api.endpoint}/ (uploads, gallery, failures)`] : []),
    `S3  ${s3Endpoint}`,
    `SQS ${sqsEndpoint}`,
    `DynamoDB ${dynamodbEndpoint} (the catalogue table ${local.tables.catalogue})`,
    `Buckets: ${buckets.uploads} (uploads; its events feed every queue), ${buckets.thumbnails}, ${buckets.models}`,
    `Queues:  ${consumers.map((fn) => `${queueName(fn.name)} -> ${dlqName(fn.name)}`).join(', ')} (DLQ after ${declaredConfig.queues.maxReceiveCount} receives)`,
    `State:   ${stack.stateDir} (bucket contents and the catalogue persist across restarts; queues start empty)`,
    'Pipeline ready',
    '',
    ...(stack.api
      ? [
          'Ask the API for an upload, then follow the image:',
          `  curl -s -X POST ${stack.api.endpoint}/uploads -H 'content-type: application/json' -d '{"filename":"photo.jpg","contentType":"image/jpeg","size":123456}'`,
          `  curl -s ${stack.api.endpoint}/images`,
        ]
      : []),
    'Upload an image:',
    `  npx pipeline upload photo.jpg --prefix holiday/`,
    `  aws --endpoint-url ${s3Endpoint} s3 cp photo.jpg s3://${buckets.uploads}/holiday/photo.jpg`,
    `    (the AWS CLI needs some credentials; the local S3 accepts: ${creds})`,
    'List the thumbnails:',
    `  aws --endpoint-url ${s3Endpoint} s3 ls s3://${buckets.thumbnails}/ --recursive`,
    `Inspect the ${first.name} DLQ:`,
    `  aws --endpoint-url ${sqsEndpoint} sqs receive-message --queue-url ${localQueueUrl(sqsEndpoint, dlqName(first.name))} --message-attribute-names All --attribute-names All`,
    'Replay a sample event:',
    '  npx pipeline replay events/resize-sqs.json',
    'Ctrl-C stops the pipeline.',
  ];
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const defaults = localPorts();
  const ports: LocalPorts = {
    s3Port: options.s3Port ?? defaults.s3Port,
    sqsPort: options.sqsPort ?? defaults.sqsPort,
    dynamodbPort: options.dynamodbPort ?? defaults.dynamodbPort,
    apiPort: options.apiPort ?? defaults.apiPort,
  };
  const { s3Port, sqsPort } = ports;
  const stateDir = path.resolve(options.stateDir ?? local.stateDir);
  const quiet = options.quiet ?? false;
  const log = quiet ? () => undefined : (options.log ?? ((line: string) => console.log(line)));
  const functions = options.functions ?? FUNCTIONS;

  const mountsApi = httpFunctions(functions).length > 0;
  for (const name of Object.keys(ports) as (keyof LocalPorts)[]) {
    if (name !== 'apiPort' || mountsApi) await assertPortFree(ports[name], PORT_SETTINGS[name]);
  }
  let servers: LocalServers;
  try {
    servers = await startLocalServers({
      s3Port,
      sqsPort,
      dynamodbPort: ports.dynamodbPort,
      stateDir,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      quiet: true,
      functions,
      browserOrigins: browserOrigins(ports.apiPort),
    });
  } catch (error) {
    // Lost a race for the port between the check and the bind.
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const port = (error as { port?: number }).port;
      const name = (Object.keys(ports) as (keyof LocalPorts)[]).find((candidate) => ports[candidate] === port) ?? 's3Port';
      throw new PortInUseError(ports[name], PORT_SETTINGS[name]);
    }
    throw error;
  }

  const env: Record<string, string> = {
    ...servers.env,
    // As on Lambda, so Powertools reports the first invocation as a cold start.
    ...(process.env.AWS_LAMBDA_INITIALIZATION_TYPE === undefined && { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' }),
    // Locally, metrics would print an EMF blob per batch and logs would bury the test output.
    ...(process.env.POWERTOOLS_METRICS_DISABLED === undefined && { POWERTOOLS_METRICS_DISABLED: 'true' }),
    ...(quiet && process.env.POWERTOOLS_LOG_LEVEL === undefined && { POWERTOOLS_LOG_LEVEL: 'SILENT' }),
    ...options.env,
  };
  const restoreEnv = applyEnv(env);
  const s3 = createS3Client(servers.env);
  const sqs = createSqsClient(servers.env);

  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  cleanup.push(async () => {
    s3.destroy();
    sqs.destroy();
    await servers.close();
    restoreEnv();
  });

  try {
    // Loaded now, not at the first upload: a configuration error stops the start with its message.
    const loadHandler = options.loadHandler ?? requireHandler;
    const handlers = new Map<string, Handler>();
    // No scheduler here: a scheduled function runs with `npx pipeline reconcile`, not on its own.
    for (const fn of functions) if (!isScheduledFunction(fn)) handlers.set(fn.name, await loadHandler(fn));
    // The model first, so the predictions of the seeded samples find it.
    const models = options.seed === false ? [] : await seedDirectory(s3, local.buckets.models, MODELS_DIR);
    if (models.length > 0) log(`Seeded the model files ${models.map((key) => `s3://${local.buckets.models}/${key}`).join(', ')}`);

    const subscribed = queueFunctions(functions);
    const fanout = startFanout({
      s3rver: servers.s3rver,
      sqs,
      s3,
      bucket: local.buckets.uploads,
      queueUrls: subscribed.map((fn) => localQueueUrl(servers.sqsEndpoint, queueName(fn.name))),
      region: local.region,
      log,
      onDelivered: (notification) => {
        const record = notification.Records[0];
        const key = decodeS3EventKey(record.s3.object.key);
        log(`${record.eventName} s3://${record.s3.bucket.name}/${key} -> ${subscribed.map((fn) => queueName(fn.name)).join(', ')}`);
      },
    });
    cleanup.push(() => fanout.stop());

    const pollers: Record<FunctionName, Poller> = {};
    for (const fn of subscribed) {
      const { settings } = fn;
      pollers[fn.name] = startPoller({
        sqs,
        queueUrl: localQueueUrl(servers.sqsEndpoint, queueName(fn.name)),
        queueArn: localQueueArn(queueName(fn.name)),
        region: local.region,
        functionName: fn.name,
        loadHandler: () => handlers.get(fn.name) as SqsHandler,
        batchSize: settings.batchSize,
        batchWindowSeconds: options.batchWindowSeconds ?? settings.batchWindowSeconds,
        timeoutSeconds: settings.timeoutSeconds,
        memoryMb: settings.memoryMb,
        log,
        onBatch: options.onBatch,
      });
      cleanup.push(() => pollers[fn.name].stop());
    }

    let api: LocalHttpApi | undefined;
    if (mountsApi) {
      const mounted = httpFunctions(functions).map((fn) => ({ fn, handler: handlers.get(fn.name) as HttpHandler }));
      api = await startLocalHttpApi({
        port: ports.apiPort,
        functions: mounted,
        region: local.region,
        allowedOrigins: browserOrigins(ports.apiPort),
        assets: options.console === false ? undefined : await buildConsoleAssets(),
        log,
      });
      cleanup.push(() => (api as LocalHttpApi).close());
    }

    let reconciled: string[] = [];
    if (options.reconcile !== false) {
      const repairs = await reconcileUploads(
        { s3, sqs },
        {
          functions: subscribed,
          queueUrl: (name) => localQueueUrl(servers.sqsEndpoint, queueName(name)),
          dlqUrl: (name) => localQueueUrl(servers.sqsEndpoint, dlqName(name)),
          deliveryDlqUrl: localQueueUrl(servers.sqsEndpoint, local.queues.deliveryDlq),
          region: local.region,
        },
        loadConfig(),
      );
      reconciled = [...new Set(repairs.map((repair) => repair.key))];
      if (reconciled.length > 0) {
        log(`Reconciled: ${reconciled.length} upload(s) whose outputs were missing sent to their queues again`);
      }
    }

    // After the fan-out and the pollers, so the samples go through the pipeline like any upload: a new
    // user sees thumbnails, predictions and one DLQ entry (the corrupt sample) at once, and
    // `pipeline audit` finds every upload accounted for.
    const seeded = options.seed === false ? [] : await seedSamples(s3, local.buckets.uploads);
    if (seeded.length > 0) log(`Seeded ${seeded.length} sample image(s) into s3://${local.buckets.uploads}/samples/`);

    writeStackState(stateDir, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...ports,
      s3Endpoint: servers.s3Endpoint,
      sqsEndpoint: servers.sqsEndpoint,
      dynamodbEndpoint: servers.dynamodbEndpoint,
      apiEndpoint: api?.endpoint ?? '',
      region: local.region,
      buckets: local.buckets,
      tables: local.tables,
      queues: servers.queueUrls,
      env: pipelineSettings(process.env),
    });
    cleanup.push(async () => removeStackState(stateDir));
    for (const line of banner({ servers, api, stateDir, functions, console: options.console !== false })) log(line);
    let stopping: Promise<void> | undefined;
    return {
      servers,
      api,
      ports,
      s3,
      sqs,
      env,
      fanout,
      pollers,
      seeded,
      reconciled,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
