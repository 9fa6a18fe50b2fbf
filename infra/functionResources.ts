import {
  type BucketRole,
  type FunctionDefinition,
  isHttpFunction,
  isQueueFunction,
  isScheduledFunction,
  type Permission,
  type QueueFunction,
  queueFunctions,
} from '../functions/registry';
import { catalogueTableResources } from './catalogueTable';
import { type CfnFragment, type CfnResource, type CfnValue, getAtt, ref, sub } from './cfn';
import type { InfraConfig, StackContext } from './context';
import { httpApiResources } from './httpApi';
import { assertUniqueIds } from './lambdaFunctions';
import { bucketId, dlqName, functionIds, metricAlarmId, parameterId, parameterName, queueName, SHARED, unknownTrigger } from './naming';

/**
 * Everything serverless.yml's `resources:` holds per function: its subscription to the uploads
 * topic, its queue and DLQ with their policies, its role and its alarms, plus the outputs.
 */

export type Statement = {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: CfnValue;
  Principal?: CfnValue;
  Condition?: CfnValue;
};

const OBJECT_ACTIONS = {
  read: ['s3:GetObject', 's3:GetObjectVersion'],
  metadata: ['s3:GetObject'],
  overwrite: ['s3:GetObject', 's3:PutObject'],
  write: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
  put: ['s3:PutObject'],
  delete: ['s3:DeleteObject'],
  list: [],
} as const;

/** Query reads the table's indexes too, each its own resource (`<table ARN>/index/<name>`). */
const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  write: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
} as const;

/**
 * Over every queue-fed function's queues: an operator reads, deletes and sends back DLQ messages;
 * the reconciler only peeks at them (peekQueue: ReceiveMessage, then ChangeMessageVisibility(Batch)
 * back to 0). Both read the main queues' depths and send to them.
 */
const QUEUE_GRANTS = {
  operate: {
    dlqs: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
    queues: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
  },
  repair: {
    dlqs: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility'],
    queues: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
  },
} as const satisfies Record<Extract<Permission, { queues: string }>['queues'], { dlqs: string[]; queues: string[] }>;

type BucketGrant = Extract<Permission, { bucket: BucketRole }>;
type TableGrant = Extract<Permission, { table: string }>;

/** The objects of a bucket, or only those under each prefix (one resource, or a list of them). */
function objectResources(bucket: BucketRole, prefixes: readonly string[] = ['']): CfnValue {
  const resources = prefixes.map((prefix) => sub(`\${${bucketId(bucket)}.Arn}/${prefix}*`));
  return resources.length === 1 ? resources[0] : resources;
}

const denyInsecureTransport = (resource: CfnValue): Statement => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 'sqs:*',
  Resource: resource,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

/**
 * The function's role statements, least privilege: its own log group, X-Ray (the only Resource
 * '*': X-Ray has no resource-level permissions), its own queue and DLQ, the registry's grants.
 * s3:ListBucket on the buckets it touches only turns the 403 of a missing key into a 404, so
 * "not there (yet)" is not mistaken for a permission failure.
 */
/**
 * The function's role statements, least privilege (see above). `peers` are the stack's functions,
 * for a grant over all of them (an operator's queues).
 */
