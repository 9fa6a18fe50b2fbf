import type { BucketRole, FunctionDefinition, Permission } from '../functions/registry';
import { type CfnFragment, type CfnResource, type CfnValue, getAtt, ref, sub } from './cfn';
import type { InfraConfig, StackContext } from './context';
import { assertUniqueIds } from './lambdaFunctions';
import { bucketId, dlqName, functionIds, queueName, SHARED, unknownTrigger } from './naming';

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
  overwrite: ['s3:GetObject', 's3:PutObject'],
  write: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
} as const;

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
export function roleStatements(fn: FunctionDefinition, context: StackContext): Statement[] {
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
    {
      Sid: `Consume${ids.queue}`,
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: getAtt(ids.queue, 'Arn'),
    },
    { Sid: 'DeadLetterPermanentFailures', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(ids.dlq, 'Arn') },
  ];
  const bucketGrants = fn.permissions.filter((p): p is Extract<Permission, { bucket: BucketRole }> => 'bucket' in p);
  const buckets: BucketRole[] = [];
  for (const grant of bucketGrants) {
    statements.push({
      Sid: grant.sid,
      Effect: 'Allow',
      Action: [...OBJECT_ACTIONS[grant.access]],
      Resource: objectResources(grant.bucket, grant.prefixes),
    });
    if (!buckets.includes(grant.bucket)) buckets.push(grant.bucket);
  }
  if (buckets.length > 0) {
    statements.push({
      Sid: 'MissingKeysAre404',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: buckets.map((bucket) => getAtt(bucketId(bucket), 'Arn')),
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

function functionResources(fn: FunctionDefinition, config: InfraConfig, context: StackContext): CfnFragment {
  const ids = functionIds(fn.name);
  const { name } = fn;
  const queueDimension = (id: string) => [{ Name: 'QueueName', Value: getAtt(id, 'QueueName') }];
  const functionDimension = [{ Name: 'FunctionName', Value: ref(ids.lambda) }];
  const sqsMetric = (metric: string, id: string) => ({ Namespace: 'AWS/SQS', MetricName: metric, Dimensions: queueDimension(id) });
  const lambdaMetric = (metric: string) => ({ Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: functionDimension });
  const everyMinute = (evaluationPeriods: number, threshold: number, statistic: string) => ({
    Statistic: statistic,
    Period: 60,
    EvaluationPeriods: evaluationPeriods,
    Threshold: threshold,
  });

  const Resources: Record<string, CfnResource> = {};
  switch (fn.trigger.type) {
    case 'uploads-queue':
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
      break;
    default:
      return unknownTrigger(name, fn.trigger.type);
  }
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
  Resources[ids.role] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: sub(`${name} function of \${AWS::StackName}`),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: roleStatements(fn, context) } }],
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
  Resources[ids.errorsAlarm] = alarm(
    `The ${name} function failed (whole invocations, not single records)`,
    lambdaMetric('Errors'),
    everyMinute(1, 0, 'Sum'),
  );
  Resources[ids.throttlesAlarm] = alarm(`The ${name} function was throttled`, lambdaMetric('Throttles'), everyMinute(1, 0, 'Sum'));

  return {
    Resources,
    Outputs: { [ids.queueUrlOutput]: { Value: ref(ids.queue) }, [ids.dlqUrlOutput]: { Value: ref(ids.dlq) } },
  };
}

/** The `resources:` fragment for every registry function (merged by the framework with the hand-written shared resources). */
export function buildResources(fns: readonly FunctionDefinition[], config: InfraConfig, context: StackContext): CfnFragment {
  assertUniqueIds(fns);
  const fragment: CfnFragment = { Resources: {}, Outputs: {} };
  for (const fn of fns) {
    const { Resources, Outputs } = functionResources(fn, config, context);
    Object.assign(fragment.Resources, Resources);
    Object.assign(fragment.Outputs, Outputs);
  }
  return fragment;
}
