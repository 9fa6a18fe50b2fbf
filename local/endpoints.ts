import { createServer } from 'node:net';
import { dlqName, queueName } from '../functions/naming';
import { FUNCTIONS, type FunctionDefinition } from '../functions/registry';
import { declaredConfig } from '../shared/config';
import { dlqUrlVariable, ENV } from '../shared/environment';
import { checkNumber } from '../shared/validate';

/** Where the local stack listens, its queues, and the environment that points the handlers at it. */

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

/** A bad S3_PORT / SQS_PORT. */
export class PortSettingError extends Error {
  constructor(setting: string, problem: string) {
    super(`${setting}: ${problem}`);
    this.name = 'PortSettingError';
  }
}

export interface LocalPorts {
  s3Port: number;
  sqsPort: number;
}

function port(env: Env, setting: string, fallback: number): number {
  const raw = env[setting];
  if (raw === undefined || raw.trim() === '') return fallback;
  return checkNumber(raw, { integer: true, min: 1, max: 65535, fromString: true }, (problem) => new PortSettingError(setting, problem));
}

/** S3_PORT / SQS_PORT when set, else `fallback` (by default the ports of pipeline.config.json). */
export function localPorts(env: Env = process.env, fallback: LocalPorts = { s3Port: local.s3Port, sqsPort: local.sqsPort }): LocalPorts {
  return { s3Port: port(env, 'S3_PORT', fallback.s3Port), sqsPort: port(env, 'SQS_PORT', fallback.sqsPort) };
}

export interface LocalEndpoints {
  s3Endpoint: string;
  sqsEndpoint: string;
}

export function localEndpoints(ports: LocalPorts): LocalEndpoints {
  return { s3Endpoint: `http://${LOCAL_HOST}:${ports.s3Port}`, sqsEndpoint: `http://${LOCAL_HOST}:${ports.sqsPort}` };
}

export const localQueueUrl = (sqsEndpoint: string, name: string) => `${sqsEndpoint}/${local.accountId}/${name}`;
export const localQueueArn = (name: string) => `arn:aws:sqs:${local.region}:${local.accountId}:${name}`;

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Every queue of the local stack by key: `<function>` and `<function>Dlq` (camel case) for each
 * function, and `deliveryDlq`, which stands in for the SNS subscriptions' delivery DLQ.
 */
export function localQueueUrls(sqsEndpoint: string, functions: readonly FunctionDefinition[] = FUNCTIONS): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const fn of functions) {
    urls[camel(fn.name)] = localQueueUrl(sqsEndpoint, queueName(fn.name));
    urls[`${camel(fn.name)}Dlq`] = localQueueUrl(sqsEndpoint, dlqName(fn.name));
  }
  urls.deliveryDlq = localQueueUrl(sqsEndpoint, local.queues.deliveryDlq);
  return urls;
}

/** The handlers' environment for a local stack at these endpoints: names, endpoints and each function's DLQ. */
export function localStackEnv(endpoints: LocalEndpoints, functions: readonly FunctionDefinition[] = FUNCTIONS): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.s3Endpoint]: endpoints.s3Endpoint,
    [ENV.sqsEndpoint]: endpoints.sqsEndpoint,
    [ENV.region]: local.region,
    [ENV.uploadsBucket]: local.buckets.uploads,
    [ENV.thumbnailsBucket]: local.buckets.thumbnails,
    [ENV.modelsBucket]: local.buckets.models,
    [ENV.traceEnabled]: 'false',
  };
  for (const fn of functions) env[dlqUrlVariable(fn.name)] = localQueueUrl(endpoints.sqsEndpoint, dlqName(fn.name));
  return env;
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
