import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localPorts, type Resolvers, ROOT, stackContext } from '../../infra/stack';
import { readStackState, STATE_FILE, stateDirectory } from '../../local/stackState';
import config from '../../pipeline.config.json';

/** A running local stack's state.json, read defensively: by the CLI and by the local stage of serverless.yml. */

const defaults = { s3Port: config.local.s3Port, sqsPort: config.local.sqsPort };
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'local-state-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const stateFile = (content: string) => writeFileSync(path.join(tmp, STATE_FILE), content);
const valid = { s3Port: 4669, sqsPort: 9424, buckets: {}, queues: {}, env: { THUMBNAIL_SIZES: '128' } };

describe('readStackState', () => {
  test('the state of the file', () => {
    stateFile(JSON.stringify(valid));
    expect(readStackState(tmp)).toEqual(valid);
    expect(localPorts({ PIPELINE_STATE_DIR: tmp })).toEqual({ s3Port: 4669, sqsPort: 9424 });
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

  test('S3_PORT / SQS_PORT win over the file', () => {
    stateFile(JSON.stringify(valid));
    expect(localPorts({ PIPELINE_STATE_DIR: tmp, SQS_PORT: '2222' })).toEqual({ s3Port: 4669, sqsPort: 2222 });
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
        'param:stageEnvironment': { POWERTOOLS_TRACE_ENABLED: stage === 'local' ? 'false' : 'true' },
      })[variable],
  });

  test('the local stage takes the running stack ports; any other stage never looks at them', async () => {
    stateFile(JSON.stringify(valid));
    const env = { PIPELINE_STATE_DIR: tmp };
    expect((await stackContext(resolvers('local'), env)).localPorts).toEqual({ s3Port: 4669, sqsPort: 9424 });
    const dev = await stackContext(resolvers('dev'), env);
    expect(dev).toEqual({
      service: config.service,
      stage: 'dev',
      logLevel: 'INFO',
      modelUriParameter: '',
      traceEnabled: 'true',
      localPorts: { s3Port: config.local.s3Port, sqsPort: config.local.sqsPort },
    });
  });

  test('a setting that does not resolve to a string is an error naming it', async () => {
    const broken: Resolvers = {
      ...resolvers('dev'),
      resolveVariable: async (v) => (v === 'param:logLevel' ? null : resolvers('dev').resolveVariable(v)),
    };
    await expect(stackContext(broken, {})).rejects.toThrow(/param:logLevel resolved to null/);
  });
});
