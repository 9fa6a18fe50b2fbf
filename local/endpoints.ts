import { createServer } from 'node:net';
import { dlqName, queueName } from '../functions/naming';
import { FUNCTIONS, type FunctionDefinition, queueFunctions } from '../functions/registry';
import { declaredConfig } from '../shared/config';
import { dlqUrlVariable, ENV, queueUrlVariable } from '../shared/environment';
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

/** A bad S3_PORT / SQS_PORT / DYNAMODB_PORT / API_PORT. */
export class PortSettingError extends Error {
  constructor(setting: string, problem: string) {
    super(`${setting}: ${problem}`);
    this.name = 'PortSettingError';
  }
}

export interface LocalPorts {
  s3Port: number;
  sqsPort: number;
  dynamodbPort: number;
  apiPort: number;
}

/** The variable that overrides each port. */
export const PORT_SETTINGS: Record<keyof LocalPorts, string> = {
  s3Port: 'S3_PORT',
  sqsPort: 'SQS_PORT',
  dynamodbPort: 'DYNAMODB_PORT',
  apiPort: 'API_PORT',
};

const DEFAULT_PORTS: LocalPorts = {
  s3Port: local.s3Port,
  sqsPort: local.sqsPort,
  dynamodbPort: local.dynamodbPort,
  apiPort: local.apiPort,
};

function port(env: Env, setting: string, fallback: number): number {
  const raw = env[setting];
  if (raw === undefined || raw.trim() === '') return fallback;
  return checkNumber(raw, { integer: true, min: 1, max: 65535, fromString: true }, (problem) => new PortSettingError(setting, problem));
}

/**
 * S3_PORT / SQS_PORT / DYNAMODB_PORT / API_PORT when set, else `fallback` (a running stack's state
 * file, which may predate some ports), else the ports of pipeline.config.json.
 */
export function localPorts(env: Env = process.env, fallback: Partial<LocalPorts> = {}): LocalPorts {
  const ports = { ...DEFAULT_PORTS };
  for (const name of Object.keys(ports) as (keyof LocalPorts)[]) {
    ports[name] = port(env, PORT_SETTINGS[name], fallback[name] ?? DEFAULT_PORTS[name]);
  }
  return ports;
}

export interface LocalEndpoints {
  s3Endpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  apiEndpoint: string;
}

export function localEndpoints(ports: LocalPorts): LocalEndpoints {
  const at = (portNumber: number) => `http://${LOCAL_HOST}:${portNumber}`;
  return {
    s3Endpoint: at(ports.s3Port),
    sqsEndpoint: at(ports.sqsPort),
    dynamodbEndpoint: at(ports.dynamodbPort),
    apiEndpoint: at(ports.apiPort),
  };
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
  for (const fn of queueFunctions(functions)) {
    urls[camel(fn.name)] = localQueueUrl(sqsEndpoint, queueName(fn.name));
    urls[`${camel(fn.name)}Dlq`] = localQueueUrl(sqsEndpoint, dlqName(fn.name));
  }
  urls.deliveryDlq = localQueueUrl(sqsEndpoint, local.queues.deliveryDlq);
  return urls;
}

/**
 * The handlers' environment for a local stack at these endpoints: names, endpoints, each function's
 * queue and DLQ (and the delivery DLQ, for the operator routes), and the API's local auth (every caller an operator: the server listens on 127.0.0.1 only).
 */
export function localStackEnv(endpoints: LocalEndpoints, functions: readonly FunctionDefinition[] = FUNCTIONS): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.s3Endpoint]: endpoints.s3Endpoint,
    [ENV.sqsEndpoint]: endpoints.sqsEndpoint,
    [ENV.dynamodbEndpoint]: endpoints.dynamodbEndpoint,
    [ENV.region]: local.region,
    [ENV.uploadsBucket]: local.buckets.uploads,
    [ENV.thumbnailsBucket]: local.buckets.thumbnails,
    [ENV.modelsBucket]: local.buckets.models,
    [ENV.imagesTable]: local.tables.catalogue,
    [ENV.apiAuth]: 'local',
    [ENV.traceEnabled]: 'false',
  };
  for (const fn of queueFunctions(functions)) {
    env[dlqUrlVariable(fn.name)] = localQueueUrl(endpoints.sqsEndpoint, dlqName(fn.name));
    env[queueUrlVariable(fn.name)] = localQueueUrl(endpoints.sqsEndpoint, queueName(fn.name));
  }
  env[ENV.deliveryDlqUrl] = localQueueUrl(endpoints.sqsEndpoint, local.queues.deliveryDlq);
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
