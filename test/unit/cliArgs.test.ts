import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  normalizePrefix,
  parseArgv,
  parseAuditArgs,
  parseCommand,
  parseDlqArgs,
  parseModelArgs,
  parsePredictArgs,
  parseReplayArgs,
  parseResizeArgs,
  parseStartArgs,
  parseUploadArgs,
  UsageError,
} from '../../cli/args';
import { helpText, USAGE } from '../../cli/help';
import { resolveTarget } from '../../cli/target';
import { pascalCase } from '../../functions/naming';
import { queueFunctions } from '../../functions/registry';
import { writeStackState } from '../../local/stackState';
import { resourcesFromOutputs, stackName } from '../../ops/stackOutputs';

describe('parseArgv', () => {
  const spec = { out: 'string', wait: 'boolean' } as const;

  test('positionals, --name value, --name=value and boolean flags', () => {
    expect(parseArgv(['a.jpg', '--out', 'dir', 'b.jpg', '--wait'], spec)).toEqual({
      positionals: ['a.jpg', 'b.jpg'],
      options: { out: 'dir', wait: true },
    });
    expect(parseArgv(['--out=x=y'], spec).options.out).toBe('x=y');
    expect(parseArgv(['--out='], spec).options.out).toBe('');
  });

  test('-- ends the options, so files may look like options', () => {
    expect(parseArgv(['--', '--wait', '-x'], spec)).toEqual({ positionals: ['--wait', '-x'], options: {} });
  });

  test('-h and --help are always understood', () => {
    expect(parseArgv(['-h'], spec).options.help).toBe(true);
    expect(parseArgv(['--help'], {}).options.help).toBe(true);
  });

  test.each([
    [['--nope'], /unknown option --nope/],
    [['-x'], /unknown option -x/],
    [['--out'], /--out needs a value/],
    [['--out', '--wait'], /--out needs a value/],
    [['--wait=yes'], /--wait takes no value/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseArgv(argv, spec)).toThrow(UsageError);
    expect(() => parseArgv(argv, spec)).toThrow(message);
  });

  test('a lone "-" is a positional (stdin by convention)', () => {
    expect(parseArgv(['-'], spec).positionals).toEqual(['-']);
  });
});

describe('parseCommand', () => {
  test.each([[[]], [['help']], [['--help']], [['-h']]])('%j shows help', (argv) => {
    expect(parseCommand(argv).command).toBe('help');
  });

  test('help <command> names a topic', () => {
    expect(parseCommand(['help', 'upload'])).toEqual({ command: 'help', args: [], topic: 'upload' });
  });

  test('passes the rest to the command', () => {
    expect(parseCommand(['upload', 'a.jpg', '--prefix', 'p'])).toEqual({ command: 'upload', args: ['a.jpg', '--prefix', 'p'] });
  });

  test('an unknown command lists the known ones', () => {
    expect(() => parseCommand(['uplaod'])).toThrow(/unknown command "uplaod"; commands: start, upload, replay, resize, .*dlq, audit.*help/);
  });
});

describe('upload', () => {
  test('files, prefix as a folder, bucket', () => {
    expect(parseUploadArgs(['a.jpg', 'b.png', '--prefix', 'holiday', '--bucket', 'other'])).toEqual({
      files: ['a.jpg', 'b.png'],
      prefix: 'holiday/',
      bucket: 'other',
      aws: false,
      wait: false,
    });
  });

  test('defaults: no prefix, bucket from the environment or config, local target', () => {
    expect(parseUploadArgs(['a.jpg'])).toEqual({ files: ['a.jpg'], prefix: '', bucket: undefined, aws: false, wait: false });
    expect(parseUploadArgs(['a.jpg', '--aws', '--wait'])).toMatchObject({ aws: true, wait: true });
  });

  test('needs a file; an empty bucket is refused', () => {
    expect(() => parseUploadArgs([])).toThrow(/at least one file/);
    expect(() => parseUploadArgs(['a.jpg', '--bucket='])).toThrow(/--bucket must not be empty/);
  });

  test.each([
    ['', ''],
    ['holiday', 'holiday/'],
    ['holiday/', 'holiday/'],
    ['/holiday/2024', 'holiday/2024/'],
    ['a b+c/', 'a b+c/'],
  ])('prefix %j -> %j', (prefix, normalized) => {
    expect(normalizePrefix(prefix)).toBe(normalized);
  });
});

