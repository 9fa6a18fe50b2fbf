import {
  FUNCTIONS,
  type HttpFunction,
  httpFunctions,
  type QueueFunction,
  queueFunctions,
  scheduledFunctions,
} from '../../functions/registry';
import type { StackContext } from '../../infra/context';
import { buildResources, roleStatements } from '../../infra/functionResources';
import { bucketCors, buildHttpApi } from '../../infra/httpApi';
import { assertUniqueIds, buildFunctions, esbuildExternal, functionEnvironment, scheduleRate } from '../../infra/lambdaFunctions';
import { functionIds, lambdaLogicalId, pascalCase } from '../../infra/naming';
import config from '../../pipeline.config.json';
import { catalogueTableProperties } from '../../shared/catalogue/table';

/** The template generators (infra/*.ts) on literal registries: no framework involved. */

const dev: StackContext = {
  service: 'image-pipeline',
  stage: 'dev',
  logLevel: 'INFO',
  modelUriParameter: '/image-pipeline/dev/model-uri',
  traceEnabled: 'true',
  jwtIssuerUrl: '',
  jwtAudience: '',
  corsOrigins: [],
  localPorts: { s3Port: 4569, sqsPort: 9324, dynamodbPort: 8000, apiPort: 3000 },
};
const local: StackContext = {
  ...dev,
  stage: 'local',
  logLevel: 'DEBUG',
  modelUriParameter: '',
  traceEnabled: 'false',
  localPorts: { s3Port: 4669, sqsPort: 9424, dynamodbPort: 8100, apiPort: 3100 },
};
/** A stage whose tokens come from an issuer of its own (another user pool, Auth0...). */
const external: StackContext = {
  ...dev,
  jwtIssuerUrl: 'https://issuer.example/tenant',
  jwtAudience: 'client-a, client-b',
};

/** A queue-fed function (like resize and predict). */
const fixture = (name: string, overrides: Partial<QueueFunction> = {}): QueueFunction => ({
  name,
  handler: `functions/${name}/handler.handler`,
  description: `the ${name} function`,
  settings: { memoryMb: 256, timeoutSeconds: 10, batchSize: 5, batchWindowSeconds: 1, reservedConcurrency: 2 },
  trigger: { type: 'uploads-queue' },
  outputs: [],
  environment: [],
  permissions: [{ sid: 'ReadUploads', bucket: 'uploads', access: 'read' }],
  nativeModules: [],
  cost: { s3RequestsPerImage: () => ({ gets: 1, heads: 0, puts: 0 }), defaultMsPerImage: { ms: 1, source: 'test' } },
  ...overrides,
});

/** A function behind the HTTP API (like api), with a route of each access. */
const httpFixture = (name: string, overrides: Partial<HttpFunction> = {}): HttpFunction => ({
  name,
  handler: `functions/${name}/handler.handler`,
  description: `the ${name} function`,
  settings: { memoryMb: 128, timeoutSeconds: 5, reservedConcurrency: 3 },
  trigger: {
    type: 'http-api',
    routes: [
      { method: 'GET', path: '/ping', access: 'public' },
      { method: 'POST', path: '/things', access: 'user' },
      { method: 'DELETE', path: '/things/{id}', access: 'admin' },
    ],
  },
  environment: ['API_AUTH'],
  permissions: [{ sid: 'ReadCatalogue', table: 'catalogue', access: 'read' }],
  nativeModules: [],
  ...overrides,
});

const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const real = (name: string) => FUNCTIONS.find((fn) => fn.name === name)!;

describe('naming', () => {
  test('Pascal case of the name is the logical ID prefix; dashes start a new word', () => {
    expect(pascalCase('resize')).toBe('Resize');
    expect(pascalCase('thumb-extra')).toBe('ThumbExtra');
    expect(functionIds('thumb-extra')).toMatchObject({
      queue: 'ThumbExtraQueue',
      dlq: 'ThumbExtraDlq',
      role: 'ThumbExtraRole',
      subscription: 'ThumbExtraSubscription',
      queuePolicy: 'ThumbExtraQueuePolicy',
      dlqPolicy: 'ThumbExtraDlqPolicy',
      dlqNotEmptyAlarm: 'ThumbExtraDlqNotEmptyAlarm',
      queueAgeAlarm: 'ThumbExtraQueueAgeAlarm',
      errorsAlarm: 'ThumbExtraErrorsAlarm',
      throttlesAlarm: 'ThumbExtraThrottlesAlarm',
      queueUrlOutput: 'ThumbExtraQueueUrl',
      dlqUrlOutput: 'ThumbExtraDlqUrl',
    });
  });

  test("the function's own logical ID follows the framework's naming (dashes become Dash)", () => {
    expect(lambdaLogicalId('resize')).toBe('ResizeLambdaFunction');
    expect(lambdaLogicalId('thumb-extra')).toBe('ThumbDashextraLambdaFunction');
    expect(functionIds('thumb-extra').lambda).toBe('ThumbDashextraLambdaFunction');
  });

  test('names that would not make a queue name and logical ID are refused', () => {
    for (const bad of ['Resize', 'thumb_extra', '-x', 'x-', 'a--b', '', '9lives']) expect(() => pascalCase(bad)).toThrow(/lowercase words/);
  });

  test('two functions with the same logical IDs are refused', () => {
    expect(() => assertUniqueIds([fixture('a-1'), fixture('a1')])).toThrow(/both use the logical ID A1Queue/);
    expect(() => buildResources([fixture('echo'), fixture('echo')], config, dev)).toThrow(/echo and echo/);
    expect(() => assertUniqueIds(FUNCTIONS)).not.toThrow();
  });
});

