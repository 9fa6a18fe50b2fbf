import { createServer } from 'node:net';
import { declaredConfig } from '../shared/config';

/** Where the local stack listens, and the environment that points the handlers and the CLI at it. */

const local = declaredConfig.local;
export const LOCAL_HOST = '127.0.0.1';

type Env = Record<string, string | undefined>;

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly setting: string,
  ) {
    super(`port ${port} is in use: is another \`npm start\` running? set ${setting}=... to use another port`);
    this.name = 'PortInUseError';
  }
}

function port(env: Env, setting: string, fallback: number): number {
  const raw = env[setting];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${setting} must be a port number between 1 and 65535, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** S3_PORT / SQS_PORT, defaulting to the ports in pipeline.config.json. */
export function localPorts(env: Env = process.env): { s3Port: number; sqsPort: number } {
  return { s3Port: port(env, 'S3_PORT', local.s3Port), sqsPort: port(env, 'SQS_PORT', local.sqsPort) };
}

export function localEndpoints(ports: { s3Port: number; sqsPort: number }) {
  return { s3Endpoint: `http://${LOCAL_HOST}:${ports.s3Port}`, sqsEndpoint: `http://${LOCAL_HOST}:${ports.sqsPort}` };
}

/** The environment for an S3 client of a CLI command: AWS_ENDPOINT_URL_S3 when set, else the local stack. */
export function s3CommandEnv(env: Env = process.env): Env {
  return env.AWS_ENDPOINT_URL_S3 ? env : { ...env, AWS_ENDPOINT_URL_S3: localEndpoints(localPorts(env)).s3Endpoint };
}

export const localQueueUrl = (sqsEndpoint: string, name: string) => `${sqsEndpoint}/${local.accountId}/${name}`;
export const localQueueArn = (name: string) => `arn:aws:sqs:${local.region}:${local.accountId}:${name}`;

/**
 * The handlers' environment for a running local stack, as startLocalServers() builds it: for
 * commands (replay) that talk to a stack started by another process.
 */
export function localStackEnv(endpoints: { s3Endpoint: string; sqsEndpoint: string }): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoints.s3Endpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqsEndpoint,
    AWS_REGION: local.region,
    UPLOADS_BUCKET: local.buckets.uploads,
    THUMBNAILS_BUCKET: local.buckets.thumbnails,
    MODELS_BUCKET: local.buckets.models,
    RESIZE_DLQ_URL: localQueueUrl(endpoints.sqsEndpoint, local.queues.resizeDlq),
    PREDICT_DLQ_URL: localQueueUrl(endpoints.sqsEndpoint, local.queues.predictDlq),
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
}

/** Fails early, with the setting to change, when something already listens on the port. */
export async function assertPortFree(portNumber: number, setting: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(portNumber, setting) : error),
    );
    probe.listen(portNumber, LOCAL_HOST, () => probe.close(() => resolve()));
  });
}
