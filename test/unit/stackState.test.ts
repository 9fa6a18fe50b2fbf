import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localPorts, type Resolvers, ROOT, stackContext } from '../../infra/stack';
import { readStackState, STATE_FILE, stateDirectory } from '../../local/stackState';
import config from '../../pipeline.config.json';

/** A running local stack's state.json, read defensively: by the CLI and by the local stage of serverless.yml. */

const defaults = {
  s3Port: config.local.s3Port,
  sqsPort: config.local.sqsPort,
  dynamodbPort: config.local.dynamodbPort,
  apiPort: config.local.apiPort,
};
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'local-state-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const stateFile = (content: string) => writeFileSync(path.join(tmp, STATE_FILE), content);
const valid = { s3Port: 4669, sqsPort: 9424, buckets: {}, queues: {}, env: { THUMBNAIL_SIZES: '128' } };
/** A state file of a stack with the catalogue table and the HTTP API (valid predates those ports). */
const full = { ...valid, dynamodbPort: 8100, apiPort: 3100, tables: { catalogue: 'images' } };

describe('readStackState', () => {
  test('the state of the file', () => {
    stateFile(JSON.stringify(valid));
    expect(readStackState(tmp)).toEqual(valid);
    // A file from before the table and the API: their ports are pipeline.config.json's.
    expect(localPorts({ PIPELINE_STATE_DIR: tmp })).toEqual({ ...defaults, s3Port: 4669, sqsPort: 9424 });
    stateFile(JSON.stringify(full));
    expect(readStackState(tmp)).toEqual(full);
    expect(localPorts({ PIPELINE_STATE_DIR: tmp })).toEqual({ s3Port: 4669, sqsPort: 9424, dynamodbPort: 8100, apiPort: 3100 });
  });

  test('none, silently, when the file is missing, not JSON, not an object, a directory, or its ports are no ports', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(readStackState(tmp)).toBeUndefined();
      for (const content of [
        '{"s3Port": 46',
        '',
        'null',
        '[4669, 9424]',
        JSON.stringify({ ...valid, s3Port: '4669' }),
        JSON.stringify({ ...valid, sqsPort: 70000 }),
        JSON.stringify({ ...valid, s3Port: 0, sqsPort: 1.5 }),
        JSON.stringify({ ...valid, env: null }),
      ]) {
        stateFile(content);
        expect({ content, state: readStackState(tmp) }).toEqual({ content, state: undefined });
        expect(localPorts({ PIPELINE_STATE_DIR: tmp })).toEqual(defaults);
      }
      rmSync(path.join(tmp, STATE_FILE));
      mkdirSync(path.join(tmp, STATE_FILE));
      expect(readStackState(tmp)).toBeUndefined();
      expect([...log.mock.calls, ...warn.mock.calls, ...error.mock.calls]).toEqual([]);
    } finally {
      log.mockRestore();
      warn.mockRestore();
      error.mockRestore();
    }
  });

  test('a file whose table or API port is there but no port is refused like one whose S3 or SQS port is', () => {
    for (const content of [
      JSON.stringify({ ...full, dynamodbPort: '8100' }),
      JSON.stringify({ ...full, dynamodbPort: 0 }),
      JSON.stringify({ ...full, apiPort: 70000 }),
      JSON.stringify({ ...full, apiPort: null }),
    ]) {
      stateFile(content);
      expect({ content, state: readStackState(tmp) }).toEqual({ content, state: undefined });
      expect({ content, ports: localPorts({ PIPELINE_STATE_DIR: tmp }) }).toEqual({ content, ports: defaults });
    }
  });

  test('S3_PORT / SQS_PORT / DYNAMODB_PORT / API_PORT win over the file', () => {
    stateFile(JSON.stringify(valid));
    expect(localPorts({ PIPELINE_STATE_DIR: tmp, SQS_PORT: '2222' })).toEqual({ ...defaults, s3Port: 4669, sqsPort: 2222 });
    stateFile(JSON.stringify(full));
    expect(localPorts({ PIPELINE_STATE_DIR: tmp, DYNAMODB_PORT: '2223', API_PORT: '2224' })).toEqual({
      s3Port: 4669,
      sqsPort: 9424,
      dynamodbPort: 2223,
      apiPort: 2224,
    });
    expect(() => localPorts({ PIPELINE_STATE_DIR: tmp, DYNAMODB_PORT: 'x' })).toThrow(/DYNAMODB_PORT/);
    expect(() => localPorts({ PIPELINE_STATE_DIR: tmp, API_PORT: '65536' })).toThrow(/API_PORT/);
  });
});

