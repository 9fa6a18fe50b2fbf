import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegoEngine, TemplateFile } from '@aws/cloudformation-validate';
import { dlqUrlOutput, queueUrlOutput } from '../../functions/naming';
import {
  httpFunctions,
  type Permission,
  type QueueFunction,
  queueFunctions,
  FUNCTIONS as REGISTRY,
  scheduledFunctions,
} from '../../functions/registry';
import config from '../../pipeline.config.json';
import {
  type CfnResource,
  type CfnTemplate,
  type Json,
  type JsonObject,
  offlineEnv,
  type PackageResult,
  packageService,
  runServerless,
} from '../../scripts/packageService';
import { dlqUrlVariable } from '../../shared/environment';

/**
 * Checks on the CloudFormation template that `serverless package --stage dev` produces offline,
 * with no AWS credentials: AWS's own validator finds no error, and the security and failure rules hold
 * (dead-letter wiring, visibility timeouts, partial batch responses, encryption, TLS-only,
 * least-privilege roles, alarms, the catalogue table, the HTTP API behind its JWT authorizer).
 */

/**
 * Every function of functions/registry.ts, by name. The logical IDs are spelled out here rather than
 * taken from infra/, so that a change in the generator's naming fails these tests.
 */
const pascal = (name: string) =>
  name
    .split('-')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
const idsOf = (name: string) => ({
  lambda: `${name.replace(/-/g, 'Dash').replace(/^./, (c) => c.toUpperCase())}LambdaFunction`,
  queue: `${pascal(name)}Queue`,
  dlq: `${pascal(name)}Dlq`,
});
const FUNCTIONS: Record<string, string> = Object.fromEntries(REGISTRY.map((fn) => [fn.name, idsOf(fn.name).lambda]));
const definition = (name: string) => {
  const fn = REGISTRY.find((f) => f.name === name);
  if (!fn) throw new Error(`no function ${name} in the registry`);
  return fn;
};
/** The functions fed by the uploads (each with its queue and DLQ), and those behind the HTTP API. */
const QUEUED = queueFunctions(REGISTRY);
const HTTP = httpFunctions(REGISTRY);
const SCHEDULED = scheduledFunctions(REGISTRY);
const queueDefinition = (name: string): QueueFunction => {
  const fn = QUEUED.find((f) => f.name === name);
  if (!fn) throw new Error(`no queue-fed function ${name} in the registry`);
  return fn;
};
const QUEUES = QUEUED.map((fn) => idsOf(fn.name).queue);
const DLQS = QUEUED.map((fn) => idsOf(fn.name).dlq);

type BucketGrant = Extract<Permission, { bucket: string }>;
/** The object actions of each bucket access, spelled out (not taken from infra/); `list` is ListBucket alone. */
const OBJECT_ACTIONS: Record<BucketGrant['access'], string[]> = {
  read: ['s3:GetObject', 's3:GetObjectVersion'],
  metadata: ['s3:GetObject'],
  overwrite: ['s3:GetObject', 's3:PutObject'],
  write: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
  put: ['s3:PutObject'],
  delete: ['s3:DeleteObject'],
  list: [],
};
/** s3:ListBucket (a missing key is a 404, not a 403) comes with the grants that read objects, or list. */
const listsBucket = (p: Permission) => 'bucket' in p && (p.access === 'list' || OBJECT_ACTIONS[p.access].includes('s3:GetObject'));
const hasTableGrant = (name: string) => definition(name).permissions.some((p) => 'table' in p);
/**
 * The statement ids a role holds, in order: logs, X-Ray, (its own queue and DLQ), object grants,
 * ListBucket, then its parameters, the operator's queues and the catalogue.
 */
function expectedSids(name: string): string[] {
  const { permissions } = definition(name);
  const queued = QUEUED.some((q) => q.name === name);
  return [
    'Logs',
    'Tracing',
    ...(queued ? [`Consume${idsOf(name).queue}`, 'DeadLetterPermanentFailures'] : []),
    ...permissions.filter((p) => 'bucket' in p && OBJECT_ACTIONS[p.access].length > 0).map((p) => p.sid),
    ...(permissions.some(listsBucket) ? ['MissingKeysAre404'] : []),
    ...permissions.filter((p) => 'parameters' in p).map((p) => p.sid),
    ...permissions.filter((p) => 'queues' in p).flatMap((p) => [`${p.sid}Dlqs`, `${p.sid}Queues`]),
    ...permissions.filter((p) => 'table' in p).map((p) => p.sid),
  ];
}

let packaged: PackageResult;
let template: CfnTemplate;
let resources: Record<string, CfnResource>;

beforeAll(async () => {
  packaged = await packageService({ stage: 'dev' });
  template = packaged.template;
  resources = template.Resources;
}, 300_000);

afterAll(() => packaged?.cleanup());

