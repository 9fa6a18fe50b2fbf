import { RegoEngine, TemplateFile } from '@aws/cloudformation-validate';
import { httpFunctions, queueFunctions } from '../../functions/registry';
import config from '../../pipeline.config.json';
import { type CfnResource, type Json, type JsonObject, listZip, type PackageResult, packageService } from '../../scripts/packageService';
import { ECHO, FUNCTIONS } from '../fixtures/registry/withEcho';

/**
 * Adding a function is a registry entry and a handler, nothing else: `serverless package` with
 * PIPELINE_FUNCTIONS_REGISTRY pointing at a fixture registry (the real one plus `echo`) gives echo
 * everything resize and predict get, generated, with no change to serverless.yml or infra/.
 */

const REGISTRY = 'test/fixtures/registry/withEcho.ts';

let packaged: PackageResult;
let resources: Record<string, CfnResource>;
let outputs: Record<string, JsonObject>;

beforeAll(async () => {
  packaged = await packageService({ stage: 'dev', env: { PIPELINE_FUNCTIONS_REGISTRY: REGISTRY } });
  resources = packaged.template.Resources;
  outputs = packaged.template.Outputs ?? {};
}, 300_000);

afterAll(() => packaged?.cleanup());

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const obj = (value: Json | undefined): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {});

function props(id: string): JsonObject {
  const resource = resources[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resource.Properties ?? {};
}

const ref = (id: string) => ({ Ref: id });
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const tlsOnly = (resource: Json) => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 'sqs:*',
  Resource: resource,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

const alarmActions = { AlarmActions: [ref('AlarmTopic')], OKActions: [ref('AlarmTopic')] };

test('the fixture is the real registry plus echo, with a handler of its own', () => {
  expect(ECHO.name).toBe('echo');
  expect(ECHO.handler).toBe('test/fixtures/functions/echo/handler.handler');
  const zip = listZip(`${packaged.dir}/echo.zip`).map((e) => e.name);
  expect(zip).toContain('test/fixtures/functions/echo/handler.js');
  // Its bundle requires no native module, so its zip carries none.
  expect(zip.filter((name) => name.startsWith('node_modules/'))).toEqual([]);
});

test('echo gets exactly the generated resources: subscription, queue, DLQ, their policies, role, alarms, function', () => {
  const echo = Object.keys(resources)
    .filter((id) => id.startsWith('Echo'))
    .map((id) => id.replace(/^EchoLambdaVersion\w+$/, 'EchoLambdaVersion<hash>'))
    .sort();
  expect(echo).toEqual(
    [
      'EchoSubscription',
      'EchoQueue',
      'EchoDlq',
      'EchoQueuePolicy',
      'EchoDlqPolicy',
      'EchoRole',
      'EchoDlqNotEmptyAlarm',
      'EchoQueueAgeAlarm',
      'EchoErrorsAlarm',
      'EchoThrottlesAlarm',
      // The framework's, from the generated `functions:` entry.
      'EchoLambdaFunction',
      'EchoLambdaVersion<hash>',
      'EchoLogGroup',
      'EchoEventSourceMappingSQSEchoQueue',
    ].sort(),
  );
  // Generated into serverless.yml's `resources:` (so the validator's warnings on it count), not by the framework.
  expect(packaged.declaredResourceIds).toEqual(
    expect.arrayContaining(echo.filter((id) => !/^EchoLambda|^EchoLogGroup|^EchoEvent/.test(id))),
  );
  // resize, predict and api are still there, untouched by the new function; so are the table and the user pool.
  for (const id of [
    'ResizeLambdaFunction',
    'ResizeQueue',
    'ResizeRole',
    'PredictLambdaFunction',
    'PredictQueue',
    'PredictRole',
    'ApiLambdaFunction',
    'ApiRole',
    'ImagesTable',
    'UserPool',
    'HttpApiAuthorizerJwt',
  ]) {
    expect({ id, defined: resources[id] !== undefined }).toEqual({ id, defined: true });
  }
  expect(JSON.stringify([props('ResizeRole'), props('PredictRole'), props('ApiRole')])).not.toContain('Echo');
});

test('a queue-fed function adds no route to the HTTP API and, without a table grant, gets nothing of the table', () => {
  const routes = Object.values(resources)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .map((r) => r.Properties?.RouteKey)
    .sort();
  expect(routes).toEqual(
    httpFunctions(FUNCTIONS)
      .flatMap((fn) => fn.trigger.routes.map((route) => `${route.method} ${route.path}`))
      .sort(),
  );
  expect(ECHO.permissions.some((p) => 'table' in p)).toBe(false);
  expect(JSON.stringify([props('EchoRole'), props('EchoLambdaFunction')])).not.toMatch(/ImagesTable|dynamodb:/);
});

test('EchoQueue redrives to EchoDlq after maxReceiveCount receives; both are encrypted and named after the stack', () => {
  expect(resources.EchoQueue.Type).toBe('AWS::SQS::Queue');
  expect(props('EchoQueue')).toEqual({
    QueueName: { 'Fn::Sub': '${AWS::StackName}-echo' },
    VisibilityTimeout: config.queues.visibilityTimeoutSeconds,
    SqsManagedSseEnabled: true,
    RedrivePolicy: { deadLetterTargetArn: arn('EchoDlq'), maxReceiveCount: config.queues.maxReceiveCount },
  });
  expect(config.queues.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * ECHO.settings.timeoutSeconds);
  expect(resources.EchoDlq.Type).toBe('AWS::SQS::Queue');
  expect(props('EchoDlq')).toEqual({
    QueueName: { 'Fn::Sub': '${AWS::StackName}-echo-dlq' },
    MessageRetentionPeriod: config.queues.dlqRetentionSeconds,
    SqsManagedSseEnabled: true,
  });
});

test('EchoSubscription delivers raw upload events to EchoQueue, failed deliveries to the delivery DLQ', () => {
  expect(resources.EchoSubscription.Type).toBe('AWS::SNS::Subscription');
  expect(props('EchoSubscription')).toEqual({
    TopicArn: ref('UploadsTopic'),
    Protocol: 'sqs',
    Endpoint: arn('EchoQueue'),
    RawMessageDelivery: true,
    RedrivePolicy: { deadLetterTargetArn: arn('DeliveryDlq') },
  });
});

test('EchoQueuePolicy lets only the uploads topic send, over TLS; EchoDlqPolicy only denies non-TLS', () => {
  expect(resources.EchoQueuePolicy.Type).toBe('AWS::SQS::QueuePolicy');
  expect(props('EchoQueuePolicy')).toEqual({
    Queues: [ref('EchoQueue')],
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'UploadsTopicSends',
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: arn('EchoQueue'),
          Condition: { ArnEquals: { 'aws:SourceArn': ref('UploadsTopic') } },
        },
        tlsOnly(arn('EchoQueue')),
      ],
    },
  });
  expect(resources.EchoDlqPolicy.Type).toBe('AWS::SQS::QueuePolicy');
  expect(props('EchoDlqPolicy')).toEqual({
    Queues: [ref('EchoDlq')],
    PolicyDocument: { Version: '2012-10-17', Statement: [tlsOnly(arn('EchoDlq'))] },
  });
});