describe('roleStatements', () => {
  test('a function with only an uploads read grant gets Logs, Tracing, its queue, its DLQ, ReadUploads and ListBucket on uploads', () => {
    expect(roleStatements(fixture('echo'), dev)).toEqual([
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/image-pipeline-dev-echo:*',
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
  });

  test("predict: bucket grants in the registry's order, ListBucket in order of first mention, then its parameters", () => {
    const statements = roleStatements(real('predict'), dev);
    expect(statements.map((s) => s.Sid)).toEqual([
      'Logs',
      'Tracing',
      'ConsumePredictQueue',
      'DeadLetterPermanentFailures',
      'ReadUploads',
      'ReadModels',
      'WritePredictions',
      'ObscureFlaggedThumbnails',
      'MissingKeysAre404',
      'ReadOwnParameters',
      'RecordInCatalogue',
    ]);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.ObscureFlaggedThumbnails).toEqual({
      Sid: 'ObscureFlaggedThumbnails',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: [256, 512, 1024].map((size) => ({ 'Fn::Sub': `\${ThumbnailsBucket.Arn}/${size}/*` })),
    });
    expect(bySid.WritePredictions).toEqual({
      Sid: 'WritePredictions',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: { 'Fn::Sub': '${ThumbnailsBucket.Arn}/predictions/*' },
    });
    expect(bySid.MissingKeysAre404.Resource).toEqual([arn('UploadsBucket'), arn('ModelsBucket'), arn('ThumbnailsBucket')]);
    expect(bySid.ReadOwnParameters).toEqual({
      Sid: 'ReadOwnParameters',
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:GetParameters'],
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/image-pipeline/dev/*' },
    });
    expect(bySid.RecordInCatalogue).toEqual({
      Sid: 'RecordInCatalogue',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Resource: arn('ImagesTable'),
    });
  });

  test('put is PutObject alone, delete DeleteObject alone, each on its objects only', () => {
    const statements = roleStatements(
      fixture('echo', {
        permissions: [
          { sid: 'PresignUploads', bucket: 'uploads', access: 'put', prefixes: ['u/'] },
          { sid: 'DeleteUploads', bucket: 'uploads', access: 'delete' },
        ],
      }),
      dev,
    );
    expect(statements.slice(4)).toEqual([
      { Sid: 'PresignUploads', Effect: 'Allow', Action: ['s3:PutObject'], Resource: { 'Fn::Sub': '${UploadsBucket.Arn}/u/*' } },
      { Sid: 'DeleteUploads', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: { 'Fn::Sub': '${UploadsBucket.Arn}/*' } },
    ]);
  });

  test('ListBucket only on the buckets some grant reads (GetObject) from: never for put or delete alone', () => {
    const listed = (permissions: QueueFunction['permissions']) =>
      roleStatements(fixture('echo', { permissions }), dev).find((s) => s.Sid === 'MissingKeysAre404')?.Resource;
    expect(
      listed([
        { sid: 'PutUploads', bucket: 'uploads', access: 'put' },
        { sid: 'DeleteUploads', bucket: 'uploads', access: 'delete' },
      ]),
    ).toBeUndefined();
    expect(
      listed([
        { sid: 'PutUploads', bucket: 'uploads', access: 'put' },
        { sid: 'DeleteModels', bucket: 'models', access: 'delete' },
        { sid: 'ReadThumbnails', bucket: 'thumbnails', access: 'read', prefixes: ['256/'] },
      ]),
    ).toEqual([arn('ThumbnailsBucket')]);
    for (const access of ['read', 'overwrite', 'write'] as const) {
      expect(listed([{ sid: 'Grant', bucket: 'models', access }])).toEqual([arn('ModelsBucket')]);
    }
  });

  test('list is s3:ListBucket alone: no statement of its own, the bucket in MissingKeysAre404', () => {
    const statements = roleStatements(fixture('echo', { permissions: [{ sid: 'ListModels', bucket: 'models', access: 'list' }] }), dev);
    expect(statements.slice(4)).toEqual([
      { Sid: 'MissingKeysAre404', Effect: 'Allow', Action: 's3:ListBucket', Resource: [arn('ModelsBucket')] },
    ]);
  });

  test("an operator's queues: every queue-fed peer's DLQ and the delivery DLQ to drain, every queue to send back to; none of an http peer", () => {
    const operator = httpFixture('ops', { permissions: [{ sid: 'OperateQueues', queues: 'operate' }] });
    const peers = [fixture('echo'), fixture('thumb-extra'), operator];
    expect(roleStatements(operator, dev, peers).slice(2)).toEqual([
      {
        Sid: 'OperateQueuesDlqs',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        Resource: [arn('EchoDlq'), arn('ThumbExtraDlq'), arn('DeliveryDlq')],
      },
      {
        Sid: 'OperateQueuesQueues',
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        Resource: [arn('EchoQueue'), arn('ThumbExtraQueue')],
      },
    ]);
    // buildResources gives the role every function of the stack as its peers.
    const { Resources } = buildResources(peers, config, external);
    const policy = (Resources.OpsRole.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[])[0];
    expect(policy.PolicyDocument.Statement).toEqual(roleStatements(operator, external, peers));
  });

  test('table read: GetItem and Query on the table and its indexes; write: GetItem, PutItem, DeleteItem on the table alone', () => {
    const table = (access: 'read' | 'write') =>
      roleStatements(fixture('echo', { permissions: [{ sid: 'Catalogue', table: 'catalogue', access }] }), dev).slice(4);
    expect(table('read')).toEqual([
      {
        Sid: 'Catalogue',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [arn('ImagesTable'), { 'Fn::Sub': '${ImagesTable.Arn}/index/*' }],
      },
    ]);
    expect(table('write')).toEqual([
      {
        Sid: 'Catalogue',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: arn('ImagesTable'),
      },
    ]);
    // A table grant is no bucket grant: no ListBucket with it.
    expect(table('read').map((s) => s.Sid)).not.toContain('MissingKeysAre404');
  });

  test('an http function: its log group, X-Ray and its grants, no queue or DLQ of any kind', () => {
    const statements = roleStatements(httpFixture('web'), dev);
    expect(statements.map((s) => s.Sid)).toEqual(['Logs', 'Tracing', 'ReadCatalogue']);
    expect(statements[0].Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/image-pipeline-dev-web:*',
    });
    expect(JSON.stringify(statements)).not.toMatch(/sqs:|Queue|Dlq/);
  });

  test('the real api: presigned PutObject under the upload prefix, DeleteObject on uploads, GetObject on the sizes, catalogue reads; nothing else', () => {
    const statements = roleStatements(real('api'), dev);
    expect(statements.slice(2)).toEqual([
      {
        Sid: 'PresignUploads',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: { 'Fn::Sub': `\${UploadsBucket.Arn}/${config.api.uploadPrefix}*` },
      },
      { Sid: 'DeleteUploads', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: { 'Fn::Sub': '${UploadsBucket.Arn}/*' } },
      {
        Sid: 'ReadThumbnails',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: config.thumbnails.sizes.map((size) => ({ 'Fn::Sub': `\${ThumbnailsBucket.Arn}/${size}/*` })),
      },
      { Sid: 'MissingKeysAre404', Effect: 'Allow', Action: 's3:ListBucket', Resource: [arn('ThumbnailsBucket')] },
      {
        Sid: 'ReadCatalogue',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [arn('ImagesTable'), { 'Fn::Sub': '${ImagesTable.Arn}/index/*' }],
      },
    ]);
  });

  test('a bucket granted twice is listed once; no bucket grant means no ListBucket; a repeated Sid is refused', () => {
    const twice = fixture('echo', {
      permissions: [
        { sid: 'ReadThumbnails', bucket: 'thumbnails', access: 'read' },
        { sid: 'WriteThumbnailsCache', bucket: 'thumbnails', access: 'write', prefixes: ['cache/'] },
      ],
    });
    expect(roleStatements(twice, dev).find((s) => s.Sid === 'MissingKeysAre404')?.Resource).toEqual([arn('ThumbnailsBucket')]);
    const several = roleStatements(
      fixture('echo', { permissions: [{ sid: 'OverwriteSizes', bucket: 'thumbnails', access: 'overwrite', prefixes: ['256/', '512/'] }] }),
      dev,
    ).find((s) => s.Sid === 'OverwriteSizes');
    expect(several).toEqual({
      Sid: 'OverwriteSizes',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: [{ 'Fn::Sub': '${ThumbnailsBucket.Arn}/256/*' }, { 'Fn::Sub': '${ThumbnailsBucket.Arn}/512/*' }],
    });
    const none = roleStatements(fixture('echo', { permissions: [] }), dev);
    expect(none.map((s) => s.Sid)).toEqual(['Logs', 'Tracing', 'ConsumeEchoQueue', 'DeadLetterPermanentFailures']);
    const clash = fixture('echo', { permissions: [{ sid: 'Logs', bucket: 'uploads', access: 'read' }] });
    expect(() => roleStatements(clash, dev)).toThrow(/statement ids repeat in its role: Logs/);
  });
});

describe('buildResources', () => {
  test('per function: subscription, queue, DLQ, two queue policies, role, four alarms, and two outputs', () => {
    const { Resources, Outputs } = buildResources([fixture('thumb-extra')], config, dev);
    expect(Object.keys(Resources).sort()).toEqual(
      [
        'ThumbExtraSubscription',
        'ThumbExtraQueue',
        'ThumbExtraDlq',
        'ThumbExtraQueuePolicy',
        'ThumbExtraDlqPolicy',
        'ThumbExtraRole',
        'ThumbExtraDlqNotEmptyAlarm',
        'ThumbExtraQueueAgeAlarm',
        'ThumbExtraErrorsAlarm',
        'ThumbExtraThrottlesAlarm',
      ].sort(),
    );
    expect(Outputs).toEqual({
      ThumbExtraQueueUrl: { Value: { Ref: 'ThumbExtraQueue' } },
      ThumbExtraDlqUrl: { Value: { Ref: 'ThumbExtraDlq' } },
    });
    expect(Resources.ThumbExtraQueue.Properties.QueueName).toEqual({ 'Fn::Sub': '${AWS::StackName}-thumb-extra' });
    expect(Resources.ThumbExtraDlq.Properties.QueueName).toEqual({ 'Fn::Sub': '${AWS::StackName}-thumb-extra-dlq' });
    // The Lambda alarms point at the framework's logical ID of the function.
    expect(Resources.ThumbExtraErrorsAlarm.Properties.Dimensions).toEqual([
      { Name: 'FunctionName', Value: { Ref: 'ThumbDashextraLambdaFunction' } },
    ]);
  });

  test('per http function: its role and its Errors and Throttles alarms, no queue, DLQ, subscription, queue alarm or output', () => {
    const { Resources, Outputs } = buildResources([httpFixture('web', { permissions: [] })], config, external);
    expect(Object.keys(Resources).sort()).toEqual(['WebErrorsAlarm', 'WebRole', 'WebThrottlesAlarm']);
    expect(Outputs).toEqual({});
    expect(Resources.WebThrottlesAlarm.Properties.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: 'WebLambdaFunction' } }]);
    // With the stack's own user pool, the pool comes along (once for the API, not per function).
    const own = buildResources([httpFixture('web', { permissions: [] })], config, dev);
    expect(Object.keys(own.Resources).sort()).toEqual(
      ['UserPoolAdminGroup', 'UserPool', 'UserPoolClient', 'WebErrorsAlarm', 'WebRole', 'WebThrottlesAlarm'].sort(),
    );
    expect(own.Outputs).toEqual({ UserPoolId: { Value: { Ref: 'UserPool' } }, UserPoolClientId: { Value: { Ref: 'UserPoolClient' } } });
  });

  test('the catalogue table (with its alarms and outputs) only when some function has a table grant', () => {
    const without = buildResources([fixture('echo'), httpFixture('web', { permissions: [] })], config, dev);
    expect(Object.keys(without.Resources).filter((id) => /Images|Catalogue/.test(id))).toEqual([]);
    expect(Object.keys(without.Outputs).filter((id) => id.startsWith('Images'))).toEqual([]);
    const withTable = buildResources(
      [fixture('echo', { permissions: [{ sid: 'RecordInCatalogue', table: 'catalogue', access: 'write' }] })],
      config,
      dev,
    );
    const table = withTable.Resources.ImagesTable;
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toEqual({
      TableName: { 'Fn::Sub': '${AWS::StackName}-images' },
      ...catalogueTableProperties(),
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    for (const [id, metric] of [
      ['CatalogueReadThrottlesAlarm', 'ReadThrottleEvents'],
      ['CatalogueWriteThrottlesAlarm', 'WriteThrottleEvents'],
    ]) {
      expect({ id, properties: withTable.Resources[id].Properties }).toMatchObject({
        id,
        properties: {
          Namespace: 'AWS/DynamoDB',
          MetricName: metric,
          Dimensions: [{ Name: 'TableName', Value: { Ref: 'ImagesTable' } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        },
      });
    }
    expect(withTable.Outputs).toMatchObject({
      ImagesTableName: { Value: { Ref: 'ImagesTable' } },
      ImagesTableArn: { Value: arn('ImagesTable') },
    });
  });

  test('the HTTP parts (user pool, client, operators group, stage throttling) only when some function is http', () => {
    const queueOnly = buildResources([fixture('echo')], config, dev);
    expect(Object.keys(queueOnly.Resources).filter((id) => /^User|Operators/.test(id))).toEqual([]);
    expect(queueOnly.extensions).toBeUndefined();
    const withApi = buildResources([fixture('echo'), httpFixture('web')], config, dev);
    expect(withApi.Resources.UserPool).toMatchObject({
      Type: 'AWS::Cognito::UserPool',
      Properties: { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } },
    });
    expect(withApi.Resources.UserPoolClient).toMatchObject({
      Type: 'AWS::Cognito::UserPoolClient',
      Properties: { UserPoolId: { Ref: 'UserPool' }, GenerateSecret: false },
    });
    expect(withApi.Resources.UserPoolAdminGroup).toEqual({
      Type: 'AWS::Cognito::UserPoolGroup',
      Properties: { UserPoolId: { Ref: 'UserPool' }, GroupName: config.api.admin.group, Description: expect.any(String) },
    });
    expect(withApi.extensions).toEqual({
      HttpApiStage: {
        Properties: {
          DefaultRouteSettings: {
            DetailedMetricsEnabled: true,
            ThrottlingRateLimit: config.api.throttling.rateLimit,
            ThrottlingBurstLimit: config.api.throttling.burstLimit,
          },
        },
      },
    });
    // An issuer of the stage's own: no user pool, the stage throttling still.
    const externalApi = buildResources([httpFixture('web')], config, external);
    expect(Object.keys(externalApi.Resources).filter((id) => /^User|Operators/.test(id))).toEqual([]);
    expect(externalApi.extensions).toEqual(withApi.extensions);
  });

  test('the real registry: resize and predict their queue resources, api and operator their roles and alarms, reconcile its alarms and checkpoint, the table and the user pool', () => {
    const { Resources, Outputs } = buildResources(FUNCTIONS, config, dev);
    const queued = queueFunctions(FUNCTIONS).length;
    const http = httpFunctions(FUNCTIONS).length;
    const scheduled = scheduledFunctions(FUNCTIONS).length;
    expect([queued, http, scheduled]).toEqual([2, 2, 1]);
    expect(Object.keys(Resources)).toHaveLength(10 * queued + 3 * http + 4 * scheduled + 1 + 3 + 3);
    expect(Object.keys(Resources).filter((id) => id.startsWith('Reconcile'))).toEqual([
      'ReconcileRole',
      'ReconcileErrorsAlarm',
      'ReconcileThrottlesAlarm',
      'ReconcileUploadsMissingAlarm',
      'ReconcileCheckpointParameter',
    ]);
    expect(Resources.ReconcileUploadsMissingAlarm.Properties).toMatchObject({
      Namespace: dev.service,
      MetricName: 'UploadsMissing',
      Dimensions: [{ Name: 'service', Value: 'reconcile' }],
      Statistic: 'Sum',
      Period: config.reconcile.rateMinutes * 60,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(Resources.ReconcileCheckpointParameter.Properties).toMatchObject({
      Name: `/${dev.service}/${dev.stage}/reconcile-checkpoint`,
      Type: 'String',
      Value: '{}',
    });
    expect(Object.keys(Resources).filter((id) => id.startsWith('Api'))).toEqual(['ApiRole', 'ApiErrorsAlarm', 'ApiThrottlesAlarm']);
    expect(Object.keys(Resources).filter((id) => id.startsWith('Operator'))).toEqual([
      'OperatorRole',
      'OperatorErrorsAlarm',
      'OperatorThrottlesAlarm',
    ]);
    expect(Object.keys(Outputs).sort()).toEqual(
      [
        'PredictDlqUrl',
        'PredictQueueUrl',
        'ResizeDlqUrl',
        'ResizeQueueUrl',
        'ImagesTableName',
        'ImagesTableArn',
        'UserPoolId',
        'UserPoolClientId',
      ].sort(),
    );
    expect(Resources.ResizeQueue.Properties).toEqual({
      QueueName: { 'Fn::Sub': '${AWS::StackName}-resize' },
      VisibilityTimeout: config.queues.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: arn('ResizeDlq'), maxReceiveCount: config.queues.maxReceiveCount },
    });
    const prod = buildResources(FUNCTIONS, config, { ...dev, stage: 'prod' });
    expect(JSON.stringify(prod).replace(/-prod-|\/prod\//g, '<stage>')).toBe(
      JSON.stringify(buildResources(FUNCTIONS, config, dev)).replace(/-dev-|\/dev\//g, '<stage>'),
    );
  });
});

describe('buildFunctions', () => {
  test('on AWS: handler, own role, registry sizing, Refs for names, partial batch responses on its own queue', () => {
    const fns = buildFunctions([fixture('echo')], config, dev);
    expect(fns).toEqual({
      echo: {
        handler: 'functions/echo/handler.handler',
        description: 'the echo function',
        role: 'EchoRole',
        memorySize: 256,
        timeout: 10,
        reservedConcurrency: 2,
        environment: {
          UPLOADS_BUCKET: { Ref: 'UploadsBucket' },
          THUMBNAILS_BUCKET: { Ref: 'ThumbnailsBucket' },
          MODELS_BUCKET: { Ref: 'ModelsBucket' },
          POWERTOOLS_METRICS_NAMESPACE: 'image-pipeline',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          ECHO_DLQ_URL: { Ref: 'EchoDlq' },
          POWERTOOLS_SERVICE_NAME: 'echo',
        },
        events: [
          {
            sqs: {
              arn: arn('EchoQueue'),
              batchSize: 5,
              maximumBatchingWindow: 1,
              maximumConcurrency: 2,
              functionResponseType: 'ReportBatchItemFailures',
            },
          },
        ],
      },
    });
  });

  test('locally: literal bucket names and DLQ URLs on the given ports, never a Ref', () => {
    const env = functionEnvironment(fixture('thumb-extra'), config, local);
    expect(env).toMatchObject({
      UPLOADS_BUCKET: config.local.buckets.uploads,
      THUMBNAILS_BUCKET: config.local.buckets.thumbnails,
      MODELS_BUCKET: config.local.buckets.models,
      LOG_LEVEL: 'DEBUG',
      THUMB_EXTRA_DLQ_URL: `http://127.0.0.1:9424/${config.local.accountId}/thumb-extra-dlq`,
    });
    const all = buildFunctions(FUNCTIONS, config, local);
    expect(JSON.stringify(all.resize.environment)).not.toContain('Ref');
    expect(all.resize.environment.RESIZE_DLQ_URL).toBe(`http://127.0.0.1:9424/${config.local.accountId}/resize-dlq`);
    expect(all.predict.environment.PREDICT_DLQ_URL).toBe(`http://127.0.0.1:9424/${config.local.accountId}/predict-dlq`);
  });

  test("the registry's extra variables: predict's MODEL_URI_PARAMETER from the stage's parameter", () => {
    expect(functionEnvironment(real('predict'), config, dev).MODEL_URI_PARAMETER).toBe('/image-pipeline/dev/model-uri');
    expect(functionEnvironment(real('predict'), config, local).MODEL_URI_PARAMETER).toBe('');
    expect(functionEnvironment(real('resize'), config, dev).MODEL_URI_PARAMETER).toBeUndefined();
    expect(
      functionEnvironment(fixture('echo', { environment: ['POWERTOOLS_TRACE_ENABLED'] }), config, local).POWERTOOLS_TRACE_ENABLED,
    ).toBe('false');
  });

  test('an http function: one httpApi event per route, behind the JWT authorizer unless public; no DLQ variable', () => {
    const fns = buildFunctions([httpFixture('web')], config, dev);
    expect(fns.web.events).toEqual([
      { httpApi: { method: 'GET', path: '/ping' } },
      { httpApi: { method: 'POST', path: '/things', authorizer: { name: 'jwt' } } },
      { httpApi: { method: 'DELETE', path: '/things/{id}', authorizer: { name: 'jwt' } } },
    ]);
    expect(fns.web).toMatchObject({ role: 'WebRole', memorySize: 128, timeout: 5, reservedConcurrency: 3 });
    expect(Object.keys(fns.web.environment).filter((name) => name.endsWith('_DLQ_URL'))).toEqual([]);
    // The real api: /health alone is public.
    const api = buildFunctions(FUNCTIONS, config, dev).api.events;
    const routes = httpFunctions(FUNCTIONS).find((fn) => fn.name === 'api')?.trigger.routes ?? [];
    expect(api).toEqual(
      routes.map((route) => ({
        httpApi: { method: route.method, path: route.path, ...(route.access !== 'public' && { authorizer: { name: 'jwt' } }) },
      })),
    );
    expect(routes.filter((route) => route.access === 'public').map((route) => route.path)).toEqual(['/health']);
  });

  test("QUEUE_URLS: every queue-fed peer's queue and DLQ URL and the delivery DLQ's, Refs on AWS and literals locally", () => {
    const operator = httpFixture('ops', { environment: ['QUEUE_URLS'], permissions: [] });
    const peers = [fixture('thumb-extra'), operator];
    const queueVariables = (env: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(env).filter(([name]) => /_(QUEUE|DLQ)_URL$/.test(name)));
    expect(queueVariables(functionEnvironment(operator, config, dev, peers))).toEqual({
      DELIVERY_DLQ_URL: { Ref: 'DeliveryDlq' },
      THUMB_EXTRA_QUEUE_URL: { Ref: 'ThumbExtraQueue' },
      THUMB_EXTRA_DLQ_URL: { Ref: 'ThumbExtraDlq' },
    });
    const at = (name: string) => `http://127.0.0.1:9424/${config.local.accountId}/${name}`;
    expect(queueVariables(functionEnvironment(operator, config, local, peers))).toEqual({
      DELIVERY_DLQ_URL: at(config.local.queues.deliveryDlq),
      THUMB_EXTRA_QUEUE_URL: at('thumb-extra'),
      THUMB_EXTRA_DLQ_URL: at('thumb-extra-dlq'),
    });
    expect(buildFunctions(peers, config, dev).ops.environment).toEqual(functionEnvironment(operator, config, dev, peers));
    // Only for a function that asks for it.
    expect(queueVariables(functionEnvironment(httpFixture('web'), config, dev, peers))).toEqual({});
  });

  test('API_AUTH is jwt on AWS and local only on the local stage', () => {
    expect(functionEnvironment(httpFixture('web'), config, dev).API_AUTH).toBe('jwt');
    expect(functionEnvironment(httpFixture('web'), config, external).API_AUTH).toBe('jwt');
    expect(functionEnvironment(httpFixture('web'), config, { ...dev, stage: 'prod' }).API_AUTH).toBe('jwt');
    expect(functionEnvironment(httpFixture('web'), config, local).API_AUTH).toBe('local');
    expect(functionEnvironment(real('api'), config, dev).API_AUTH).toBe('jwt');
    expect(functionEnvironment(real('api'), config, local).API_AUTH).toBe('local');
    // Only the functions that ask for it.
    expect(functionEnvironment(real('resize'), config, local).API_AUTH).toBeUndefined();
    expect(functionEnvironment(httpFixture('web', { environment: [] }), config, local).API_AUTH).toBeUndefined();
  });

  test('IMAGES_TABLE only with a table grant: a Ref on AWS, the literal local name on the local stage', () => {
    expect(functionEnvironment(fixture('echo'), config, dev).IMAGES_TABLE).toBeUndefined();
    expect(functionEnvironment(httpFixture('web', { permissions: [] }), config, dev).IMAGES_TABLE).toBeUndefined();
    for (const access of ['read', 'write'] as const) {
      const fn = fixture('echo', { permissions: [{ sid: 'Catalogue', table: 'catalogue', access }] });
      expect(functionEnvironment(fn, config, dev).IMAGES_TABLE).toEqual({ Ref: 'ImagesTable' });
      expect(functionEnvironment(fn, config, local).IMAGES_TABLE).toBe(config.local.tables.catalogue);
    }
    const all = buildFunctions(FUNCTIONS, config, local);
    for (const fn of FUNCTIONS) {
      const expected = fn.permissions.some((grant) => 'table' in grant) ? 'images' : undefined;
      expect({ fn: fn.name, table: all[fn.name].environment.IMAGES_TABLE }).toEqual({ fn: fn.name, table: expected });
    }
    expect(all.operator.environment.IMAGES_TABLE).toBeUndefined();
    expect(JSON.stringify(all.api.environment)).not.toContain('Ref');
  });

  test('the real registry is sized from pipeline.config.json', () => {
    const fns = buildFunctions(FUNCTIONS, config, dev);
    for (const [name, declared] of Object.entries(config.functions)) {
      expect(fns[name]).toMatchObject({
        memorySize: declared.memoryMb,
        timeout: declared.timeoutSeconds,
        reservedConcurrency: declared.reservedConcurrency,
      });
    }
  });
});

test('esbuild keeps sharp and every native module external, once each', () => {
  expect(esbuildExternal(FUNCTIONS)).toEqual(['sharp', 'onnxruntime-node']);
  expect(esbuildExternal([httpFixture('web', { nativeModules: ['y'] })])).toEqual(['sharp', 'y']);
  expect(esbuildExternal([fixture('a', { nativeModules: ['x', 'sharp'] }), fixture('b', { nativeModules: ['x'] })])).toEqual([
    'sharp',
    'x',
  ]);
});

describe('buildHttpApi', () => {
  test("with the stack's own user pool: its issuer URL and its app client as the audience; no CORS without origins", () => {
    expect(buildHttpApi(dev)).toEqual({
      metrics: true,
      authorizers: {
        jwt: {
          type: 'jwt',
          identitySource: '$request.header.Authorization',
          issuerUrl: { 'Fn::Sub': 'https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}' },
          audience: [{ Ref: 'UserPoolClient' }],
        },
      },
    });
  });

  test("with the stage's own issuer: that issuer and its audiences (comma-separated, trimmed), nothing of the stack's pool", () => {
    const api = buildHttpApi(external);
    expect(api.authorizers).toEqual({
      jwt: {
        type: 'jwt',
        identitySource: '$request.header.Authorization',
        issuerUrl: 'https://issuer.example/tenant',
        audience: ['client-a', 'client-b'],
      },
    });
    expect(JSON.stringify(api)).not.toContain('UserPool');
  });

  test("the stage's origins are the API's CORS origins and the buckets' CORS rules; none removes the buckets' CORS", () => {
    const origins = ['https://app.example.com'];
    expect(buildHttpApi({ ...dev, corsOrigins: origins }).cors).toEqual({
      allowedOrigins: origins,
      allowedMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['Content-Type', 'Authorization'],
      maxAge: 600,
    });
    expect(bucketCors({ ...dev, corsOrigins: origins })).toEqual({
      uploads: { CorsRules: [{ AllowedMethods: ['POST'], AllowedOrigins: origins, AllowedHeaders: ['*'], MaxAge: 600 }] },
      thumbnails: { CorsRules: [{ AllowedMethods: ['GET'], AllowedOrigins: origins, AllowedHeaders: ['*'], MaxAge: 600 }] },
    });
    expect(bucketCors(dev)).toEqual({ uploads: { Ref: 'AWS::NoValue' }, thumbnails: { Ref: 'AWS::NoValue' } });
  });
});

test("the operator's role: every queue-fed function's DLQ (read, delete, send back) and queue (send, depth), the buckets' listing and the output markers, nothing else", () => {
  const operator = FUNCTIONS.find((fn) => fn.name === 'operator')!;
  const statements = roleStatements(operator, dev, FUNCTIONS).filter((statement) => !['Logs', 'Tracing'].includes(statement.Sid));
  expect(statements).toEqual([
    {
      Sid: 'ReadOutputMarkers',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: { 'Fn::Sub': '${ThumbnailsBucket.Arn}/*' },
    },
    { Sid: 'MissingKeysAre404', Effect: 'Allow', Action: 's3:ListBucket', Resource: [arn('UploadsBucket'), arn('ThumbnailsBucket')] },
    {
      Sid: 'OperateQueuesDlqs',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      Resource: [arn('ResizeDlq'), arn('PredictDlq'), arn('DeliveryDlq')],
    },
    {
      Sid: 'OperateQueuesQueues',
      Effect: 'Allow',
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
      Resource: [arn('ResizeQueue'), arn('PredictQueue')],
    },
  ]);
});

describe('the scheduled reconciler', () => {
  const [reconcile] = scheduledFunctions(FUNCTIONS);

  test('runs on the rate of pipeline.config.json, with the queue URLs and its checkpoint parameter', () => {
    const fn = buildFunctions(FUNCTIONS, config, dev).reconcile;
    expect(fn.events).toEqual([{ schedule: { rate: [`rate(${config.reconcile.rateMinutes} minutes)`], enabled: true } }]);
    expect(fn.environment).toMatchObject({
      RECONCILE_CHECKPOINT_PARAMETER: `/${dev.service}/${dev.stage}/reconcile-checkpoint`,
      RESIZE_QUEUE_URL: { Ref: 'ResizeQueue' },
      PREDICT_DLQ_URL: { Ref: 'PredictDlq' },
      DELIVERY_DLQ_URL: { Ref: 'DeliveryDlq' },
    });
    expect([scheduleRate(1), scheduleRate(5)]).toEqual(['rate(1 minute)', 'rate(5 minutes)']);
  });

  test('its role: list both buckets, GetObject on the markers only, peek at the DLQs, send to the queues, its one parameter', () => {
    const statements = roleStatements(reconcile, dev, FUNCTIONS).slice(2);
    const largest = Math.max(...config.thumbnails.sizes);
    expect(statements).toEqual([
      {
        Sid: 'ReadOutputMarkers',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: [{ 'Fn::Sub': `\${ThumbnailsBucket.Arn}/${largest}/*` }, { 'Fn::Sub': '${ThumbnailsBucket.Arn}/predictions/*' }],
      },
      {
        Sid: 'MissingKeysAre404',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: [arn('UploadsBucket'), arn('ThumbnailsBucket')],
      },
      {
        Sid: 'Checkpoint',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:PutParameter'],
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${dev.service}/${dev.stage}/reconcile-checkpoint`,
        },
      },
      {
        Sid: 'RepairQueuesDlqs',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility'],
        Resource: [arn('ResizeDlq'), arn('PredictDlq'), arn('DeliveryDlq')],
      },
      {
        Sid: 'RepairQueuesQueues',
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        Resource: [arn('ResizeQueue'), arn('PredictQueue')],
      },
    ]);
  });
});
