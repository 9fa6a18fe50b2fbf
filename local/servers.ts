import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { createSqsServer } from 'local-aws-sqs';
import S3rver from 's3rver';
import { declaredConfig } from '../shared/config';
import { LOCAL_HOST, localEndpoints, localQueueArn, localQueueUrl, localStackEnv } from './endpoints';

/** The embedded AWS stand-ins of the `local` stage: s3rver for S3 and local-aws-sqs for SQS. */
export interface LocalServers {
  s3Endpoint: string;
  sqsEndpoint: string;
  s3rver: S3rver;
  queueUrls: { resize: string; resizeDlq: string; predict: string; predictDlq: string; deliveryDlq: string };
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

function queueDefinitions(visibilityTimeoutSeconds: number) {
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
    dlq(local.queues.resizeDlq),
    dlq(local.queues.predictDlq),
    // Stands in for the SNS subscriptions' delivery DLQ of the AWS stack, so `pipeline dlq` and
    // `pipeline audit` read the same three DLQs everywhere. The local fan-out logs a failed delivery
    // (its onError) rather than sending it here, so locally it is empty unless someone puts a message in it.
    dlq(local.queues.deliveryDlq),
    withDlq(local.queues.resize, local.queues.resizeDlq),
    withDlq(local.queues.predict, local.queues.predictDlq),
  ];
}

export async function startLocalServers(options: LocalServerOptions = {}): Promise<LocalServers> {
  const s3Port = options.s3Port ?? local.s3Port;
  const sqsPort = options.sqsPort ?? local.sqsPort;
  const stateDir = path.resolve(options.stateDir ?? local.stateDir);
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
      queues: queueDefinitions(options.visibilityTimeoutSeconds ?? local.visibilityTimeoutSeconds),
    } as Parameters<typeof createSqsServer>[0]);
  } catch (error) {
    await s3rver.close();
    throw error;
  }

  const { s3Endpoint, sqsEndpoint } = localEndpoints({ s3Port, sqsPort });
  const queueUrl = (name: string) => localQueueUrl(sqsEndpoint, name);
  const queueUrls = {
    resize: queueUrl(local.queues.resize),
    resizeDlq: queueUrl(local.queues.resizeDlq),
    predict: queueUrl(local.queues.predict),
    predictDlq: queueUrl(local.queues.predictDlq),
    deliveryDlq: queueUrl(local.queues.deliveryDlq),
  };
  return {
    s3Endpoint,
    sqsEndpoint,
    s3rver,
    queueUrls,
    env: localStackEnv({ s3Endpoint, sqsEndpoint }),
    async close() {
      sqs.closeAllConnections?.();
      await Promise.all([s3rver.close(), new Promise((resolve) => sqs.close(resolve))]);
    },
  };
}
