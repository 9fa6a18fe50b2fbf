import {
  type BucketRole,
  type FunctionDefinition,
  type HttpRoute,
  isHttpFunction,
  isQueueFunction,
  isScheduledFunction,
  queueFunctions,
} from '../functions/registry';
import { localEndpoints, localQueueUrl } from '../local/endpoints';
import { dlqUrlVariable, ENV, queueUrlVariable } from '../shared/environment';
import { type CfnValue, getAtt, ref } from './cfn';
import { type InfraConfig, isLocal, type StackContext } from './context';
import { bucketId, dlqName, functionIds, JWT_AUTHORIZER, parameterName, queueName, SHARED, unknownTrigger } from './naming';

/** serverless.yml's `functions:`, one entry per registry function. */

export interface ServerlessFunction {
  handler: string;
  description: string;
  role: string;
  memorySize: number;
  timeout: number;
  reservedConcurrency: number;
  environment: Record<string, CfnValue>;
  events: ({ sqs: Record<string, CfnValue> } | { httpApi: Record<string, CfnValue> } | { schedule: Record<string, CfnValue> })[];
}

type ExtraVariable = Exclude<FunctionDefinition['environment'][number], 'QUEUE_URLS'>;

/** Values of the variables a function may ask for beyond the common ones. */
const EXTRA: Record<ExtraVariable, (context: StackContext) => string> = {
  [ENV.modelUriParameter]: (context) => context.modelUriParameter,
  [ENV.traceEnabled]: (context) => context.traceEnabled,
  // Only the local stack (bound to 127.0.0.1) may skip the JWT authorizer's claims.
  [ENV.apiAuth]: (context) => (isLocal(context) ? 'local' : 'jwt'),
  [ENV.reconcileCheckpointParameter]: (context) => parameterName(context, 'reconcile-checkpoint'),
};

/** Every queue-fed function's queue and DLQ, and the delivery DLQ: what an operator works on. */
function queueUrls(peers: readonly FunctionDefinition[], config: InfraConfig, context: StackContext): Record<string, CfnValue> {
  const local = isLocal(context);
  const { sqsEndpoint } = localEndpoints(context.localPorts);
  const urls: Record<string, CfnValue> = {
    [ENV.deliveryDlqUrl]: local ? localQueueUrl(sqsEndpoint, config.local.queues.deliveryDlq) : ref(SHARED.deliveryDlq),
  };
  for (const peer of queueFunctions(peers)) {
    const ids = functionIds(peer.name);
    urls[queueUrlVariable(peer.name)] = local ? localQueueUrl(sqsEndpoint, queueName(peer.name)) : ref(ids.queue);
    urls[dlqUrlVariable(peer.name)] = local ? localQueueUrl(sqsEndpoint, dlqName(peer.name)) : ref(ids.dlq);
  }
  return urls;
}

export function functionEnvironment(
  fn: FunctionDefinition,
  config: InfraConfig,
  context: StackContext,
  peers: readonly FunctionDefinition[] = [],
): Record<string, CfnValue> {
  const local = isLocal(context);
  const bucket = (role: BucketRole): CfnValue => (local ? config.local.buckets[role] : ref(bucketId(role)));
  const environment: Record<string, CfnValue> = {
    [ENV.uploadsBucket]: bucket('uploads'),
    [ENV.thumbnailsBucket]: bucket('thumbnails'),
    [ENV.modelsBucket]: bucket('models'),
    [ENV.metricsNamespace]: context.service,
    [ENV.logLevel]: context.logLevel,
    NODE_OPTIONS: '--enable-source-maps',
    [ENV.serviceName]: fn.name,
  };
  if (isQueueFunction(fn)) {
    environment[dlqUrlVariable(fn.name)] = local
      ? localQueueUrl(localEndpoints(context.localPorts).sqsEndpoint, dlqName(fn.name))
      : ref(functionIds(fn.name).dlq);
  }
  if (fn.permissions.some((grant) => 'table' in grant)) {
    environment[ENV.imagesTable] = local ? config.local.tables.catalogue : ref(SHARED.catalogueTable);
  }
  for (const name of fn.environment) {
    if (name === 'QUEUE_URLS') Object.assign(environment, queueUrls(peers, config, context));
    else environment[name] = EXTRA[name](context);
  }
  return environment;
}

/** A route behind the JWT authorizer unless public; who is an operator is decided by the handler from the claims. */
const httpApiEvent = (route: HttpRoute) => ({
  httpApi: { method: route.method, path: route.path, ...(route.access !== 'public' && { authorizer: { name: JWT_AUTHORIZER } }) },
});

function events(fn: FunctionDefinition): ServerlessFunction['events'] {
  if (isHttpFunction(fn)) return fn.trigger.routes.map(httpApiEvent);
  if (isQueueFunction(fn)) {
    return [
      {
        sqs: {
          arn: getAtt(functionIds(fn.name).queue, 'Arn'),
          batchSize: fn.settings.batchSize,
          maximumBatchingWindow: fn.settings.batchWindowSeconds,
          // Never poll faster than the reserved concurrency allows: throttled batches would
          // otherwise burn receive counts and end in the DLQ.
          maximumConcurrency: fn.settings.reservedConcurrency,
          functionResponseType: 'ReportBatchItemFailures',
        },
      },
    ];
  }
  // The framework makes the EventBridge rule (AWS::Events::Rule) and the permission to invoke.
  if (isScheduledFunction(fn)) return [{ schedule: { rate: [scheduleRate(fn.trigger.rateMinutes)], enabled: true } }];
  return unknownTrigger(fn);
}

/** EventBridge's rate expression: `rate(1 minute)`, `rate(60 minutes)` (the unit must agree with the number). */
export const scheduleRate = (minutes: number) => `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`;

export function buildFunctions(
  fns: readonly FunctionDefinition[],
  config: InfraConfig,
  context: StackContext,
): Record<string, ServerlessFunction> {
  assertUniqueIds(fns);
  return Object.fromEntries(
    fns.map((fn) => [
      fn.name,
      {
        handler: fn.handler,
        description: fn.description,
        role: functionIds(fn.name).role,
        memorySize: fn.settings.memoryMb,
        timeout: fn.settings.timeoutSeconds,
        reservedConcurrency: fn.settings.reservedConcurrency,
        environment: functionEnvironment(fn, config, context, fns),
        events: events(fn),
      },
    ]),
  );
}

/** Two functions with the same logical IDs (a repeated name, or `a-1` and `a1`, both `A1`) would silently share resources. */
export function assertUniqueIds(fns: readonly FunctionDefinition[]): void {
  const seen = new Map<string, string>();
  for (const fn of fns) {
    for (const id of [functionIds(fn.name).queue, functionIds(fn.name).lambda]) {
      const other = seen.get(id);
      if (other !== undefined) throw new Error(`functions ${other} and ${fn.name} would both use the logical ID ${id}`);
      seen.set(id, fn.name);
    }
  }
}

/** custom.esbuild.external: sharp for every function, plus each function's native modules. */
export function esbuildExternal(fns: readonly FunctionDefinition[]): string[] {
  return [...new Set(['sharp', ...fns.flatMap((fn) => fn.nativeModules)])];
}