test('EchoRole: its own log group, X-Ray, its own queue and DLQ, read on uploads, and nothing else', () => {
  const role = props('EchoRole');
  expect(resources.EchoRole.Type).toBe('AWS::IAM::Role');
  expect(role.Description).toEqual({ 'Fn::Sub': 'echo function of ${AWS::StackName}' });
  expect(role.ManagedPolicyArns).toBeUndefined();
  expect(role.AssumeRolePolicyDocument).toEqual({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  const policies = asArray(role.Policies as Json[]).map(obj);
  expect(policies.map((p) => p.PolicyName)).toEqual(['echo']);
  expect(obj(policies[0].PolicyDocument).Statement).toEqual([
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${config.service}-dev-echo:*`,
      },
    },
    { Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    {
      Sid: 'ConsumeEchoQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: arn('EchoQueue'),
    },
    { Sid: 'DeadLetterPermanentFailures', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn('EchoDlq') },
    {
      Sid: 'ReadUploads',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: { 'Fn::Sub': '${UploadsBucket.Arn}/*' },
    },
    { Sid: 'MissingKeysAre404', Effect: 'Allow', Action: 's3:ListBucket', Resource: [arn('UploadsBucket')] },
  ]);
  // The function uses it (and the framework made no shared role).
  expect(props('EchoLambdaFunction').Role).toEqual(arn('EchoRole'));
  expect(resources.IamRoleLambdaExecution).toBeUndefined();
});

test('the four Echo alarms watch its DLQ, its queue age, its errors and its throttles', () => {
  const expected: Record<string, JsonObject> = {
    EchoDlqNotEmptyAlarm: {
      AlarmDescription: 'Images the echo function gave up on are waiting in the echo DLQ',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['EchoDlq', 'QueueName'] } }],
      Statistic: 'Maximum',
      EvaluationPeriods: 1,
      Threshold: 0,
    },
    EchoQueueAgeAlarm: {
      AlarmDescription: 'The echo queue is falling behind',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['EchoQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      EvaluationPeriods: 5,
      Threshold: config.alarms.oldestMessageAgeSeconds,
    },
    EchoErrorsAlarm: {
      AlarmDescription: 'The echo function failed (whole invocations, not single records)',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref('EchoLambdaFunction') }],
      Statistic: 'Sum',
      EvaluationPeriods: 1,
      Threshold: 0,
    },
    EchoThrottlesAlarm: {
      AlarmDescription: 'The echo function was throttled',
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: ref('EchoLambdaFunction') }],
      Statistic: 'Sum',
      EvaluationPeriods: 1,
      Threshold: 0,
    },
  };
  for (const [id, properties] of Object.entries(expected)) {
    expect({ id, type: resources[id]?.Type }).toEqual({ id, type: 'AWS::CloudWatch::Alarm' });
    expect({ id, properties: props(id) }).toEqual({
      id,
      properties: {
        ...properties,
        Period: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        ...alarmActions,
      },
    });
  }
});

test('EchoQueueUrl and EchoDlqUrl are outputs', () => {
  expect(outputs.EchoQueueUrl).toEqual({ Value: ref('EchoQueue') });
  expect(outputs.EchoDlqUrl).toEqual({ Value: ref('EchoDlq') });
  for (const output of ['ResizeQueueUrl', 'ResizeDlqUrl', 'PredictQueueUrl', 'PredictDlqUrl']) expect(outputs[output]).toBeDefined();
});

test('EchoLambdaFunction is sized from the registry entry, and its event source mapping polls EchoQueue with partial batch responses', () => {
  const fn = props('EchoLambdaFunction');
  expect(fn).toMatchObject({
    Handler: ECHO.handler,
    Description: ECHO.description,
    Runtime: 'nodejs24.x',
    Architectures: ['arm64'],
    TracingConfig: { Mode: 'Active' },
    FunctionName: `${config.service}-dev-echo`,
    MemorySize: ECHO.settings.memoryMb,
    Timeout: ECHO.settings.timeoutSeconds,
    ReservedConcurrentExecutions: ECHO.settings.reservedConcurrency,
  });
  expect(obj(fn.Environment).Variables).toEqual({
    POWERTOOLS_TRACE_ENABLED: 'true',
    UPLOADS_BUCKET: ref('UploadsBucket'),
    THUMBNAILS_BUCKET: ref('ThumbnailsBucket'),
    MODELS_BUCKET: ref('ModelsBucket'),
    POWERTOOLS_METRICS_NAMESPACE: config.service,
    LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
    ECHO_DLQ_URL: ref('EchoDlq'),
    POWERTOOLS_SERVICE_NAME: 'echo',
  });
  const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  // One per queue-fed function: resize, predict and echo (api has none).
  expect(queueFunctions(FUNCTIONS).map((fn) => fn.name)).toEqual(['resize', 'predict', 'echo']);
  expect(mappings).toHaveLength(3);
  const mapping = resources.EchoEventSourceMappingSQSEchoQueue;
  expect(mapping.Type).toBe('AWS::Lambda::EventSourceMapping');
  expect(mapping.Properties).toMatchObject({
    EventSourceArn: arn('EchoQueue'),
    FunctionName: arn('EchoLambdaFunction'),
    BatchSize: ECHO.settings.batchSize,
    MaximumBatchingWindowInSeconds: ECHO.settings.batchWindowSeconds,
    ScalingConfig: { MaximumConcurrency: ECHO.settings.reservedConcurrency },
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    Enabled: true,
  });
});

test('@aws/cloudformation-validate reports no error, and no warning on the generated Echo resources', () => {
  const engine = new RegoEngine();
  try {
    const report = engine.validateStandard(new TemplateFile(packaged.templatePath));
    const show = (d: (typeof report.diagnostics)[number]) => `${d.severity} ${d.ruleId} ${d.entity?.logicalId ?? ''}: ${d.message}`;
    expect(report.diagnostics.filter((d) => d.severity === 'ERROR' || d.severity === 'FATAL').map(show)).toEqual([]);
    const ours = new Set(packaged.declaredResourceIds);
    expect(report.diagnostics.filter((d) => d.severity === 'WARN' && ours.has(d.entity?.logicalId ?? '')).map(show)).toEqual([]);
  } finally {
    engine.free();
  }
});