// ---------------------------------------------------------------- helpers

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function ofType(type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

function props(id: string): JsonObject {
  const resource = resources[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resource.Properties ?? {};
}

function obj(value: Json | undefined): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** The logical ID behind `{ Ref: X }` or `{ 'Fn::GetAtt': [X, attr] }`. */
function target(value: Json | undefined): string | undefined {
  const o = obj(value);
  if (typeof o.Ref === 'string') return o.Ref;
  const getAtt = o['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

interface Statement {
  owner: string;
  ownerType: string;
  Effect: string;
  actions: string[];
  resources: Json[];
  raw: JsonObject;
}

function statementsOf(owner: string, ownerType: string, document: Json | undefined): Statement[] {
  return asArray(obj(document).Statement as Json | Json[] | undefined).map((s) => {
    const raw = obj(s);
    return {
      owner,
      ownerType,
      Effect: String(raw.Effect),
      actions: asArray(raw.Action as Json | Json[] | undefined).map(String),
      resources: asArray(raw.Resource as Json | Json[] | undefined),
      raw,
    };
  });
}

/** Every policy statement in the template: role policies and resource policies alike. */
function allStatements(): Statement[] {
  const out: Statement[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Role':
        for (const policy of asArray(p.Policies as Json[] | undefined)) {
          out.push(...statementsOf(id, r.Type, obj(policy).PolicyDocument));
        }
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::S3::BucketPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        out.push(...statementsOf(id, r.Type, p.PolicyDocument));
        break;
      case 'AWS::KMS::Key':
        out.push(...statementsOf(id, r.Type, p.KeyPolicy));
        break;
      default:
    }
  }
  return out;
}

function roleStatements(roleId: string): Statement[] {
  return allStatements().filter((s) => s.owner === roleId);
}

function functionRole(functionId: string): string {
  const role = target(props(functionId).Role);
  if (!role) throw new Error(`${functionId} has no role of its own`);
  return role;
}

const isWildcard = (resource: Json) => resource === '*';

const TABLE_ARN = { 'Fn::GetAtt': ['ImagesTable', 'Arn'] };
const TABLE_INDEXES = { 'Fn::Sub': '${ImagesTable.Arn}/index/*' };

/**
 * A role's catalogue statements, exactly the registry's: `read` is GetItem and Query on the table and
 * its indexes, `write` GetItem, PutItem and DeleteItem on the table alone (no index, no Scan, no batch).
 */
function expectTableGrants(name: string, statements: Statement[]): void {
  const expected = definition(name).permissions.flatMap((p) =>
    'table' in p
      ? [
          p.access === 'read'
            ? { sid: p.sid, actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [TABLE_ARN, TABLE_INDEXES] }
            : { sid: p.sid, actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [TABLE_ARN] },
        ]
      : [],
  );
  const actual = statements
    .filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')))
    .map((s) => ({ sid: s.raw.Sid, actions: s.actions, resources: s.resources }));
  expect({ name, dynamodb: actual }).toEqual({ name, dynamodb: expected });
}

// ---------------------------------------------------------------- validation

describe('serverless package --stage dev (offline, no AWS credentials)', () => {
  test('produces a template in well under a few minutes', () => {
    expect(packaged.seconds).toBeLessThan(240);
    expect(Object.keys(resources).length).toBeGreaterThan(20);
  });

  test('@aws/cloudformation-validate reports no error, and no warning on the resources we declare', () => {
    const engine = new RegoEngine();
    try {
      const report = engine.validateStandard(new TemplateFile(packaged.templatePath));
      const show = (d: (typeof report.diagnostics)[number]) => `${d.severity} ${d.ruleId} ${d.entity?.logicalId ?? ''}: ${d.message}`;
      const errors = report.diagnostics.filter((d) => d.severity === 'ERROR' || d.severity === 'FATAL');
      expect(errors.map(show)).toEqual([]);
      // Warnings on framework-generated resources (versions, DependsOn it adds) are not ours to fix.
      const ours = new Set(packaged.declaredResourceIds);
      expect(ours.size).toBeGreaterThan(20);
      const warnings = report.diagnostics.filter((d) => d.severity === 'WARN' && ours.has(d.entity?.logicalId ?? ''));
      expect(warnings.map(show)).toEqual([]);
    } finally {
      engine.free();
    }
  });
});

// ---------------------------------------------------------------- functions

describe('functions', () => {
  test('the registry still holds resize and predict, under the logical IDs they have always had', () => {
    expect(FUNCTIONS).toMatchObject({ resize: 'ResizeLambdaFunction', predict: 'PredictLambdaFunction', api: 'ApiLambdaFunction' });
    expect(QUEUED.map((fn) => fn.name)).toEqual(expect.arrayContaining(['resize', 'predict']));
    expect(HTTP.map((fn) => fn.name)).toEqual(['api', 'operator']);
    expect(SCHEDULED.map((fn) => fn.name)).toEqual(['reconcile']);
    expect(QUEUED.length + HTTP.length + SCHEDULED.length).toBe(REGISTRY.length);
    for (const id of ['ResizeQueue', 'ResizeDlq', 'ResizeRole', 'PredictQueue', 'PredictDlq', 'PredictRole']) {
      expect({ id, type: resources[id]?.Type }).toEqual({ id, type: expect.stringMatching(/^AWS::/) });
    }
  });

  test.each(Object.entries(FUNCTIONS))('%s: nodejs24.x on arm64, traced, sized from pipeline.config.json', (name, id) => {
    const fn = props(id);
    const declared = config.functions[name as keyof typeof config.functions];
    expect(definition(name).settings).toEqual(declared);
    expect(fn.Runtime).toBe('nodejs24.x');
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.MemorySize).toBe(declared.memoryMb);
    expect(fn.Timeout).toBe(declared.timeoutSeconds);
    expect(fn.ReservedConcurrentExecutions).toBe(declared.reservedConcurrency);
    expect(fn.Handler).toBe(`functions/${name}/handler.handler`);
    expect(fn.Handler).toBe(definition(name).handler);
    expect(fn.Description).toBe(definition(name).description);
    expect(target(fn.Role)).toBe(`${pascal(name)}Role`);
  });

  test.each(Object.entries(FUNCTIONS))('%s: environment names its resources, never a local endpoint', (name, id) => {
    const env = obj(obj(props(id).Environment).Variables);
    expect(Object.keys(env).filter((key) => key.startsWith('AWS_ENDPOINT_URL'))).toEqual([]);
    expect(Object.values(env)).not.toContain('');
    expect(target(env.UPLOADS_BUCKET)).toBe('UploadsBucket');
    expect(target(env.THUMBNAILS_BUCKET)).toBe('ThumbnailsBucket');
    expect(target(env.MODELS_BUCKET)).toBe('ModelsBucket');
    const queued = QUEUED.some((fn) => fn.name === name);
    const dlqVariable = `${name.toUpperCase()}_DLQ_URL`;
    expect(dlqUrlVariable(name)).toBe(dlqVariable);
    if (queued) expect(target(env[dlqVariable])).toBe(idsOf(name).dlq);
    // The catalogue table's name for the functions granted it, and for no other.
    expect(target(env.IMAGES_TABLE)).toBe(hasTableGrant(name) ? 'ImagesTable' : undefined);
    // The HTTP API's functions trust the JWT authorizer's claims on AWS (never the local shortcut).
    expect(env.API_AUTH).toBe(definition(name).environment.includes('API_AUTH') ? 'jwt' : undefined);
    expect(env.POWERTOOLS_SERVICE_NAME).toBe(name);
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(config.service);
    expect(typeof env.LOG_LEVEL).toBe('string');
    expect(env.POWERTOOLS_TRACE_ENABLED).not.toBe('false');
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    // The extra variables the registry asks for; no other function's DLQ, unless it operates them all.
    const extras = definition(name).environment.filter((extra) => extra !== 'QUEUE_URLS');
    for (const extra of extras) expect({ extra, set: env[extra] !== undefined }).toEqual({ extra, set: true });
    const dlqVariables = Object.keys(env).filter((key) => key.endsWith('_DLQ_URL'));
    const operates = definition(name).environment.includes('QUEUE_URLS');
    const allDlqs = ['DELIVERY_DLQ_URL', ...QUEUED.map((fn) => dlqUrlVariable(fn.name))];
    expect(dlqVariables.sort()).toEqual((operates ? allDlqs : queued ? [dlqVariable] : []).sort());
  });

  test('no function environment in the whole template points at a local endpoint', () => {
    const text = JSON.stringify(template);
    expect(text).not.toContain('AWS_ENDPOINT_URL');
    for (const id of Object.values(FUNCTIONS)) {
      const env = JSON.stringify(props(id).Environment);
      expect({ id, local: /127\.0\.0\.1|localhost/.test(env) }).toEqual({ id, local: false });
    }
    // No browser origin is allowed unless the stage's corsOrigins parameter names it.
    expect(text).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(props('HttpApi').CorsConfiguration).toBeUndefined();
    // AWS::NoValue: CloudFormation leaves the property out.
    expect(props('UploadsBucket').CorsConfiguration).toEqual({ Ref: 'AWS::NoValue' });
    expect(props('ThumbnailsBucket').CorsConfiguration).toEqual({ Ref: 'AWS::NoValue' });
  });

  test('every SQS event source mapping reports partial batch failures and follows the config', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(QUEUED.length);
    expect(QUEUED.length).toBeGreaterThanOrEqual(2);
    for (const [id, mapping] of mappings) {
      const p = mapping.Properties ?? {};
      expect({ id, types: p.FunctionResponseTypes }).toEqual({ id, types: ['ReportBatchItemFailures'] });
      const fnId = target(p.FunctionName);
      const name = Object.keys(FUNCTIONS).find((n) => FUNCTIONS[n] === fnId);
      if (!name) throw new Error(`${id} targets an unknown function ${String(fnId)}`);
      const settings = queueDefinition(name).settings;
      expect(p.BatchSize).toBe(settings.batchSize);
      expect(p.MaximumBatchingWindowInSeconds).toBe(settings.batchWindowSeconds);
      expect(target(p.EventSourceArn)).toBe(idsOf(name).queue);
      // Polling never outruns the reserved concurrency (throttled batches would burn receive counts).
      expect(Number(obj(p.ScalingConfig).MaximumConcurrency)).toBeLessThanOrEqual(settings.reservedConcurrency);
    }
  });
});

// ---------------------------------------------------------------- queues

describe('queues', () => {
  test.each(QUEUED.map((fn) => [idsOf(fn.name).queue, idsOf(fn.name).dlq, fn.name] as const))(
    '%s: redrives to %s after >= 5 receives; visibility >= 6 x its function timeout',
    (queueId, dlqId, name) => {
      const queue = props(queueId);
      const redrive = obj(queue.RedrivePolicy);
      expect(target(redrive.deadLetterTargetArn)).toBe(dlqId);
      expect(Number(redrive.maxReceiveCount)).toBeGreaterThanOrEqual(5);
      expect(Number(redrive.maxReceiveCount)).toBe(config.queues.maxReceiveCount);
      const fnTimeout = Number(props(FUNCTIONS[name]).Timeout);
      expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * fnTimeout);
      expect(queue.VisibilityTimeout).toBe(config.queues.visibilityTimeoutSeconds);
      expect(queue.SqsManagedSseEnabled).toBe(true);
      expect(props(dlqId).MessageRetentionPeriod).toBe(config.queues.dlqRetentionSeconds);
    },
  );

  test('every queue is encrypted and every queue used as a DLQ has a DLQ-depth alarm', () => {
    const queues = ofType('AWS::SQS::Queue').map(([id]) => id);
    expect(queues.sort()).toEqual(['DeliveryDlq', ...QUEUES, ...DLQS].sort());
    expect(queues).toEqual(expect.arrayContaining(['DeliveryDlq', 'PredictDlq', 'PredictQueue', 'ResizeDlq', 'ResizeQueue']));
    for (const id of queues) expect({ id, sse: props(id).SqsManagedSseEnabled }).toEqual({ id, sse: true });

    const deadLetterTargets = new Set<string>();
    for (const [, r] of Object.entries(resources)) {
      const t = target(obj(r.Properties?.RedrivePolicy).deadLetterTargetArn);
      if (t) deadLetterTargets.add(t);
    }
    expect([...deadLetterTargets].sort()).toEqual(['DeliveryDlq', ...DLQS].sort());

    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});
    for (const dlq of deadLetterTargets) {
      const alarm = alarms.find(
        (a) =>
          a.Namespace === 'AWS/SQS' &&
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          asArray(a.Dimensions as Json[]).some((d) => obj(d).Name === 'QueueName' && target(obj(d).Value) === dlq),
      );
      expect({ dlq, alarm: alarm && { threshold: alarm.Threshold, op: alarm.ComparisonOperator } }).toEqual({
        dlq,
        alarm: { threshold: 0, op: 'GreaterThanThreshold' },
      });
    }
  });

  test('each main queue alarms on the age of its oldest message', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});
    for (const queue of QUEUES) {
      const alarm = alarms.find(
        (a) =>
          a.MetricName === 'ApproximateAgeOfOldestMessage' && asArray(a.Dimensions as Json[]).some((d) => target(obj(d).Value) === queue),
      );
      expect({ queue, threshold: alarm?.Threshold, op: alarm?.ComparisonOperator }).toEqual({
        queue,
        threshold: config.alarms.oldestMessageAgeSeconds,
        op: 'GreaterThanThreshold',
      });
    }
  });

  test('each function alarms on errors and on throttles', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});
    for (const fn of Object.values(FUNCTIONS)) {
      for (const metric of ['Errors', 'Throttles']) {
        const alarm = alarms.find(
          (a) =>
            a.Namespace === 'AWS/Lambda' &&
            a.MetricName === metric &&
            asArray(a.Dimensions as Json[]).some((d) => obj(d).Name === 'FunctionName' && target(obj(d).Value) === fn),
        );
        expect({ fn, metric, threshold: alarm?.Threshold, op: alarm?.ComparisonOperator }).toEqual({
          fn,
          metric,
          threshold: 0,
          op: 'GreaterThanThreshold',
        });
        expect(asArray(alarm?.AlarmActions as Json[]).length).toBeGreaterThan(0);
      }
    }
  });
});

