import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createS3Client, createSqsClient } from '../shared/clients';
import { declaredConfig } from '../shared/config';
import { decodeS3EventKey } from '../shared/s3Key';
import { assertPortFree, localPorts, localQueueArn, PortInUseError } from './endpoints';
import { type Fanout, startFanout } from './fanout';
import { type BatchReport, type Poller, type SqsHandler, startPoller } from './poller';
import { MODELS_DIR, seedDirectory, seedSamples } from './samples';
import { type LocalServers, startLocalServers } from './servers';

/**
 * The whole pipeline on one machine: embedded S3 and SQS, the uploads bucket's fan-out to the
 * resize and predict queues, and one poller per queue invoking the real handlers the way Lambda's
 * event source mapping does.
 */

export type FunctionName = 'resize' | 'predict';
export const FUNCTION_NAMES: readonly FunctionName[] = ['resize', 'predict'];

export interface LocalStackOptions {
  /** Defaults: S3_PORT / SQS_PORT from the environment, else pipeline.config.json (4569 / 9324). */
  s3Port?: number;
  sqsPort?: number;
  /** Bucket contents live here and survive restarts (default `.local`). */
  stateDir?: string;
  visibilityTimeoutSeconds?: number;
  /** No banner and no activity lines; handler logs silenced unless POWERTOOLS_LOG_LEVEL is set. */
  quiet?: boolean;
  /** Where banner and activity lines go (default console.log). */
  log?: (line: string) => void;
  /** Copy events/samples into the uploads bucket and models/ into the models bucket, when missing (default true). */
  seed?: boolean;
  /** Loads a function's handler; called after the environment is set. Default: require functions/<name>/handler. */
  loadHandler?: (name: FunctionName) => SqsHandler | Promise<SqsHandler>;
  /** Extra environment for the handlers (e.g. THUMBNAIL_SIZES). */
  env?: Record<string, string>;
  /** Batching window override (seconds); default per function from pipeline.config.json. */
  batchWindowSeconds?: number;
  onBatch?: (report: BatchReport) => void;
}

export interface LocalStack {
  servers: LocalServers;
  s3: S3Client;
  sqs: SQSClient;
  /** The handlers' environment (also written into process.env while the stack runs). */
  env: Record<string, string>;
  fanout: Fanout;
  pollers: Record<FunctionName, Poller>;
  /** Keys seeded into the uploads bucket by this start. */
  seeded: string[];
  stop(): Promise<void>;
}

const local = declaredConfig.local;

const defaultLoadHandler = (name: FunctionName): SqsHandler =>
  // Required lazily: each handler module reads its configuration from process.env when loaded.
  name === 'resize' ? require('../functions/resize/handler').handler : require('../functions/predict/handler').handler;

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