describe('replay', () => {
  test('one event file, optional function', () => {
    expect(parseReplayArgs(['events/resize-sqs.json'])).toEqual({ eventFile: 'events/resize-sqs.json', functionName: undefined });
    expect(parseReplayArgs(['e.json', '--function', 'predict'])).toEqual({ eventFile: 'e.json', functionName: 'predict' });
    expect(parseReplayArgs(['e.json', '--function=resize']).functionName).toBe('resize');
  });

  test('refuses a missing or extra file and an unknown function', () => {
    expect(() => parseReplayArgs([])).toThrow(/exactly one event file/);
    expect(() => parseReplayArgs(['a.json', 'b.json'])).toThrow(/exactly one event file/);
    expect(() => parseReplayArgs(['a.json', '--function', 'thumbnail'])).toThrow(
      /--function must be one of resize, predict, got "thumbnail"/,
    );
  });
});

describe('resize', () => {
  test('file and --out; sizes, format and quality optional and validated like the configuration', () => {
    expect(parseResizeArgs(['photo.jpg', '--out', 'out'])).toEqual({ file: 'photo.jpg', outDir: 'out' });
    expect(parseResizeArgs(['photo.jpg', '--out', 'out', '--sizes', '256,512', '--format', 'JPEG', '--quality', '70'])).toEqual({
      file: 'photo.jpg',
      outDir: 'out',
      sizes: [512, 256],
      format: 'jpeg',
      quality: 70,
    });
  });

  test.each([
    [['photo.jpg'], /needs --out/],
    [['--out', 'o'], /exactly one image file/],
    [['a.jpg', 'b.jpg', '--out', 'o'], /exactly one image file/],
    [['a.jpg', '--out', 'o', '--sizes', '256,abc'], /--sizes: expected a whole number/],
    [['a.jpg', '--out', 'o', '--sizes', '256,256'], /--sizes: sizes repeat/],
    [['a.jpg', '--out', 'o', '--format', 'gif'], /--format: expected one of webp, jpeg, avif/],
    [['a.jpg', '--out', 'o', '--quality', '101'], /--quality: expected a whole number between 1 and 100, got "101"/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseResizeArgs(argv)).toThrow(message);
  });
});

describe('start', () => {
  test('takes no arguments', () => {
    expect(parseStartArgs([])).toEqual({});
    expect(parseStartArgs(['--help'])).toEqual({ help: true });
    expect(() => parseStartArgs(['now'])).toThrow(UsageError);
  });
});

describe('help flags inside a command', () => {
  test.each([parseUploadArgs, parseReplayArgs, parseResizeArgs])('%p answers --help without requiring arguments', (parse) => {
    expect(parse(['--help']).help).toBe(true);
  });
});