export function roleStatements(fn: FunctionDefinition, context: StackContext, peers: readonly FunctionDefinition[] = []): Statement[] {
  const ids = functionIds(fn.name);
  const statements: Statement[] = [
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: sub(
        `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${context.service}-${context.stage}-${fn.name}:*`,
      ),
    },
    { Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
  ];
  if (isQueueFunction(fn)) {
    statements.push(
      {
        Sid: `Consume${ids.queue}`,
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        Resource: getAtt(ids.queue, 'Arn'),
      },
      { Sid: 'DeadLetterPermanentFailures', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(ids.dlq, 'Arn') },
    );
  }
  const bucketGrants = fn.permissions.filter((p): p is BucketGrant => 'bucket' in p);
  const readBuckets: BucketRole[] = [];
  for (const grant of bucketGrants) {
    const actions: readonly string[] = OBJECT_ACTIONS[grant.access];
    if (actions.length > 0) {
      statements.push({ Sid: grant.sid, Effect: 'Allow', Action: [...actions], Resource: objectResources(grant.bucket, grant.prefixes) });
    }
    const lists = grant.access === 'list' || actions.includes('s3:GetObject');
    if (lists && !readBuckets.includes(grant.bucket)) readBuckets.push(grant.bucket);
  }
  if (readBuckets.length > 0) {
    statements.push({
      Sid: 'MissingKeysAre404',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: readBuckets.map((bucket) => getAtt(bucketId(bucket), 'Arn')),
    });
  }
  for (const grant of fn.permissions) {
    if (!('parameters' in grant)) continue;
    statements.push({
      Sid: grant.sid,
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:GetParameters'],
      Resource: sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${context.service}/${context.stage}/*`),
    });
  }
  for (const grant of fn.permissions) {
    if (!('parameter' in grant)) continue;
    statements.push({
      Sid: grant.sid,
      Effect: 'Allow',
      Action: grant.access === 'read-write' ? ['ssm:GetParameter', 'ssm:PutParameter'] : ['ssm:GetParameter'],
      Resource: sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${parameterName(context, grant.parameter)}`),
    });
  }
  for (const grant of fn.permissions) {
    if (!('queues' in grant)) continue;
    const consumers = queueFunctions(peers);
    statements.push(
      {
        Sid: `${grant.sid}Dlqs`,
        Effect: 'Allow',
        Action: QUEUE_GRANTS[grant.queues].dlqs,
        Resource: [...consumers.map((peer) => getAtt(functionIds(peer.name).dlq, 'Arn')), getAtt(SHARED.deliveryDlq, 'Arn')],
      },
      {
        Sid: `${grant.sid}Queues`,
        Effect: 'Allow',
        Action: QUEUE_GRANTS[grant.queues].queues,
        Resource: consumers.map((peer) => getAtt(functionIds(peer.name).queue, 'Arn')),
      },
    );
  }
  for (const grant of fn.permissions.filter((p): p is TableGrant => 'table' in p)) {
    const table = getAtt(SHARED.catalogueTable, 'Arn');
    statements.push({
      Sid: grant.sid,
      Effect: 'Allow',
      Action: [...TABLE_ACTIONS[grant.access]],
      Resource: grant.access === 'read' ? [table, sub(`\${${SHARED.catalogueTable}.Arn}/index/*`)] : table,
    });
  }
  const sids = statements.map((s) => s.Sid);
  const repeated = sids.filter((sid, i) => sids.indexOf(sid) !== i);
  if (repeated.length > 0) throw new Error(`${fn.name}: statement ids repeat in its role: ${repeated.join(', ')}`);
  return statements;
}

const alarm = (description: string, metric: Record<string, CfnValue>, extra: Record<string, CfnValue>): CfnResource => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmDescription: description,
    ...metric,
    ...extra,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [ref(SHARED.alarmTopic)],
    OKActions: [ref(SHARED.alarmTopic)],
  },
});

function functionResources(
  fn: FunctionDefinition,
  config: InfraConfig,
  context: StackContext,
  peers: readonly FunctionDefinition[],
): CfnFragment {
  const ids = functionIds(fn.name);
  const { name } = fn;
  const functionDimension = [{ Name: 'FunctionName', Value: ref(ids.lambda) }];
  const lambdaMetric = (metric: string) => ({ Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: functionDimension });
  const fragment: CfnFragment = {
    Resources: {
      [ids.role]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Description: sub(`${name} function of \${AWS::StackName}`),
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          },
          Policies: [{ PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: roleStatements(fn, context, peers) } }],
        },
      },
      [ids.errorsAlarm]: alarm(
        `The ${name} function failed (whole invocations, not single records)`,
        lambdaMetric('Errors'),
        everyMinute(1, 0, 'Sum'),
      ),
      [ids.throttlesAlarm]: alarm(`The ${name} function was throttled`, lambdaMetric('Throttles'), everyMinute(1, 0, 'Sum')),
    },
    Outputs: {},
  };
  if (isQueueFunction(fn)) {
    const queue = queueResources(fn, config);
    Object.assign(fragment.Resources, queue.Resources);
    Object.assign(fragment.Outputs, queue.Outputs);
    return fragment;
  }
  // The framework builds the HTTP API, its routes and authorizer from the function's events.
  if (isHttpFunction(fn)) return fragment;
  // The framework builds the EventBridge rule from the function's events; the alarms on its own metrics are here.
  if (isScheduledFunction(fn)) {
    for (const { metric, periods, description } of fn.alarmsOn) {
      fragment.Resources[metricAlarmId(name, metric)] = alarm(
        description,
        { Namespace: context.service, MetricName: metric, Dimensions: [{ Name: 'service', Value: name }] },
        { Statistic: 'Sum', Period: fn.trigger.rateMinutes * 60, EvaluationPeriods: periods, DatapointsToAlarm: periods, Threshold: 0 },
      );
    }
    return fragment;
  }
  return unknownTrigger(fn);
}

/**
 * The SSM parameters functions own, created with the stack (so they go with it) holding `{}`; the
 * function overwrites the value, and CloudFormation leaves it alone until the template's value changes.
 */
function parameterResources(fns: readonly FunctionDefinition[], context: StackContext): CfnFragment {
  const Resources: Record<string, CfnResource> = {};
  for (const fn of fns) {
    for (const grant of fn.permissions) {
      if (!('parameter' in grant)) continue;
      Resources[parameterId(grant.parameter)] = {
        Type: 'AWS::SSM::Parameter',
        Properties: {
          Name: parameterName(context, grant.parameter),
          Type: 'String',
          Tier: 'Standard',
          Value: '{}',
          Description: `${grant.parameter} of the ${fn.name} function (it writes it)`,
        },
      };
    }
  }
  return { Resources, Outputs: {} };
}

const everyMinute = (evaluationPeriods: number, threshold: number, statistic: string) => ({
  Statistic: statistic,
  Period: 60,
  EvaluationPeriods: evaluationPeriods,
  Threshold: threshold,
});

/** A queue-fed function's subscription to the uploads topic, its queue and DLQ with their policies and alarms. */
function queueResources(fn: QueueFunction, config: InfraConfig): CfnFragment {
  const ids = functionIds(fn.name);
  const { name } = fn;
  const queueDimension = (id: string) => [{ Name: 'QueueName', Value: getAtt(id, 'QueueName') }];
  const sqsMetric = (metric: string, id: string) => ({ Namespace: 'AWS/SQS', MetricName: metric, Dimensions: queueDimension(id) });
  const Resources: Record<string, CfnResource> = {};
  Resources[ids.subscription] = {
    Type: 'AWS::SNS::Subscription',
    Properties: {
      TopicArn: ref(SHARED.uploadsTopic),
      Protocol: 'sqs',
      Endpoint: getAtt(ids.queue, 'Arn'),
      RawMessageDelivery: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt(SHARED.deliveryDlq, 'Arn') },
    },
  };
  Resources[ids.queue] = {
    Type: 'AWS::SQS::Queue',
    Properties: {
      QueueName: sub(`\${AWS::StackName}-${queueName(name)}`),
      VisibilityTimeout: config.queues.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt(ids.dlq, 'Arn'), maxReceiveCount: config.queues.maxReceiveCount },
    },
  };
  Resources[ids.dlq] = {
    Type: 'AWS::SQS::Queue',
    Properties: {
      QueueName: sub(`\${AWS::StackName}-${dlqName(name)}`),
      MessageRetentionPeriod: config.queues.dlqRetentionSeconds,
      SqsManagedSseEnabled: true,
    },
  };
  Resources[ids.queuePolicy] = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [ref(ids.queue)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'UploadsTopicSends',
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: getAtt(ids.queue, 'Arn'),
            Condition: { ArnEquals: { 'aws:SourceArn': ref(SHARED.uploadsTopic) } },
          },
          denyInsecureTransport(getAtt(ids.queue, 'Arn')),
        ] satisfies Statement[],
      },
    },
  };
  Resources[ids.dlqPolicy] = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [ref(ids.dlq)],
      PolicyDocument: { Version: '2012-10-17', Statement: [denyInsecureTransport(getAtt(ids.dlq, 'Arn'))] satisfies Statement[] },
    },
  };
  Resources[ids.dlqNotEmptyAlarm] = alarm(
    `Images the ${name} function gave up on are waiting in the ${name} DLQ`,
    sqsMetric('ApproximateNumberOfMessagesVisible', ids.dlq),
    everyMinute(1, 0, 'Maximum'),
  );
  Resources[ids.queueAgeAlarm] = alarm(
    `The ${name} queue is falling behind`,
    sqsMetric('ApproximateAgeOfOldestMessage', ids.queue),
    everyMinute(5, config.alarms.oldestMessageAgeSeconds, 'Maximum'),
  );
  return {
    Resources,
    Outputs: { [ids.queueUrlOutput]: { Value: ref(ids.queue) }, [ids.dlqUrlOutput]: { Value: ref(ids.dlq) } },
  };
}

/**
 * The `resources:` fragment generated from the registry (merged by the framework with the
 * hand-written shared resources): every function's own resources, the catalogue table when some
 * function uses it, and what the HTTP API needs when some function is behind it.
 */
export function buildResources(fns: readonly FunctionDefinition[], config: InfraConfig, context: StackContext): CfnFragment {
  assertUniqueIds(fns);
  const fragment: CfnFragment = { Resources: {}, Outputs: {} };
  const add = (part: Pick<CfnFragment, 'Resources' | 'Outputs'>) => {
    Object.assign(fragment.Resources, part.Resources);
    Object.assign(fragment.Outputs, part.Outputs);
  };
  for (const fn of fns) add(functionResources(fn, config, context, fns));
  add(parameterResources(fns, context));
  if (fns.some((fn) => fn.permissions.some((grant) => 'table' in grant))) add(catalogueTableResources());
  const api = httpApiResources(fns, config, context);
  add(api);
  if (Object.keys(api.extensions).length > 0) fragment.extensions = api.extensions;
  return fragment;
}