test('the state folder is local.stateDir from the repository root, or PIPELINE_STATE_DIR', () => {
  expect(stateDirectory({}, ROOT)).toBe(path.join(ROOT, config.local.stateDir));
  expect(stateDirectory({ PIPELINE_STATE_DIR: '' }, ROOT)).toBe(path.join(ROOT, config.local.stateDir));
  expect(stateDirectory({ PIPELINE_STATE_DIR: 'elsewhere' }, ROOT)).toBe(path.join(ROOT, 'elsewhere'));
  expect(stateDirectory({ PIPELINE_STATE_DIR: tmp }, ROOT)).toBe(tmp);
});

describe('stackContext', () => {
  const resolvers = (stage: string): Resolvers => ({
    resolveConfigurationProperty: async (keys) => (keys.join('.') === 'service' ? config.service : undefined),
    resolveVariable: async (variable) =>
      ({
        'sls:stage': stage,
        'param:logLevel': 'INFO',
        'param:modelUriParameter': '',
        'param:jwtIssuerUrl': '',
        'param:jwtAudience': '',
        'param:corsOrigins': stage === 'prod' ? 'https://app.example.com, https://admin.example.com' : '',
        'param:stageEnvironment': { POWERTOOLS_TRACE_ENABLED: stage === 'local' ? 'false' : 'true' },
      })[variable],
  });

  test('the local stage takes the running stack ports; any other stage never looks at them', async () => {
    stateFile(JSON.stringify(full));
    const env = { PIPELINE_STATE_DIR: tmp };
    expect((await stackContext(resolvers('local'), env)).localPorts).toEqual({
      s3Port: 4669,
      sqsPort: 9424,
      dynamodbPort: 8100,
      apiPort: 3100,
    });
    const dev = await stackContext(resolvers('dev'), env);
    expect(dev).toEqual({
      service: config.service,
      stage: 'dev',
      logLevel: 'INFO',
      modelUriParameter: '',
      traceEnabled: 'true',
      jwtIssuerUrl: '',
      jwtAudience: '',
      corsOrigins: [],
      localPorts: defaults,
    });
  });

  test('CORS origins: none on an AWS stage unless the corsOrigins parameter lists them; the config list locally', async () => {
    expect((await stackContext(resolvers('prod'), {})).corsOrigins).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect((await stackContext(resolvers('local'), { PIPELINE_STATE_DIR: tmp })).corsOrigins).toEqual(config.api.cors.allowedOrigins);
  });

  test("the stage's JWT issuer and audiences are passed on; an issuer without an audience is refused", async () => {
    const withIssuer = (issuer: string, audience: string): Resolvers => ({
      ...resolvers('prod'),
      resolveVariable: async (v) =>
        ({ 'param:jwtIssuerUrl': issuer, 'param:jwtAudience': audience })[v] ?? resolvers('prod').resolveVariable(v),
    });
    expect(await stackContext(withIssuer('https://issuer.example', 'a,b'), {})).toMatchObject({
      stage: 'prod',
      jwtIssuerUrl: 'https://issuer.example',
      jwtAudience: 'a,b',
    });
    for (const audience of ['', '  ']) {
      await expect(stackContext(withIssuer('https://issuer.example', audience), {})).rejects.toThrow(
        /param:jwtIssuerUrl is set but param:jwtAudience is empty/,
      );
    }
    // An audience alone changes nothing: the stack's own user pool is the issuer.
    expect(await stackContext(withIssuer('', 'ignored'), {})).toMatchObject({ jwtIssuerUrl: '' });
  });

  test('a setting that does not resolve to a string is an error naming it', async () => {
    const broken: Resolvers = {
      ...resolvers('dev'),
      resolveVariable: async (v) => (v === 'param:logLevel' ? null : resolvers('dev').resolveVariable(v)),
    };
    await expect(stackContext(broken, {})).rejects.toThrow(/param:logLevel resolved to null/);
    const noIssuer: Resolvers = {
      ...resolvers('dev'),
      resolveVariable: async (v) => (v === 'param:jwtIssuerUrl' ? undefined : resolvers('dev').resolveVariable(v)),
    };
    await expect(stackContext(noIssuer, {})).rejects.toThrow(/param:jwtIssuerUrl resolved to undefined/);
  });
});
