import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLocalPorts } from '../../infra/localState';
import { localStateFile, type Resolvers, ROOT, stackContext } from '../../infra/stack';
import config from '../../pipeline.config.json';

/** The local stage's ports come from a running local stack's state.json, read defensively. */

const defaults = { s3Port: 4569, sqsPort: 9324 };
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'infra-local-state-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const stateFile = (content: string) => {
  const file = path.join(tmp, 'state.json');
  writeFileSync(file, content);
  return file;
};

describe('readLocalPorts', () => {
  test('the ports of the state file', () => {
    const file = stateFile(JSON.stringify({ s3Port: 4669, sqsPort: 9424, buckets: {}, queues: {}, env: { A: 'b' } }));
    expect(readLocalPorts(file, defaults)).toEqual({ s3Port: 4669, sqsPort: 9424 });
  });

  test('the defaults, silently, when the file is missing, not JSON, not an object, or a directory', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(readLocalPorts(path.join(tmp, 'missing.json'), defaults)).toEqual(defaults);
      expect(readLocalPorts(stateFile('{"s3Port": 46'), defaults)).toEqual(defaults);
      expect(readLocalPorts(stateFile(''), defaults)).toEqual(defaults);
      expect(readLocalPorts(stateFile('null'), defaults)).toEqual(defaults);
      expect(readLocalPorts(stateFile('[4669, 9424]'), defaults)).toEqual(defaults);
      mkdirSync(path.join(tmp, 'dir.json'));
      expect(readLocalPorts(path.join(tmp, 'dir.json'), defaults)).toEqual(defaults);
      expect([...log.mock.calls, ...warn.mock.calls, ...error.mock.calls]).toEqual([]);
    } finally {
      log.mockRestore();
      warn.mockRestore();
      error.mockRestore();
    }
  });

  test('each port that is not a port falls back to its default', () => {
    expect(readLocalPorts(stateFile('{"s3Port": "4669", "sqsPort": 9424}'), defaults)).toEqual({ s3Port: 4569, sqsPort: 9424 });
    expect(readLocalPorts(stateFile('{"s3Port": 4669, "sqsPort": 70000}'), defaults)).toEqual({ s3Port: 4669, sqsPort: 9324 });
    expect(readLocalPorts(stateFile('{"s3Port": 0, "sqsPort": 1.5}'), defaults)).toEqual(defaults);
    expect(readLocalPorts(stateFile('{}'), defaults)).toEqual(defaults);
  });
});

test('the state file is <local.stateDir>/state.json from the repository root, or under PIPELINE_STATE_DIR', () => {
  expect(localStateFile({})).toBe(path.join(ROOT, config.local.stateDir, 'state.json'));
  expect(localStateFile({ PIPELINE_STATE_DIR: '' })).toBe(path.join(ROOT, config.local.stateDir, 'state.json'));
  expect(localStateFile({ PIPELINE_STATE_DIR: 'elsewhere' })).toBe(path.join(ROOT, 'elsewhere', 'state.json'));
  expect(localStateFile({ PIPELINE_STATE_DIR: tmp })).toBe(path.join(tmp, 'state.json'));
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
    stateFile(JSON.stringify({ s3Port: 4669, sqsPort: 9424 }));
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