export function banner(stack: { servers: LocalServers; stateDir: string }): string[] {
  const { s3Endpoint, sqsEndpoint, queueUrls } = stack.servers;
  const { buckets, queues } = local;
  const creds = 'AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER';
  return [
    `S3  ${s3Endpoint}`,
    `SQS ${sqsEndpoint}`,
    `Buckets: ${buckets.uploads} (uploads; its events feed both queues), ${buckets.thumbnails}, ${buckets.models}`,
    `Queues:  ${queues.resize} -> ${queues.resizeDlq}, ${queues.predict} -> ${queues.predictDlq} (DLQ after ${declaredConfig.queues.maxReceiveCount} receives)`,
    `State:   ${stack.stateDir} (bucket contents persist across restarts; queues start empty)`,
    'Pipeline ready',
    '',
    'Upload an image:',
    `  npx pipeline upload photo.jpg --prefix holiday/`,
    `  aws --endpoint-url ${s3Endpoint} s3 cp photo.jpg s3://${buckets.uploads}/holiday/photo.jpg`,
    `    (the AWS CLI needs some credentials; the local S3 accepts: ${creds})`,
    'List the thumbnails:',
    `  aws --endpoint-url ${s3Endpoint} s3 ls s3://${buckets.thumbnails}/ --recursive`,
    'Inspect the resize DLQ:',
    `  aws --endpoint-url ${sqsEndpoint} sqs receive-message --queue-url ${queueUrls.resizeDlq} --message-attribute-names All --attribute-names All`,
    'Replay a sample event:',
    '  npx pipeline replay events/resize-sqs.json',
    'Ctrl-C stops the pipeline.',
  ];
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const ports = localPorts();
  const s3Port = options.s3Port ?? ports.s3Port;
  const sqsPort = options.sqsPort ?? ports.sqsPort;
  const stateDir = path.resolve(options.stateDir ?? local.stateDir);
  const quiet = options.quiet ?? false;
  const log = quiet ? () => undefined : (options.log ?? ((line: string) => console.log(line)));

  await assertPortFree(s3Port, 'S3_PORT');
  await assertPortFree(sqsPort, 'SQS_PORT');
  let servers: LocalServers;
  try {
    servers = await startLocalServers({
      s3Port,
      sqsPort,
      stateDir,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      quiet: true,
    });
  } catch (error) {
    // Lost a race for the port between the check and the bind.
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const port = (error as { port?: number }).port;
      throw port === sqsPort ? new PortInUseError(sqsPort, 'SQS_PORT') : new PortInUseError(s3Port, 'S3_PORT');
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
    const loadHandler = options.loadHandler ?? defaultLoadHandler;
    const handlers = { resize: await loadHandler('resize'), predict: await loadHandler('predict') };
    // The model first, so the predictions of the seeded samples find it.
    const models = options.seed === false ? [] : await seedDirectory(s3, local.buckets.models, MODELS_DIR);
    if (models.length > 0) log(`Seeded the model files ${models.map((key) => `s3://${local.buckets.models}/${key}`).join(', ')}`);

    const fanout = startFanout({
      s3rver: servers.s3rver,
      sqs,
      s3,
      bucket: local.buckets.uploads,
      queueUrls: [servers.queueUrls.resize, servers.queueUrls.predict],
      region: local.region,
      log,
      onDelivered: (notification) => {
        const record = notification.Records[0];
        log(
          `${record.eventName} s3://${record.s3.bucket.name}/${decodeS3EventKey(record.s3.object.key)} -> ${local.queues.resize}, ${local.queues.predict}`,
        );
      },
    });
    cleanup.push(() => fanout.stop());

    const queueUrl = { resize: servers.queueUrls.resize, predict: servers.queueUrls.predict };
    const pollers = {} as Record<FunctionName, Poller>;
    for (const name of FUNCTION_NAMES) {
      const fn = declaredConfig.functions[name];
      pollers[name] = startPoller({
        sqs,
        queueUrl: queueUrl[name],
        queueArn: localQueueArn(local.queues[name]),
        region: local.region,
        functionName: name,
        loadHandler: () => handlers[name],
        batchSize: fn.batchSize,
        batchWindowSeconds: options.batchWindowSeconds ?? fn.batchWindowSeconds,
        timeoutSeconds: fn.timeoutSeconds,
        memoryMb: fn.memoryMb,
        log,
        onBatch: options.onBatch,
      });
      cleanup.push(() => pollers[name].stop());
    }

    // After the fan-out and the pollers, so the samples go through the pipeline like any upload: a new
    // user sees thumbnails, predictions and one DLQ entry (the corrupt sample) at once, and
    // `pipeline audit` finds every upload accounted for.
    const seeded = options.seed === false ? [] : await seedSamples(s3, local.buckets.uploads);
    if (seeded.length > 0) log(`Seeded ${seeded.length} sample image(s) into s3://${local.buckets.uploads}/samples/`);

    for (const line of banner({ servers, stateDir })) log(line);
    let stopping: Promise<void> | undefined;
    return {
      servers,
      s3,
      sqs,
      env,
      fanout,
      pollers,
      seeded,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
