import { FUNCTIONS, type FunctionDefinition } from '../../functions/registry';
import type { StackContext } from '../../infra/context';
import { buildResources, roleStatements } from '../../infra/functionResources';
import { assertUniqueIds, buildFunctions, esbuildExternal, functionEnvironment } from '../../infra/lambdaFunctions';
import { functionIds, lambdaLogicalId, pascalCase } from '../../infra/naming';
import config from '../../pipeline.config.json';

/** The template generators (infra/*.ts) on literal registries: no framework involved. */

const dev: StackContext = {
  service: 'image-pipeline',
  stage: 'dev',
  logLevel: 'INFO',
  modelUriParameter: '/image-pipeline/dev/model-uri',
  traceEnabled: 'true',
  localPorts: { s3Port: 4569, sqsPort: 9324 },
};
const local: StackContext = {
  ...dev,
  stage: 'local',
  logLevel: 'DEBUG',
  modelUriParameter: '',
  traceEnabled: 'false',
  localPorts: { s3Port: 4669, sqsPort: 9424 },
};

const fixture = (name: string, overrides: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
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

  test('the real registry gives resize and predict their resources, and nothing for stages to differ on but names', () => {
    const { Resources, Outputs } = buildResources(FUNCTIONS, config, dev);
    expect(Object.keys(Resources)).toHaveLength(10 * FUNCTIONS.length);
    expect(Object.keys(Outputs).sort()).toEqual(['PredictDlqUrl', 'PredictQueueUrl', 'ResizeDlqUrl', 'ResizeQueueUrl']);
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
  expect(esbuildExternal([fixture('a', { nativeModules: ['x', 'sharp'] }), fixture('b', { nativeModules: ['x'] })])).toEqual([
    'sharp',
    'x',
  ]);
});