// ---------------------------------------------------------------- fan-out

describe('SNS fan-out', () => {
  test('the uploads bucket sends every create and remove event to the topic', () => {
    const uploads = resources.UploadsBucket;
    const configs = asArray(obj(props('UploadsBucket').NotificationConfiguration).TopicConfigurations as Json[]).map(obj);
    expect(configs.map((c) => [c.Event, target(c.Topic)]).sort()).toEqual([
      ['s3:ObjectCreated:*', 'UploadsTopic'],
      ['s3:ObjectRemoved:*', 'UploadsTopic'],
    ]);
    expect(asArray(uploads.DependsOn)).toContain('UploadsTopicPolicy');
    // Only the uploads bucket notifies: thumbnails written back must never trigger anything.
    for (const [id] of ofType('AWS::S3::Bucket')) {
      if (id !== 'UploadsBucket') expect(props(id).NotificationConfiguration).toBeUndefined();
    }
  });

  test('the topic is encrypted and only the uploads bucket of this account may publish', () => {
    expect(props('UploadsTopic').KmsMasterKeyId).toBeDefined();
    const statements = allStatements().filter((s) => s.ownerType === 'AWS::SNS::TopicPolicy');
    const publish = statements.find((s) => s.actions.includes('sns:Publish'));
    expect(publish?.raw.Principal).toEqual({ Service: 's3.amazonaws.com' });
    const condition = obj(publish?.raw.Condition);
    expect(obj(obj(condition.ArnLike)['aws:SourceArn'])['Fn::Sub']).toBe(
      `arn:\${AWS::Partition}:s3:::${String(obj(props('UploadsBucket').BucketName)['Fn::Sub'])}`,
    );
    expect(obj(condition.StringEquals)['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });

  test('every subscription delivers raw messages to a queue, with its own delivery DLQ', () => {
    const subscriptions = ofType('AWS::SNS::Subscription');
    expect(subscriptions.map(([, s]) => target(s.Properties?.Endpoint)).sort()).toEqual([...QUEUES].sort());
    for (const [id, s] of subscriptions) {
      const p = s.Properties ?? {};
      expect({ id, protocol: p.Protocol, raw: p.RawMessageDelivery }).toEqual({ id, protocol: 'sqs', raw: true });
      expect(target(obj(p.RedrivePolicy).deadLetterTargetArn)).toBe('DeliveryDlq');
    }
  });

  test('queue policies let the topic send to every function queue and to the delivery DLQ, and nothing else', () => {
    const sendFromTopic = allStatements().filter(
      (s) => s.ownerType === 'AWS::SQS::QueuePolicy' && s.Effect === 'Allow' && s.actions.includes('sqs:SendMessage'),
    );
    expect(sendFromTopic.map((s) => target(s.resources[0])).sort()).toEqual(['DeliveryDlq', ...QUEUES].sort());
    for (const s of sendFromTopic) {
      expect(s.raw.Principal).toEqual({ Service: 'sns.amazonaws.com' });
      expect(target(obj(obj(s.raw.Condition).ArnEquals)['aws:SourceArn'])).toBe('UploadsTopic');
    }
  });
});

// ---------------------------------------------------------------- buckets

describe('buckets', () => {
  test('names are derived from stack (service + stage) and account, lowercase and <= 63 characters', () => {
    for (const role of ['uploads', 'thumbnails', 'models']) {
      const id = `${role[0].toUpperCase()}${role.slice(1)}Bucket`;
      const sub = obj(props(id).BucketName)['Fn::Sub'];
      expect(sub).toBe(`\${AWS::StackName}-${role}-\${AWS::AccountId}`);
      const example = `${config.service}-dev-${role}-123456789012`;
      expect(example).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    }
  });

  test('every bucket blocks public access, is encrypted, is bucket-owner-only and denies non-TLS requests', () => {
    const buckets = ofType('AWS::S3::Bucket').map(([id]) => id);
    expect(buckets).toEqual(expect.arrayContaining(['UploadsBucket', 'ThumbnailsBucket', 'ModelsBucket']));
    const policies = ofType('AWS::S3::BucketPolicy');
    for (const id of buckets) {
      const p = props(id);
      expect({ id, block: p.PublicAccessBlockConfiguration }).toEqual({
        id,
        block: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
      const rules = asArray(obj(p.BucketEncryption).ServerSideEncryptionConfiguration as Json[]);
      const algorithm = obj(obj(rules[0]).ServerSideEncryptionByDefault).SSEAlgorithm;
      expect({ id, algorithm }).toEqual({ id, algorithm: expect.stringMatching(/^(AES256|aws:kms|aws:kms:dsse)$/) });
      if (id !== 'ServerlessDeploymentBucket') {
        expect({ id, ownership: obj(p.OwnershipControls) }).toEqual({
          id,
          ownership: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        });
      }
      const policy = policies.find(([, pol]) => target(pol.Properties?.Bucket) === id);
      const tlsDeny = statementsOf(id, 'AWS::S3::BucketPolicy', policy?.[1].Properties?.PolicyDocument).find(
        (s) =>
          s.Effect === 'Deny' && s.actions.includes('s3:*') && String(obj(obj(s.raw.Condition).Bool)['aws:SecureTransport']) === 'false',
      );
      expect({ id, tlsDeny: Boolean(tlsDeny) }).toEqual({ id, tlsDeny: true });
      // Both the bucket and its objects.
      expect({ id, resources: tlsDeny?.resources.length }).toEqual({ id, resources: 2 });
    }
  });
});

// ---------------------------------------------------------------- IAM

describe('IAM', () => {
  test('no Allow statement anywhere grants *, s3:*, sqs:* or dynamodb:* (or any wildcard s3/sqs/dynamodb action), nor uses NotAction', () => {
    const offenders = allStatements()
      .filter((s) => s.Effect === 'Allow')
      .filter(
        (s) =>
          s.raw.NotAction !== undefined ||
          s.raw.NotResource !== undefined ||
          s.actions.some((a) => a === '*' || (/^(s3|sqs|dynamodb):/i.test(a) && a.includes('*'))),
      )
      .map((s) => `${s.owner}: ${s.actions.join(',')}`);
    expect(offenders).toEqual([]);
  });

  test('no statement with an s3:, sqs: or dynamodb: action has Resource *', () => {
    const offenders = allStatements()
      .filter((s) => s.actions.some((a) => /^(s3|sqs|dynamodb):/i.test(a)) && s.resources.some(isWildcard))
      .map((s) => `${s.owner}: ${s.actions.join(',')}`);
    expect(offenders).toEqual([]);
  });

  test('in function roles, only X-Ray actions have Resource * (X-Ray has no resource-level permissions)', () => {
    for (const fn of Object.values(FUNCTIONS)) {
      const wildcard = roleStatements(functionRole(fn)).filter((s) => s.resources.some(isWildcard));
      expect(wildcard.flatMap((s) => s.actions).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  test('each function has its own role, with no managed policies attached', () => {
    const roles = Object.values(FUNCTIONS).map(functionRole);
    expect(new Set(roles).size).toBe(roles.length);
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
    for (const role of roles) {
      expect(props(role).ManagedPolicyArns).toBeUndefined();
      expect(obj(asArray(obj(props(role).AssumeRolePolicyDocument).Statement as Json[])[0]).Principal).toEqual({
        Service: 'lambda.amazonaws.com',
      });
    }
  });

  test.each(QUEUED.map((fn) => [fn.name]))(
    '%s: its role reaches only its own log group, queue and DLQ, and the grants the registry lists',
    (name) => {
      const statements = roleStatements(functionRole(FUNCTIONS[name]));
      const fn = definition(name);
      const ids = idsOf(name);
      expect(statements.map((s) => s.raw.Sid)).toEqual(expectedSids(name));
      expect(expectedSids(name).slice(2, 4)).toEqual([`Consume${ids.queue}`, 'DeadLetterPermanentFailures']);
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      const sqs = statements.filter((s) => s.actions.some((a) => a.startsWith('sqs:')));
      expect(sqs.map((s) => [s.actions, s.resources.map(target)])).toEqual([
        [['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], [ids.queue]],
        [['sqs:SendMessage'], [ids.dlq]],
      ]);
      const logs = statements.filter((s) => s.actions.some((a) => a.startsWith('logs:')));
      expect(logs.flatMap((s) => s.resources.map((r) => String(obj(r)['Fn::Sub'])))).toEqual([
        `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${config.service}-dev-${name}:*`,
      ]);
      // Object grants: exactly the registry's, each on its bucket (and prefix).
      for (const permission of fn.permissions) {
        if (!('bucket' in permission) || permission.access === 'list') continue;
        const statement = statements.find((s) => s.raw.Sid === permission.sid);
        const bucket = `${pascal(permission.bucket)}Bucket`;
        expect({ sid: permission.sid, actions: statement?.actions, resources: statement?.resources }).toEqual({
          sid: permission.sid,
          actions: OBJECT_ACTIONS[permission.access],
          resources: (permission.prefixes ?? ['']).map((prefix) => ({ 'Fn::Sub': `\${${bucket}.Arn}/${prefix}*` })),
        });
      }
      expectTableGrants(name, statements);
      // Nothing of any other function.
      const text = JSON.stringify(statements.map((s) => s.raw));
      for (const other of REGISTRY.filter((f) => f.name !== name)) {
        expect(text).not.toContain(`${pascal(other.name)}Queue`);
        expect(text).not.toContain(`${pascal(other.name)}Dlq`);
        expect(text).not.toContain(`-dev-${other.name}:`);
      }
    },
  );

  test.each(HTTP.map((fn) => [fn.name]))(
    '%s: its role reaches only its own log group and the grants the registry lists, no queue at all',
    (name) => {
      const statements = roleStatements(functionRole(FUNCTIONS[name]));
      const fn = definition(name);
      expect(statements.map((s) => s.raw.Sid)).toEqual(expectedSids(name));
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      // SQS only through an operator's grant: every queue-fed function's DLQ (and the delivery DLQ) and queue.
      const sqs = statements.filter((s) => s.actions.some((a) => a.startsWith('sqs:')));
      expect(sqs.map((s) => [s.raw.Sid, s.actions, s.resources.map(target)])).toEqual(
        fn.permissions
          .filter((p) => 'queues' in p)
          .flatMap((p) => [
            [
              `${p.sid}Dlqs`,
              ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
              [...DLQS, 'DeliveryDlq'],
            ],
            [`${p.sid}Queues`, ['sqs:SendMessage', 'sqs:GetQueueAttributes'], QUEUES],
          ]),
      );
      const logs = statements.filter((s) => s.actions.some((a) => a.startsWith('logs:')));
      expect(logs.flatMap((s) => s.resources.map((r) => String(obj(r)['Fn::Sub'])))).toEqual([
        `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${config.service}-dev-${name}:*`,
      ]);
      for (const permission of fn.permissions) {
        if (!('bucket' in permission) || permission.access === 'list') continue;
        const statement = statements.find((s) => s.raw.Sid === permission.sid);
        const bucket = `${pascal(permission.bucket)}Bucket`;
        expect({ sid: permission.sid, actions: statement?.actions, resources: statement?.resources }).toEqual({
          sid: permission.sid,
          actions: OBJECT_ACTIONS[permission.access],
          resources: (permission.prefixes ?? ['']).map((prefix) => ({ 'Fn::Sub': `\${${bucket}.Arn}/${prefix}*` })),
        });
      }
      expectTableGrants(name, statements);
      const text = JSON.stringify(statements.map((s) => s.raw));
      for (const other of REGISTRY.filter((f) => f.name !== name)) expect(text).not.toContain(`-dev-${other.name}:`);
    },
  );

  test('api: exactly a presigned PutObject under the upload prefix, DeleteObject on uploads, GetObject on the sizes, catalogue reads', () => {
    const statements = roleStatements(functionRole(FUNCTIONS.api));
    expect(statements.map((s) => s.raw)).toEqual([
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${config.service}-dev-api:*`,
        },
      },
      { Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
      // What a presigned POST is signed with: S3 accepts it only under the upload prefix.
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
      { Sid: 'MissingKeysAre404', Effect: 'Allow', Action: 's3:ListBucket', Resource: [{ 'Fn::GetAtt': ['ThumbnailsBucket', 'Arn'] }] },
      { Sid: 'ReadCatalogue', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [TABLE_ARN, TABLE_INDEXES] },
    ]);
    expect(config.api.uploadPrefix).toMatch(/^[^*]+\/$/);
    const text = JSON.stringify(statements.map((s) => s.raw));
    const grants = (action: string) => statements.filter((s) => s.actions.includes(action)).flatMap((s) => s.resources);
    // Never the predictions (moderation scores) nor the models; no queue, no parameter, no key.
    expect(text).not.toContain('predictions/');
    expect(text).not.toContain('ModelsBucket');
    expect(text).not.toMatch(/"(sqs|ssm|kms):/);
    // No catalogue write and no write at all to the thumbnails.
    expect(text).not.toMatch(/dynamodb:(PutItem|DeleteItem|UpdateItem|BatchWriteItem|Scan|\*)/);
    const thumbnailWrites = statements.filter(
      (s) => s.actions.some((a) => /^s3:(Put|Delete)/.test(a)) && JSON.stringify(s.resources).includes('ThumbnailsBucket'),
    );
    expect(thumbnailWrites).toEqual([]);
    // PutObject only under the prefix: the uploads bucket itself, or any other key, is never writable.
    expect(grants('s3:PutObject')).toEqual([{ 'Fn::Sub': `\${UploadsBucket.Arn}/${config.api.uploadPrefix}*` }]);
    expect(grants('s3:GetObject').every((r) => /^\$\{ThumbnailsBucket\.Arn\}\/\d+\/\*$/.test(String(obj(r)['Fn::Sub'])))).toBe(true);
  });

  test('resize and predict keep their exact statements, with s3:ListBucket on the buckets in order of first mention', () => {
    const sids = (fn: string) => roleStatements(functionRole(fn)).map((s) => s.raw.Sid);
    const listBucket = (fn: string) =>
      roleStatements(functionRole(fn))
        .filter((s) => s.actions.includes('s3:ListBucket'))
        .flatMap((s) => s.resources.map(target));
    expect(sids(FUNCTIONS.resize)).toEqual([
      'Logs',
      'Tracing',
      'ConsumeResizeQueue',
      'DeadLetterPermanentFailures',
      'ReadUploads',
      'WriteThumbnails',
      'MissingKeysAre404',
      'RecordInCatalogue',
    ]);
    expect(listBucket(FUNCTIONS.resize)).toEqual(['UploadsBucket', 'ThumbnailsBucket']);
    expect(sids(FUNCTIONS.predict)).toEqual([
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
    expect(listBucket(FUNCTIONS.predict)).toEqual(['UploadsBucket', 'ModelsBucket', 'ThumbnailsBucket']);
  });

  test('resize and predict record in the catalogue: exactly GetItem, PutItem and DeleteItem on the table, nothing on its indexes', () => {
    for (const fn of [FUNCTIONS.resize, FUNCTIONS.predict]) {
      const statements = roleStatements(functionRole(fn));
      const dynamodb = statements.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
      expect({ fn, dynamodb: dynamodb.map((s) => [s.raw.Sid, s.actions, s.resources]) }).toEqual({
        fn,
        dynamodb: [['RecordInCatalogue', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], [TABLE_ARN]]],
      });
      expect(JSON.stringify(statements.map((s) => s.raw))).not.toContain('/index/');
    }
  });

  test('resize reads uploads, writes thumbnails, uses its own queue and DLQ, and cannot touch models', () => {
    const statements = roleStatements(functionRole(FUNCTIONS.resize)).filter((s) => s.Effect === 'Allow');
    const text = JSON.stringify(statements.map((s) => s.raw));
    expect(text).not.toContain('ModelsBucket');
    expect(text).not.toContain('Predict');
    expect(text).not.toMatch(/ssm:|kms:/);

    const grants = (action: string) => statements.filter((s) => s.actions.includes(action)).flatMap((s) => s.resources);
    expect(grants('s3:GetObject').map((r) => obj(r)['Fn::Sub'])).toEqual(
      expect.arrayContaining(['${UploadsBucket.Arn}/*', '${ThumbnailsBucket.Arn}/*']),
    );
    expect(grants('s3:PutObject').map((r) => obj(r)['Fn::Sub'])).toEqual(['${ThumbnailsBucket.Arn}/*']);
    expect(grants('s3:DeleteObject').map((r) => obj(r)['Fn::Sub'])).toEqual(['${ThumbnailsBucket.Arn}/*']);
    expect(grants('sqs:SendMessage').map(target)).toEqual(['ResizeDlq']);
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility']) {
      expect(grants(action).map(target)).toEqual(['ResizeQueue']);
    }
    // Never writes into the uploads bucket (recursion guard in IAM, too).
    const uploadsWrites = statements.filter(
      (s) => s.actions.some((a) => /^s3:(Put|Delete)/.test(a)) && JSON.stringify(s.resources).includes('UploadsBucket'),
    );
    expect(uploadsWrites).toEqual([]);
    const logs = grants('logs:PutLogEvents').map((r) => String(obj(r)['Fn::Sub']));
    expect(logs).toEqual([expect.stringContaining(`log-group:/aws/lambda/${config.service}-dev-resize:*`)]);
  });

  test('predict reads uploads and models, writes predictions/, overwrites (never deletes) the size folders, reads only its own SSM parameters', () => {
    const statements = roleStatements(functionRole(FUNCTIONS.predict)).filter((s) => s.Effect === 'Allow');
    const grants = (action: string) => statements.filter((s) => s.actions.includes(action)).flatMap((s) => s.resources);
    const subs = (action: string) => grants(action).map((r) => obj(r)['Fn::Sub'] ?? target(r));
    expect(subs('s3:GetObject')).toEqual(expect.arrayContaining(['${UploadsBucket.Arn}/*', '${ModelsBucket.Arn}/*']));
    expect(subs('s3:ListBucket')).toEqual(expect.arrayContaining(['ModelsBucket']));
    expect(subs('s3:PutObject')).toEqual([
      '${ThumbnailsBucket.Arn}/predictions/*',
      ...[...config.thumbnails.sizes].map((size) => `\${ThumbnailsBucket.Arn}/${size}/*`),
    ]);
    expect(subs('s3:DeleteObject')).toEqual(['${ThumbnailsBucket.Arn}/predictions/*']);
    expect(grants('sqs:SendMessage').map(target)).toEqual(['PredictDlq']);
    expect(grants('sqs:ReceiveMessage').map(target)).toEqual(['PredictQueue']);
    expect(subs('ssm:GetParameter')).toEqual([expect.stringMatching(new RegExp(`:parameter/${config.service}/dev/\\*$`))]);
    expect(JSON.stringify(statements.map((s) => s.raw))).not.toContain('Resize');
  });

  test('predict finds its model through an SSM parameter of the stack that its role may read', () => {
    const env = obj(obj(props(FUNCTIONS.predict).Environment).Variables);
    const name = `/${config.service}/dev/model-uri`;
    expect(env.MODEL_URI_PARAMETER).toBe(name);
    const parameter = ofType('AWS::SSM::Parameter').find(([, p]) => p.Properties?.Name === name);
    expect(parameter).toBeDefined();
    // Its initial value is prediction.modelUri moved to this stack's models bucket (Fn::Split on the local bucket).
    expect(config.prediction.modelUri.startsWith(`s3://${config.local.buckets.models}/`)).toBe(true);
    expect(JSON.stringify(parameter?.[1].Properties?.Value)).toContain('${ModelsBucket}');
    const ssm = roleStatements(functionRole(FUNCTIONS.predict)).filter((s) => s.actions.includes('ssm:GetParameter'));
    expect(ssm.map((s) => String(obj(s.resources[0])['Fn::Sub']))).toEqual([
      `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${name.replace(/model-uri$/, '*')}`,
    ]);
  });
});

// ---------------------------------------------------------------- the catalogue table

describe('the scheduled reconciler', () => {
  const lambda = FUNCTIONS.reconcile;

  test('an EventBridge rule invokes it at the rate of pipeline.config.json, and may', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties).includes(lambda));
    expect(rules.map(([, r]) => [r.Properties?.ScheduleExpression, r.Properties?.State])).toEqual([
      [`rate(${config.reconcile.rateMinutes} minutes)`, 'ENABLED'],
    ]);
    const targets = asArray(rules[0][1].Properties?.Targets as Json[]).map((t) => target(obj(t).Arn));
    expect(targets).toEqual([lambda]);
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => target(p.Properties?.FunctionName) === lambda);
    expect(permissions.map(([, p]) => [p.Properties?.Principal, target(p.Properties?.SourceArn)])).toEqual([
      ['events.amazonaws.com', rules[0][0]],
    ]);
    expect(resources[lambda].Properties?.Timeout).toBe(config.functions.reconcile.timeoutSeconds);
  });

  test('its role, exactly: list both buckets, GetObject on the markers, peek at the DLQs, send to the queues, its checkpoint', () => {
    const statements = roleStatements(functionRole(lambda));
    const largest = Math.max(...config.thumbnails.sizes);
    const ssmArn = `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${config.service}/dev/reconcile-checkpoint`;
    expect(statements.map((s) => s.raw)).toEqual([
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${config.service}-dev-reconcile:*`,
        },
      },
      { Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
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
        Resource: [{ 'Fn::GetAtt': ['UploadsBucket', 'Arn'] }, { 'Fn::GetAtt': ['ThumbnailsBucket', 'Arn'] }],
      },
      { Sid: 'Checkpoint', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:PutParameter'], Resource: { 'Fn::Sub': ssmArn } },
      {
        Sid: 'RepairQueuesDlqs',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility'],
        Resource: [...DLQS, 'DeliveryDlq'].map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
      },
      {
        Sid: 'RepairQueuesQueues',
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        Resource: QUEUES.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
      },
    ]);
    expect(props('ReconcileCheckpointParameter')).toMatchObject({
      Name: `/${config.service}/dev/reconcile-checkpoint`,
      Type: 'String',
      Value: '{}',
    });
  });

  test('missing uploads found in two runs in a row alarm: Sum of UploadsMissing > 0 over two schedule periods', () => {
    expect(props('ReconcileUploadsMissingAlarm')).toMatchObject({
      Namespace: config.service,
      MetricName: 'UploadsMissing',
      Dimensions: [{ Name: 'service', Value: 'reconcile' }],
      Statistic: 'Sum',
      Period: config.reconcile.rateMinutes * 60,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(resources[lambda].Properties?.Environment).toMatchObject({
      Variables: { POWERTOOLS_SERVICE_NAME: 'reconcile', POWERTOOLS_METRICS_NAMESPACE: config.service },
    });
  });
});

describe('catalogue table', () => {
  const key = (AttributeName: string, KeyType: 'HASH' | 'RANGE') => ({ AttributeName, KeyType });
  const index = (IndexName: string, hash: string) => ({
    IndexName,
    KeySchema: [key(hash, 'HASH'), key('uploadedAt', 'RANGE')],
    Projection: { ProjectionType: 'ALL' },
  });

  test('ImagesTable: one item per upload key, on demand, with point-in-time recovery and encryption at rest', () => {
    expect(ofType('AWS::DynamoDB::Table').map(([id]) => id)).toEqual(['ImagesTable']);
    const table = props('ImagesTable');
    expect(table.TableName).toEqual({ 'Fn::Sub': '${AWS::StackName}-images' });
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.ProvisionedThroughput).toBeUndefined();
    expect(table.KeySchema).toEqual([key('key', 'HASH')]);
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.SSESpecification).toEqual({ SSEEnabled: true });
    // Nothing beyond these: no provisioned capacity, no stream, no TTL.
    expect(Object.keys(table).sort()).toEqual(
      [
        'AttributeDefinitions',
        'BillingMode',
        'GlobalSecondaryIndexes',
        'KeySchema',
        'PointInTimeRecoverySpecification',
        'SSESpecification',
        'TableName',
      ].sort(),
    );
  });

  test('its three indexes list newest first by status, by verdict and all uploads, each projecting every attribute', () => {
    const table = props('ImagesTable');
    expect(table.GlobalSecondaryIndexes).toEqual([
      index('byStatus', 'status'),
      index('byVerdict', 'verdict'),
      index('byUpload', 'listing'),
    ]);
    for (const gsi of asArray(table.GlobalSecondaryIndexes as Json[])) expect(obj(gsi).ProvisionedThroughput).toBeUndefined();
    // Every key attribute is defined as a string, and nothing else is (CloudFormation refuses unused definitions).
    expect(table.AttributeDefinitions).toEqual(
      ['key', 'status', 'verdict', 'listing', 'uploadedAt'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    );
  });

  test('read and write throttling of the table alarm', () => {
    for (const [id, metric] of [
      ['CatalogueReadThrottlesAlarm', 'ReadThrottleEvents'],
      ['CatalogueWriteThrottlesAlarm', 'WriteThrottleEvents'],
    ]) {
      expect({ id, type: resources[id]?.Type }).toEqual({ id, type: 'AWS::CloudWatch::Alarm' });
      expect({ id, properties: props(id) }).toEqual({
        id,
        properties: {
          AlarmDescription: expect.any(String),
          Namespace: 'AWS/DynamoDB',
          MetricName: metric,
          Dimensions: [{ Name: 'TableName', Value: { Ref: 'ImagesTable' } }],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
          OKActions: [{ Ref: 'AlarmTopic' }],
        },
      });
    }
  });
});

// ---------------------------------------------------------------- the HTTP API

describe('HTTP API', () => {
  const ROUTES = HTTP.flatMap((fn) => fn.trigger.routes.map((route) => ({ ...route, fn: fn.name })));

  test('an http function gets its role and its Errors and Throttles alarms, and no queue, DLQ, subscription or queue alarm', () => {
    for (const fn of HTTP) {
      const p = pascal(fn.name);
      const own = Object.keys(resources).filter(
        (id) => id.startsWith(p) && !/^\w+(LambdaFunction|LambdaVersion\w+|LogGroup|LambdaPermission\w+)$/.test(id),
      );
      expect({ fn: fn.name, own: own.sort() }).toEqual({ fn: fn.name, own: [`${p}ErrorsAlarm`, `${p}Role`, `${p}ThrottlesAlarm`] });
    }
  });

  test('every route of the registry is in the API, behind the JWT authorizer unless public, and no other route', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([id, r]) => ({ id, p: r.Properties ?? {} }));
    expect(routes.map((r) => r.p.RouteKey).sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    expect(ROUTES.filter((route) => route.access === 'public').map((route) => route.path)).toEqual(['/health']);
    for (const route of ROUTES) {
      const key = `${route.method} ${route.path}`;
      const found = routes.find((r) => r.p.RouteKey === key);
      const auth = { key, type: found?.p.AuthorizationType, authorizer: target(found?.p.AuthorizerId) };
      expect(auth).toEqual(
        route.access === 'public'
          ? { key, type: undefined, authorizer: undefined }
          : { key, type: 'JWT', authorizer: 'HttpApiAuthorizerJwt' },
      );
      // To the function's own integration, which invokes that function.
      const integration = JSON.stringify(found?.p.Target).match(/"Ref":"(\w+)"/)?.[1];
      expect({ key, integration }).toEqual({ key, integration: `HttpApiIntegration${pascal(route.fn)}` });
      expect(target(props(`HttpApiIntegration${pascal(route.fn)}`).IntegrationUri)).toBe(FUNCTIONS[route.fn]);
      expect(target(found?.p.ApiId)).toBe('HttpApi');
    }
  });

  test("the one authorizer checks JWTs issued by the stack's user pool for its app client", () => {
    expect(ofType('AWS::ApiGatewayV2::Authorizer').map(([id]) => id)).toEqual(['HttpApiAuthorizerJwt']);
    expect(props('HttpApiAuthorizerJwt')).toEqual({
      ApiId: { Ref: 'HttpApi' },
      Name: 'jwt',
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerType: 'JWT',
      JwtConfiguration: {
        Audience: [{ Ref: 'UserPoolClient' }],
        Issuer: { 'Fn::Sub': 'https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}' },
      },
    });
  });

  test('the user pool: users created by an administrator only; a public app client; the operators group', () => {
    expect(resources.UserPool.Type).toBe('AWS::Cognito::UserPool');
    expect(props('UserPool').AdminCreateUserConfig).toEqual({ AllowAdminCreateUserOnly: true });
    expect(resources.UserPoolClient.Type).toBe('AWS::Cognito::UserPoolClient');
    expect(props('UserPoolClient')).toMatchObject({ UserPoolId: { Ref: 'UserPool' }, GenerateSecret: false });
    expect(resources.UserPoolAdminGroup.Type).toBe('AWS::Cognito::UserPoolGroup');
    expect(props('UserPoolAdminGroup')).toMatchObject({ UserPoolId: { Ref: 'UserPool' }, GroupName: config.api.admin.group });
  });

  test('the stage throttles as pipeline.config.json says; no CORS without the corsOrigins parameter', () => {
    expect(ofType('AWS::ApiGatewayV2::Stage').map(([id]) => id)).toEqual(['HttpApiStage']);
    expect(props('HttpApiStage')).toMatchObject({ ApiId: { Ref: 'HttpApi' }, StageName: '$default' });
    expect(props('HttpApiStage').DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: true,
      ThrottlingRateLimit: config.api.throttling.rateLimit,
      ThrottlingBurstLimit: config.api.throttling.burstLimit,
    });
    // The origins a stage allows are its own (tested with the generator in test/unit/infraGenerators.test.ts).
    expect(props('HttpApi').CorsConfiguration).toBeUndefined();
  });

  test('API Gateway may invoke each http function, from this API only', () => {
    for (const fn of HTTP) {
      const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => target(p.Properties?.FunctionName) === FUNCTIONS[fn.name]);
      expect(permissions).toHaveLength(1);
      const p = permissions[0][1].Properties ?? {};
      expect(p).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
      expect(JSON.stringify(p.SourceArn)).toContain('{"Ref":"HttpApi"}');
    }
  });
});

// ---------------------------------------------------------------- outputs

test('outputs name the buckets, the queues, the DLQs, the table and the user pool', () => {
  const outputs = template.Outputs ?? {};
  const expected = {
    UploadsBucketName: 'UploadsBucket',
    ThumbnailsBucketName: 'ThumbnailsBucket',
    ModelsBucketName: 'ModelsBucket',
    ResizeQueueUrl: 'ResizeQueue',
    ResizeDlqUrl: 'ResizeDlq',
    PredictQueueUrl: 'PredictQueue',
    PredictDlqUrl: 'PredictDlq',
    DeliveryDlqUrl: 'DeliveryDlq',
    ModelUriParameterName: 'ModelUriParameter',
    AlarmTopicArn: 'AlarmTopic',
    UploadsTopicArn: 'UploadsTopic',
    ImagesTableName: 'ImagesTable',
    ImagesTableArn: 'ImagesTable',
    UserPoolId: 'UserPool',
    UserPoolClientId: 'UserPoolClient',
    HttpApiId: 'HttpApi',
    ...Object.fromEntries(
      QUEUED.flatMap((fn) => [
        [`${pascal(fn.name)}QueueUrl`, idsOf(fn.name).queue],
        [`${pascal(fn.name)}DlqUrl`, idsOf(fn.name).dlq],
      ]),
    ),
  };
  // The names the operations commands read with --aws.
  const readByAws = [
    'UploadsBucketName',
    'ThumbnailsBucketName',
    'ModelsBucketName',
    'DeliveryDlqUrl',
    'ImagesTableName',
    ...QUEUED.flatMap((fn) => [queueUrlOutput(fn.name), dlqUrlOutput(fn.name)]),
  ];
  for (const output of readByAws) expect(Object.keys(expected)).toContain(output);
  for (const [output, resource] of Object.entries(expected)) {
    expect({ output, value: target(outputs[output]?.Value) }).toEqual({ output, value: resource });
  }
  expect(outputs.ImagesTableArn?.Value).toEqual(TABLE_ARN);
  // No queue outputs for a function that has no queue.
  for (const fn of HTTP) {
    expect(outputs[queueUrlOutput(fn.name)]).toBeUndefined();
    expect(outputs[dlqUrlOutput(fn.name)]).toBeUndefined();
  }
});

// ---------------------------------------------------------------- the local stage

describe('local stage', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sls-print-local-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  interface Printed {
    provider: { environment: Record<string, string> };
    functions: Record<string, { environment: Record<string, Json> }>;
  }

  /** `serverless print --stage local` with the local stack's state folder set (so a running `npm start` here changes nothing). */
  async function printLocal(stateDir: string): Promise<Printed> {
    const stdout = await runServerless(
      ['print', '--stage', 'local', '--format', 'json'],
      offlineEnv(tmp, { PIPELINE_STATE_DIR: stateDir }),
    );
    return JSON.parse(stdout.slice(stdout.indexOf('{'))) as Printed;
  }

  function expectLocalLiterals(printed: Printed, ports: { s3Port: number; sqsPort: number; dynamodbPort: number }) {
    const local = config.local;
    expect(printed.provider.environment).toEqual({
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${ports.s3Port}`,
      AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${ports.sqsPort}`,
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${ports.dynamodbPort}`,
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    const resize = printed.functions.resize.environment;
    expect(resize).toMatchObject({
      UPLOADS_BUCKET: local.buckets.uploads,
      THUMBNAILS_BUCKET: local.buckets.thumbnails,
      MODELS_BUCKET: local.buckets.models,
      RESIZE_DLQ_URL: `http://127.0.0.1:${ports.sqsPort}/${local.accountId}/resize-dlq`,
    });
    expect(printed.functions.predict.environment.PREDICT_DLQ_URL).toBe(`http://127.0.0.1:${ports.sqsPort}/${local.accountId}/predict-dlq`);
    expect(Object.keys(printed.functions).sort()).toEqual(REGISTRY.map((fn) => fn.name).sort());
    for (const fn of REGISTRY) {
      const env = printed.functions[fn.name].environment;
      expect(env).toMatchObject({ UPLOADS_BUCKET: local.buckets.uploads, POWERTOOLS_SERVICE_NAME: fn.name, LOG_LEVEL: 'DEBUG' });
      // The literal table name (never a Ref) for the functions granted the table, and no other.
      expect({ fn: fn.name, table: env.IMAGES_TABLE }).toEqual({
        fn: fn.name,
        table: hasTableGrant(fn.name) ? local.tables.catalogue : undefined,
      });
      // The local stack has no authorizer: the API trusts every caller on 127.0.0.1 only there.
      expect({ fn: fn.name, auth: env.API_AUTH }).toEqual({ fn: fn.name, auth: fn.environment.includes('API_AUTH') ? 'local' : undefined });
    }
    for (const fn of QUEUED) {
      expect(printed.functions[fn.name].environment[dlqUrlVariable(fn.name)]).toBe(
        `http://127.0.0.1:${ports.sqsPort}/${local.accountId}/${fn.name}-dlq`,
      );
    }
    for (const fn of HTTP) {
      const dlqs = Object.keys(printed.functions[fn.name].environment).filter((name) => name.endsWith('_DLQ_URL'));
      expect(dlqs.length).toBe(fn.environment.includes('QUEUE_URLS') ? QUEUED.length + 1 : 0);
    }
    expect(printed.functions.predict.environment.MODEL_URI_PARAMETER).toBe('');
    for (const fn of Object.values(printed.functions)) {
      for (const value of Object.values(fn.environment)) expect(typeof value).toBe('string');
    }
  }

  test('resolves to literal local names and endpoints, with no CloudFormation reference to look up', async () => {
    // No state file: pipeline.config.json's ports.
    expectLocalLiterals(await printLocal(path.join(tmp, 'no-stack-running')), config.local);
  }, 120_000);

  test('takes the ports of a running local stack from its state file, and ignores one it cannot read', async () => {
    const running = path.join(tmp, 'running');
    mkdirSync(running);
    const ports = {
      s3Port: config.local.s3Port + 100,
      sqsPort: config.local.sqsPort + 100,
      dynamodbPort: config.local.dynamodbPort + 100,
      apiPort: config.local.apiPort + 100,
    };
    writeFileSync(path.join(running, 'state.json'), JSON.stringify({ ...ports, buckets: {}, queues: {}, env: {} }));
    const broken = path.join(tmp, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'state.json'), '{"s3Port": 46');
    const [fromState, fromBroken] = await Promise.all([printLocal(running), printLocal(broken)]);
    expectLocalLiterals(fromState, ports);
    expectLocalLiterals(fromBroken, config.local);
  }, 120_000);
});