describe('dlq', () => {
  test('list: every DLQ by default, one with --queue, JSON with --json', () => {
    expect(parseDlqArgs(['list'])).toEqual({ action: 'list', aws: false, json: false });
    expect(parseDlqArgs(['list', '--queue', 'delivery', '--json'])).toEqual({ action: 'list', aws: false, queue: 'delivery', json: true });
    expect(parseDlqArgs(['list', '--queue-url', 'http://127.0.0.1:9324/000000000000/x'])).toMatchObject({
      queueUrl: 'http://127.0.0.1:9324/000000000000/x',
    });
  });

  test('redrive: queue, reason filter and dry run', () => {
    expect(parseDlqArgs(['redrive'])).toEqual({ action: 'redrive', aws: false, dryRun: false });
    expect(parseDlqArgs(['redrive', '--queue=predict', '--reason', 'model-unavailable', '--dry-run'])).toEqual({
      action: 'redrive',
      aws: false,
      queue: 'predict',
      reason: 'model-unavailable',
      dryRun: true,
    });
    expect(parseDlqArgs(['redrive', '--reason', 'max-receives'])).toMatchObject({ reason: 'max-receives' });
  });

  test('--aws with a stage', () => {
    expect(parseDlqArgs(['list', '--aws', '--stage', 'prod'])).toEqual({ action: 'list', aws: true, stage: 'prod', json: false });
  });

  test.each([
    [[], 'help'],
    [['--help'], 'help'],
    [['help'], 'help'],
    [['list', '-h'], 'help'],
    [['redrive', '--help'], 'help'],
  ])('%j shows the help', (argv) => {
    expect(parseDlqArgs(argv)).toEqual({ help: true });
  });

  test.each([
    [['empty'], /unknown dlq action "empty"; actions: list, redrive, purge/],
    [['purge'], /dlq purge needs --reason CODE or --older-than AGE/],
    [['list', '--queue', 'thumbnails'], /--queue must be one of resize, predict, delivery, got "thumbnails"/],
    [
      ['redrive', '--queue', 'delivery'],
      /--queue must be one of resize, predict, got "delivery" \(delivery DLQ messages have no single source queue/,
    ],
    [['redrive', '--reason', 'corupt'], /--reason "corupt" is no reason code; known: not-an-image, .*corrupt/],
    [['redrive', '--reason='], /--reason must not be empty/],
    [['list', '--stage', 'prod'], /--stage needs --aws/],
    [['list', '--aws', '--stage', 'a b'], /--stage must be letters, digits and dashes/],
    [['list', 'resize'], /dlq list takes no arguments/],
    [['list', '--reason', 'corrupt'], /unknown option --reason/],
    [['redrive', '--json'], /unknown option --json/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseDlqArgs(argv)).toThrow(UsageError);
    expect(() => parseDlqArgs(argv)).toThrow(message);
  });
});

describe('audit', () => {
  test('defaults: all outputs, 120 s grace, local target', () => {
    expect(parseAuditArgs([])).toEqual({
      aws: false,
      json: false,
      outputs: 'all',
      graceSeconds: 120,
      repair: false,
      dryRun: false,
      rate: 20,
    });
  });

  test('every option', () => {
    expect(
      parseAuditArgs([
        '--json',
        '--outputs',
        'thumbnails',
        '--grace-seconds',
        '0',
        '--aws',
        '--stage',
        'dev',
        '--uploads-bucket',
        'u',
        '--thumbnails-bucket=t',
      ]),
    ).toEqual({
      aws: true,
      stage: 'dev',
      json: true,
      outputs: 'thumbnails',
      graceSeconds: 0,
      uploadsBucket: 'u',
      thumbnailsBucket: 't',
      repair: false,
      dryRun: false,
      rate: 20,
    });
  });

  test('--help', () => {
    expect(parseAuditArgs(['-h'])).toEqual({ help: true });
  });

  test.each([
    [['--outputs', 'predictions'], /--outputs must be one of thumbnails, prediction, all/],
    [['--grace-seconds', '-1'], /--grace-seconds: expected a whole number of at least 0/],
    [['--grace-seconds', '1.5'], /--grace-seconds: expected a whole number of at least 0/],
    [['--grace-seconds='], /--grace-seconds: expected a whole number of at least 0/],
    [['--uploads-bucket='], /--uploads-bucket must not be empty/],
    [['now'], /audit takes no arguments/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseAuditArgs(argv)).toThrow(message);
  });
});

test('help lists dlq and audit, each with its own page', () => {
  expect(helpText()).toMatch(/^pipeline dlq list\|redrive/m);
  expect(helpText()).toMatch(/^pipeline audit/m);
  expect(helpText('dlq')).toBe(USAGE.dlq);
  expect(USAGE.audit).toMatch(/Exit code: 0 nothing missing, 1 something missing, 2 the audit could not run/);
});

describe('where the operations commands look', () => {
  test('local stack by default: S3_PORT / SQS_PORT and the local names, emulator-friendly short polls', async () => {
    const target = await resolveTarget({ aws: false }, false, { S3_PORT: '1111', SQS_PORT: '2222' });
    expect(target).toMatchObject({
      local: true,
      buckets: { uploads: 'uploads', thumbnails: 'thumbnails' },
      functions: {
        resize: { queueUrl: 'http://127.0.0.1:2222/000000000000/resize', dlqUrl: 'http://127.0.0.1:2222/000000000000/resize-dlq' },
        predict: { queueUrl: 'http://127.0.0.1:2222/000000000000/predict', dlqUrl: 'http://127.0.0.1:2222/000000000000/predict-dlq' },
      },
      deliveryDlqUrl: 'http://127.0.0.1:2222/000000000000/delivery-dlq',
      scan: { waitTimeSeconds: 0 },
    });
    expect(target.clientEnv).toMatchObject({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1111', AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:2222' });
    // Only the queue-fed functions have a queue and a DLQ to look at.
    expect(Object.keys(target.functions)).toEqual(queueFunctions().map((fn) => fn.name));
    expect(Object.keys(target.functions)).not.toContain('api');
  });

  test('endpoint overrides and bucket flags win', async () => {
    const env = {
      AWS_ENDPOINT_URL_SQS: 'http://sqs.example:4566',
      AWS_ENDPOINT_URL_S3: 'http://s3.example:4566',
      UPLOADS_BUCKET: 'from-env',
    };
    const target = await resolveTarget({ aws: false, thumbnailsBucket: 'flagged' }, false, env);
    expect(target).toMatchObject({
      local: false,
      buckets: { uploads: 'from-env', thumbnails: 'flagged' },
      functions: { resize: { dlqUrl: 'http://sqs.example:4566/000000000000/resize-dlq' } },
    });
  });

  test('without S3_PORT / SQS_PORT: the ports and settings the running `npm start` wrote to its state file', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-state-'));
    try {
      const env = { PIPELINE_STATE_DIR: stateDir };
      expect((await resolveTarget({ aws: false }, false, env)).clientEnv).toMatchObject({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324' });
      writeStackState(stateDir, {
        pid: 1,
        startedAt: '2026-12-02T00:00:00.000Z',
        s3Port: 4669,
        sqsPort: 9424,
        dynamodbPort: 8100,
        apiPort: 3100,
        s3Endpoint: 'http://127.0.0.1:4669',
        sqsEndpoint: 'http://127.0.0.1:9424',
        dynamodbEndpoint: 'http://127.0.0.1:8100',
        apiEndpoint: 'http://127.0.0.1:3100',
        region: 'us-east-1',
        buckets: { uploads: 'uploads', thumbnails: 'thumbnails', models: 'models' },
        tables: { catalogue: 'images' },
        queues: {},
        env: { THUMBNAIL_SIZES: '128,640' },
      });
      const target = await resolveTarget({ aws: false }, false, env);
      expect(target.clientEnv).toMatchObject({
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4669',
        AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9424',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8100',
        THUMBNAIL_SIZES: '128,640',
      });
      expect(target.functions.resize.dlqUrl).toBe('http://127.0.0.1:9424/000000000000/resize-dlq');
      // The caller's own settings win over the stack's.
      const own = await resolveTarget({ aws: false }, false, { ...env, SQS_PORT: '2222', THUMBNAIL_SIZES: '64' });
      expect(own.clientEnv).toMatchObject({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:2222', THUMBNAIL_SIZES: '64' });
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test("--aws: names come from the stack's outputs, each function's named after it", () => {
    expect(stackName('image-pipeline', 'dev')).toBe('image-pipeline-dev');
    expect(pascalCase('thumb-extra')).toBe('ThumbExtra');
    expect(
      resourcesFromOutputs([
        { OutputKey: 'ResizeDlqUrl', OutputValue: 'https://sqs/1/x' },
        { OutputKey: 'Other', OutputValue: 'y' },
        { OutputKey: 'UploadsBucketName' },
        { OutputKey: 'ImagesTableName', OutputValue: 'image-pipeline-dev-images' },
      ]),
    ).toEqual({
      uploadsBucket: undefined,
      thumbnailsBucket: undefined,
      modelsBucket: undefined,
      deliveryDlqUrl: undefined,
      catalogueTable: 'image-pipeline-dev-images',
      // The queue-fed functions only, as for the local stack: api has no queue or DLQ (nor outputs for them).
      functions: { resize: { queueUrl: undefined, dlqUrl: 'https://sqs/1/x' }, predict: { queueUrl: undefined, dlqUrl: undefined } },
    });
  });
});

describe('parsePredictArgs', () => {
  test('a file, and an optional model', () => {
    expect(parsePredictArgs(['photo.jpg'])).toEqual({ file: 'photo.jpg' });
    expect(parsePredictArgs(['photo.jpg', '--model', 's3://models/shapes/1/'])).toEqual({
      file: 'photo.jpg',
      model: 's3://models/shapes/1/',
    });
  });
  test('exactly one file', () => {
    expect(() => parsePredictArgs([])).toThrow(UsageError);
    expect(() => parsePredictArgs(['a.jpg', 'b.jpg'])).toThrow('predict needs exactly one image file');
  });
});

describe('parseModelArgs', () => {
  test('upload <dir> with optional name, version and bucket', () => {
    expect(parseModelArgs(['upload', 'models/shapes/1'])).toEqual({ action: 'upload', dir: 'models/shapes/1' });
    expect(parseModelArgs(['upload', 'm', '--name', 'mobilenetv2', '--version', '12', '--bucket', 'b'])).toEqual({
      action: 'upload',
      dir: 'm',
      name: 'mobilenetv2',
      version: '12',
      bucket: 'b',
    });
  });
  test('refuses a missing or unknown action, and a missing folder', () => {
    expect(() => parseModelArgs([])).toThrow(/model needs an action: upload or import/);
    expect(() => parseModelArgs(['download', 'x'])).toThrow(/model needs an action: upload or import/);
    expect(() => parseModelArgs(['upload'])).toThrow('model upload needs exactly one model folder');
    expect(() => parseModelArgs(['upload', 'm', '--aws'])).toThrow(/--aws needs --bucket/);
    expect(() => parseModelArgs(['upload', 'm', '--labels', 'a,b'])).toThrow('model upload takes no --labels');
    expect(parseModelArgs(['upload', 'm', '--aws', '--bucket', 'b'])).toEqual({ action: 'upload', dir: 'm', bucket: 'b', aws: true });
  });

  test('import <dir> --out <dir> --labels, with name, version and fit', () => {
    expect(parseModelArgs(['import', 'tfjs', '--out', 'models/x/2', '--labels', 'Drawing, Neutral,Porn'])).toEqual({
      action: 'import',
      dir: 'tfjs',
      out: 'models/x/2',
      labels: ['Drawing', 'Neutral', 'Porn'],
      name: 'imported',
      version: '1',
      fit: 'fill',
    });
    expect(
      parseModelArgs(['import', 't', '--out', 'o', '--labels', 'a,b', '--name', 'n', '--version', '3', '--fit', 'cover']),
    ).toMatchObject({
      name: 'n',
      version: '3',
      fit: 'cover',
    });
    expect(() => parseModelArgs(['import', 't', '--labels', 'a,b'])).toThrow('model import needs --out <dir>');
    expect(() => parseModelArgs(['import', 't', '--out', 'o'])).toThrow(/needs --labels/);
    expect(() => parseModelArgs(['import', 't', '--out', 'o', '--labels', 'a,,b'])).toThrow(/needs --labels/);
    expect(() => parseModelArgs(['import', 't', '--out', 'o', '--labels', 'a,b', '--fit', 'crop'])).toThrow(
      /--fit must be one of fill, cover/,
    );
    expect(() => parseModelArgs(['import', 't', '--out', 'o', '--labels', 'a,b', '--bucket', 'b'])).toThrow(
      'model import takes no --bucket',
    );
  });
});
