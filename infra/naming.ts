import { dlqUrlOutput, pascalCase, queueUrlOutput } from '../functions/naming';
import type { BucketRole } from '../functions/registry';

export { dlqName, pascalCase, queueName } from '../functions/naming';

/**
 * Logical IDs and names of everything generated for one function. They must never change for an
 * existing function: CloudFormation replaces (and so empties) a queue whose logical ID changes.
 */

/**
 * The framework's own logical ID of a function (lib/plugins/aws/lib/naming.js:
 * getNormalizedFunctionName): dashes become `Dash`, so `thumb-extra` is `ThumbDashextraLambdaFunction`.
 */
export const lambdaLogicalId = (name: string) =>
  `${name
    .replace(/-/g, 'Dash')
    .replace(/_/g, 'Underscore')
    .replace(/^./, (c) => c.toUpperCase())}LambdaFunction`;

export interface FunctionIds {
  lambda: string;
  role: string;
  queue: string;
  dlq: string;
  subscription: string;
  queuePolicy: string;
  dlqPolicy: string;
  dlqNotEmptyAlarm: string;
  queueAgeAlarm: string;
  errorsAlarm: string;
  throttlesAlarm: string;
  queueUrlOutput: string;
  dlqUrlOutput: string;
}

export function functionIds(name: string): FunctionIds {
  const p = pascalCase(name);
  return {
    lambda: lambdaLogicalId(name),
    role: `${p}Role`,
    queue: `${p}Queue`,
    dlq: `${p}Dlq`,
    subscription: `${p}Subscription`,
    queuePolicy: `${p}QueuePolicy`,
    dlqPolicy: `${p}DlqPolicy`,
    dlqNotEmptyAlarm: `${p}DlqNotEmptyAlarm`,
    queueAgeAlarm: `${p}QueueAgeAlarm`,
    errorsAlarm: `${p}ErrorsAlarm`,
    throttlesAlarm: `${p}ThrottlesAlarm`,
    queueUrlOutput: queueUrlOutput(name),
    dlqUrlOutput: dlqUrlOutput(name),
  };
}

/** The hand-written shared resources of serverless.yml that the generated ones refer to. */
export const SHARED = {
  uploadsTopic: 'UploadsTopic',
  deliveryDlq: 'DeliveryDlq',
  alarmTopic: 'AlarmTopic',
  catalogueTable: 'ImagesTable',
  userPool: 'UserPool',
  userPoolClient: 'UserPoolClient',
  userPoolAdminGroup: 'UserPoolAdminGroup',
} as const;

/** The HTTP API's JWT authorizer, as named in serverless.yml `provider.httpApi.authorizers`. */
export const JWT_AUTHORIZER = 'jwt';

/** `reconcile-checkpoint` -> `ReconcileCheckpointParameter`: an SSM parameter the stack creates for a function. */
export const parameterId = (name: string) => `${pascalCase(name)}Parameter`;

/** `/<service>/<stage>/<name>`: the stack's own SSM parameter names. */
export const parameterName = (context: { service: string; stage: string }, name: string) => `/${context.service}/${context.stage}/${name}`;

/** The alarm on a scheduled function's metric: `ReconcileUploadsMissingAlarm`. */
export const metricAlarmId = (fnName: string, metric: string) => `${pascalCase(fnName)}${metric}Alarm`;

/** `uploads` -> `UploadsBucket`. */
export const bucketId = (role: BucketRole) => `${role[0].toUpperCase()}${role.slice(1)}Bucket`;

/** The last branch over the registry's trigger types: a new type fails to compile until it is handled. */
export function unknownTrigger(fn: never): never {
  const { name, trigger } = fn as { name: string; trigger: { type: string } };
  throw new Error(`${name}: unknown trigger type ${JSON.stringify(trigger.type)}`);
}
