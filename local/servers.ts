import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import dynalite from 'dynalite';
import { createSqsServer } from 'local-aws-sqs';
import S3rver from 's3rver';
import { dlqName, queueName } from '../functions/naming';
import { FUNCTIONS, type FunctionDefinition, queueFunctions } from '../functions/registry';
import { ensureTable } from '../shared/catalogue/table';
import { createDynamoDbClient } from '../shared/clients';
import { declaredConfig } from '../shared/config';
import { LOCAL_HOST, type LocalEndpoints, localEndpoints, localQueueArn, localQueueUrls, localStackEnv } from './endpoints';
import { installPostPolicyEnforcement } from './postPolicy';

/**
 * The embedded AWS stand-ins of the `local` stage: s3rver for S3 (with the POST policies it ignores
 * enforced in front of it), local-aws-sqs for SQS and dynalite for DynamoDB.
 */
export interface LocalServers extends Omit<LocalEndpoints, 'apiEndpoint'> {
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
  dynamodbPort?: number;
  /** Where s3rver keeps bucket contents and dynalite the tables; both survive restarts. */
  stateDir?: string;
  visibilityTimeoutSeconds?: number;
  quiet?: boolean;
  /** The functions whose queues and DLQs to create (default: the registry). */
  functions?: readonly FunctionDefinition[];
  /** Origins whose pages may POST an upload and GET a thumbnail (default: pipeline.config.json `api.cors`). */
  browserOrigins?: readonly string[];
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
  const consumers = queueFunctions(functions);
  return [
    ...consumers.map((fn) => dlq(dlqName(fn.name))),
    // Stands in for the SNS subscriptions' delivery DLQ of the AWS stack, so `pipeline dlq` and
    // `pipeline audit` read the same three DLQs everywhere. The local fan-out logs a failed delivery
    // (its onError) rather than sending it here, so locally it is empty unless someone puts a message in it.
    dlq(local.queues.deliveryDlq),
    ...consumers.map((fn) => withDlq(queueName(fn.name), dlqName(fn.name))),
  ];
}

/**
 * As serverless.yml configures the buckets on AWS: a page of the allowed origins may POST a
 * presigned upload and GET a presigned thumbnail.
 */
const browserCors = (origins: readonly string[]) =>
  `<CORSConfiguration>${origins
    .map(
      (origin) =>
        `<CORSRule><AllowedOrigin>${origin}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>`,
    )
    .join('')}</CORSConfiguration>`;

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    // Keep-alive connections of the SDK clients would hold close() open.
    server.closeAllConnections?.();
    server.close(() => resolve());
  });

/** dynalite on the port, its LevelDB under the state folder, the catalogue table created when missing. */
async function startDynamoDb(port: number, directory: string): Promise<Server> {
  mkdirSync(directory, { recursive: true });
  const server = dynalite({ path: directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOCAL_HOST, () => resolve());
  });
  const client = createDynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: `http://${LOCAL_HOST}:${port}`, AWS_REGION: local.region });
  try {
    await ensureTable(client, local.tables.catalogue);
  } catch (error) {
    await closeServer(server);
    throw error;
  } finally {
    client.destroy();
  }
  return server;
}

export async function startLocalServers(options: LocalServerOptions = {}): Promise<LocalServers> {
  const s3Port = options.s3Port ?? local.s3Port;
  const sqsPort = options.sqsPort ?? local.sqsPort;
  const dynamodbPort = options.dynamodbPort ?? local.dynamodbPort;
  const stateDir = path.resolve(options.stateDir ?? local.stateDir);
  const functions = options.functions ?? FUNCTIONS;
  const s3Dir = path.join(stateDir, 's3');
  mkdirSync(s3Dir, { recursive: true });

  const s3rver = new S3rver({
    address: LOCAL_HOST,
    port: s3Port,
    silent: options.quiet ?? true,
    directory: s3Dir,
    configureBuckets: Object.values(local.buckets).map((name) => ({
      name,
      configs: name === local.buckets.models ? [] : [browserCors(options.browserOrigins ?? declaredConfig.api.cors.allowedOrigins)],
    })),
  });
  installPostPolicyEnforcement(s3rver, {
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxBodyBytes: declaredConfig.limits.maxInputBytes,
    allowedOrigins: options.browserOrigins ?? declaredConfig.api.cors.allowedOrigins,
  });
  await s3rver.run();

  let sqs: Server;
  let dynamodb: Server;
  try {
    dynamodb = await startDynamoDb(dynamodbPort, path.join(stateDir, 'dynamodb'));
  } catch (error) {
    await s3rver.close();
    throw error;
  }
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
    await Promise.all([s3rver.close(), closeServer(dynamodb)]);
    throw error;
  }

  // The API's port is the stack's business (local/stack.ts); the servers do not listen on it.
  const { apiEndpoint, ...endpoints } = localEndpoints({ s3Port, sqsPort, dynamodbPort, apiPort: local.apiPort });
  return {
    ...endpoints,
    s3rver,
    queueUrls: localQueueUrls(endpoints.sqsEndpoint, functions),
    env: localStackEnv({ ...endpoints, apiEndpoint }, functions),
    async close() {
      await Promise.all([s3rver.close(), closeServer(sqs), closeServer(dynamodb)]);
    },
  };
}
