import { dlqName, queueName } from '../functions/naming';
import { queueFunctions } from '../functions/registry';
import { type LocalEndpoints, localEndpoints, localPorts, localQueueUrl } from '../local/endpoints';
import { readStackState, stateDirectory } from '../local/stackState';
import { describeStackResources, type StackResources, stackName } from '../ops/stackOutputs';
import { declaredConfig } from '../shared/config';
import { ENV } from '../shared/environment';
import type { ScanOptions } from '../shared/operations/scanQueue';
import { describeError } from './errors';

type Env = Record<string, string | undefined>;

/** The buckets and queues a command works on, and how to reach them. */
export interface OperationsTarget {
  /** For messages: "the local stack at ...", "stack image-pipeline-dev". */
  description: string;
  /** The pipeline's own local stack (not AWS, nor an endpoint given by AWS_ENDPOINT_URL_*). */
  local: boolean;
  /** Environment for the SDK clients (endpoints, credentials) and the pipeline settings the stack runs with. */
  clientEnv: Env;
  buckets: { uploads?: string; thumbnails?: string; models?: string };
  /** The image catalogue's table: the stack output ImagesTableName, locally IMAGES_TABLE or pipeline.config.json's. */
  catalogueTable?: string;
  /** Each function's queue and DLQ, by function name. */
  functions: StackResources['functions'];
  deliveryDlqUrl?: string;
  scan: ScanOptions;
}

export interface TargetOptions {
  aws: boolean;
  /** The deployed stage whose CloudFormation outputs name the buckets and queues (default dev). */
  stage?: string;
  uploadsBucket?: string;
  thumbnailsBucket?: string;
}

/**
 * The local stack (default): AWS_ENDPOINT_URL_S3/_SQS when set, else S3_PORT/SQS_PORT, else the
 * ports and settings the running `npm start` wrote to its state file, else pipeline.config.json.
 * The stack's settings (THUMBNAIL_SIZES...) come along in clientEnv, so a command computes the
 * outputs the stack really writes; the caller's own environment wins where it sets them.
 * --aws: the SDK's default endpoints and credentials; names from the stage's CloudFormation
 * outputs, looked up only when `needsStack` (a --queue-url or bucket flags may be all a command needs).
 */
export async function resolveTarget(options: TargetOptions, needsStack: boolean, env: Env = process.env): Promise<OperationsTarget> {
  if (options.aws) {
    // The SDK reads endpoint overrides from the environment by itself; --aws means the real services.
    for (const name of ['AWS_ENDPOINT_URL', ENV.s3Endpoint, ENV.sqsEndpoint, ENV.dynamodbEndpoint]) delete process.env[name];
    const clientEnv = {
      ...env,
      AWS_ENDPOINT_URL: undefined,
      [ENV.s3Endpoint]: undefined,
      [ENV.sqsEndpoint]: undefined,
      [ENV.dynamodbEndpoint]: undefined,
    };
    const name = stackName(declaredConfig.service, options.stage ?? 'dev');
    const resources: StackResources = needsStack ? await describeStackResources(name) : { functions: {} };
    return {
      description: needsStack ? `stack ${name}` : 'AWS',
      local: false,
      clientEnv,
      buckets: {
        uploads: options.uploadsBucket ?? resources.uploadsBucket,
        thumbnails: options.thumbnailsBucket ?? resources.thumbnailsBucket,
        models: resources.modelsBucket,
      },
      catalogueTable: resources.catalogueTable,
      functions: resources.functions,
      deliveryDlqUrl: resources.deliveryDlqUrl,
      // A short poll samples only some SQS servers and may answer empty while messages remain.
      scan: { waitTimeSeconds: 1 },
    };
  }
  const { clientEnv, sqsEndpoint } = localClientEnv(env);
  const url = (name: string) => localQueueUrl(sqsEndpoint, name);
  const own = !env[ENV.sqsEndpoint];
  const { buckets } = declaredConfig.local;
  return {
    description: `${own ? 'the local stack at ' : ''}${sqsEndpoint}`,
    local: own,
    clientEnv,
    buckets: {
      uploads: options.uploadsBucket ?? env[ENV.uploadsBucket] ?? buckets.uploads,
      thumbnails: options.thumbnailsBucket ?? env[ENV.thumbnailsBucket] ?? buckets.thumbnails,
      models: env[ENV.modelsBucket] ?? buckets.models,
    },
    catalogueTable: env[ENV.imagesTable] || declaredConfig.local.tables.catalogue,
    functions: Object.fromEntries(
      queueFunctions().map((fn) => [fn.name, { queueUrl: url(queueName(fn.name)), dlqUrl: url(dlqName(fn.name)) }]),
    ),
    deliveryDlqUrl: url(declaredConfig.local.queues.deliveryDlq),
    // Emulators: local-aws-sqs makes a long poll for several messages wait its whole time.
    scan: { waitTimeSeconds: 0 },
  };
}

/**
 * The SDK environment for the local stack: AWS_ENDPOINT_URL_S3/_SQS when set, else S3_PORT/SQS_PORT,
 * else the ports of the running `npm start` (its state file), else pipeline.config.json; with the
 * pipeline settings the stack runs with, under the caller's own.
 */
export function localClientEnv(env: Env = process.env): { clientEnv: Env } & LocalEndpoints {
  const state = readStackState(stateDirectory(env));
  const ports = localEndpoints(localPorts(env, state));
  const endpoints: LocalEndpoints = {
    ...ports,
    s3Endpoint: env[ENV.s3Endpoint] || ports.s3Endpoint,
    sqsEndpoint: env[ENV.sqsEndpoint] || ports.sqsEndpoint,
    dynamodbEndpoint: env[ENV.dynamodbEndpoint] || ports.dynamodbEndpoint,
  };
  const clientEnv = {
    ...state?.env,
    ...env,
    [ENV.s3Endpoint]: endpoints.s3Endpoint,
    [ENV.sqsEndpoint]: endpoints.sqsEndpoint,
    [ENV.dynamodbEndpoint]: endpoints.dynamodbEndpoint,
  };
  return { clientEnv, ...endpoints };
}

/** A function's queue and DLQ at the target; throws, naming them, when the target does not know them. */
export function knownQueues(target: Pick<OperationsTarget, 'functions' | 'description'>, functionName: string) {
  const { queueUrl, dlqUrl } = target.functions[functionName] ?? {};
  if (!queueUrl || !dlqUrl) {
    throw new Error(`the queue and DLQ of the ${functionName} function at ${target.description} are not known; is the stack deployed?`);
  }
  return { queueUrl, dlqUrl };
}

/** A failure message that says what to do about the usual causes. */
export function describeFailure(error: unknown, target: Pick<OperationsTarget, 'local' | 'description'>): string {
  const text = `${(error as Error).name}: ${(error as Error).message} ${(error as { code?: string }).code ?? ''}`;
  if (/ECONNREFUSED/.test(text))
    return `cannot reach ${target.description}${target.local ? ' (is the local stack running? `npm start`)' : ''}`;
  if (/QueueDoesNotExist|NonExistentQueue/.test(text)) return `${(error as Error).message} (queue not found at ${target.description})`;
  return describeError(error);
}
