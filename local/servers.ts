import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { createSqsServer } from 'local-aws-sqs';
import S3rver from 's3rver';
import { dlqName, queueName } from '../functions/naming';
import { FUNCTIONS, type FunctionDefinition } from '../functions/registry';
import { declaredConfig } from '../shared/config';
import { LOCAL_HOST, localEndpoints, localQueueArn, localQueueUrls, localStackEnv } from './endpoints';

/** The embedded AWS stand-ins of the `local` stage: s3rver for S3 and local-aws-sqs for SQS. */
export interface LocalServers {
  s3Endpoint: string;
  sqsEndpoint: string;
  s3rver: S3rver;
  /** By key: `<function>`, `<function>Dlq` and `deliveryDlq` (see localQueueUrls). */
  queueUrls: Record<string, string>;
  /** Environment that points the SDK (and the handlers) at these servers. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface LocalServerOptions {
  s3Port?: number;
  sqsPort?: number;
  /** Where s3rver keeps bucket contents; survives restarts. */
  stateDir?: string;
  visibilityTimeoutSeconds?: number;
  quiet?: boolean;
  /** The functions whose queues and DLQs to create (default: the registry). */
  functions?: readonly FunctionDefinition[];
}

const local = declaredConfig.local;

/** Asks the OS for a free port: local-aws-sqs builds queue URLs from the port it was given, so 0 cannot be used. */
export async function freePort(): Promise<number> {
  const probe = createNetServer().listen(0, LOCAL_HOST);
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function queueDefinitions(visibilityTimeoutSeconds: number, functions: readonly FunctionDefinition[]) {
  const withDlq = (name: string, dlq: string) => ({
    QueueName: name,
    Attributes: {
      VisibilityTimeout: String(visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: localQueueArn(dlq), maxReceiveCount: declaredConfig.queues.maxReceiveCount }),
    },
  });
  const dlq = (name: string) => ({
    QueueName: name,
    Attributes: { MessageRetentionPeriod: String(declaredConfig.queues.dlqRetentionSeconds) },
  });
  return [
    ...functions.map((fn) => dlq(dlqName(fn.name))),
    // Stands in for the SNS subscriptions' delivery DLQ of the AWS stack, so `pipeline dlq` and
    // `pipeline audit` read the same three DLQs everywhere. The local fan-out logs a failed delivery
    // (its onError) rather than sending it here, so locally it is empty unless someone puts a message in it.
    dlq(local.queues.deliveryDlq),
    ...functions.map((fn) => withDlq(queueName(fn.name), dlqName(fn.name))),
  ];
}

export async function startLocalServers(options: LocalServerOptions = {}): Promise<LocalServers> {
  const s3Port = options.s3Port ?? local.s3Port;
  const sqsPort = options.sqsPort ?? local.sqsPort;
  const stateDir = path.resolve(options.stateDir ?? local.stateDir);
  const functions = options.functions ?? FUNCTIONS;
  const s3Dir = path.join(stateDir, 's3');
  mkdirSync(s3Dir, { recursive: true });

  const s3rver = new S3rver({
    address: LOCAL_HOST,
    port: s3Port,
    silent: options.quiet ?? true,
    directory: s3Dir,
    configureBuckets: Object.values(local.buckets).map((name) => ({ name, configs: [] })),
  });
  await s3rver.run();

  let sqs: Server;
  try {
    sqs = await createSqsServer({
      port: sqsPort,
      hostname: LOCAL_HOST,
      region: local.region,
      accountId: local.accountId,
      emulateQueueCreationLifecycle: false,
      queues: queueDefinitions(options.visibilityTimeoutSeconds ?? local.visibilityTimeoutSeconds, functions),
    } as Parameters<typeof createSqsServer>[0]);
  } catch (error) {
    await s3rver.close();
    throw error;
  }

  const { s3Endpoint, sqsEndpoint } = localEndpoints({ s3Port, sqsPort });
  const queueUrls = localQueueUrls(sqsEndpoint, functions);
  return {
    s3Endpoint,
    sqsEndpoint,
    s3rver,
    queueUrls,
    env: localStackEnv({ s3Endpoint, sqsEndpoint }, functions),
    async close() {
      sqs.closeAllConnections?.();
      await Promise.all([s3rver.close(), new Promise((resolve) => sqs.close(resolve))]);
    },
  };
}
