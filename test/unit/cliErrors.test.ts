import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeError, errorReason, isDebug, reportFailure } from '../../cli/errors';
import { EXIT_CODES_HELP, helpText, USAGE } from '../../cli/help';
import { freePortsEnv } from '../helpers/portsEnv';
import { type CliRun, runCli } from '../helpers/runCli';

/**
 * Every command reports a failure as one line, `pipeline <command>: <what>: <why>`, with the exit
 * code its help states; a stack trace only with DEBUG=1. main() runs in this process, as the
 * `pipeline` command does, with an Output that records what it prints.
 */

const ROOT = path.resolve(__dirname, '../..');
const SAMPLE = path.join(ROOT, 'events', 'samples', 'landscape.jpg');
const scratch = mkdtempSync(path.join(tmpdir(), 'pipeline-cli-errors-'));
const missing = path.join(scratch, 'does-not-exist');
const STACK_LINE = /^\s+at /m;

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Run = CliRun;

/** main(args) with this environment and a state folder of its own. */
const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  runCli(args, { PIPELINE_STATE_DIR: path.join(scratch, 'state'), ...env });

/** Ports where nothing listens: the local stack is not running. */
const deadStack = freePortsEnv;

/** One line on stderr, nothing on stdout, no stack trace. */
function expectOneLine(result: Run, pattern: RegExp): void {
  expect(result.err).toHaveLength(1);
  expect(result.err[0]).not.toContain('\n');
  expect(result.err[0]).toMatch(pattern);
  expect(result.err.join('\n')).not.toMatch(STACK_LINE);
  expect(result.out).toEqual([]);
}

describe('usage errors: 64, one line and the usage', () => {
  test('an unknown option names the command and the option', async () => {
    const result = await run(['resize', SAMPLE, '--out', scratch, '--bogus']);
    expect(result.code).toBe(64);
    expect(result.err).toEqual([`pipeline resize: unknown option --bogus\n`, `usage: ${USAGE.resize}`]);
    expect(result.out).toEqual([]);
  });

  test('an unknown command lists the commands and the general help', async () => {
    const result = await run(['uplod', 'x.jpg']);
    expect(result.code).toBe(64);
    expect(result.err[0]).toMatch(/^pipeline: unknown command "uplod"; commands: start, upload/);
    expect(result.err[1]).toBe(helpText());
  });
});

describe('a missing file: exit code 1 and one line naming it', () => {
  test('upload', async () => {
    const result = await run(['upload', missing], await deadStack());
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^pipeline upload: cannot read ${missing}: no such file or directory \\(ENOENT\\)$`));
  });

  test('replay', async () => {
    const result = await run(['replay', missing], await deadStack());
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^pipeline replay: cannot read ${missing}: no such file or directory \\(ENOENT\\)$`));
  });

  test('resize', async () => {
    const result = await run(['resize', missing, '--out', path.join(scratch, 'out')]);
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^pipeline resize: cannot read ${missing}: no such file or directory \\(ENOENT\\)$`));
  });

  test('predict: the image', async () => {
    const result = await run(['predict', missing]);
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^pipeline predict: cannot read ${missing}: no such file or directory \\(ENOENT\\)$`));
  });

  test('predict: the model folder', async () => {
    const result = await run(['predict', SAMPLE, '--model', missing]);
    expect(result.code).toBe(1);
    expectOneLine(
      result,
      new RegExp(
        `^pipeline predict: cannot read the model ${missing}: ${path.join(missing, 'model.onnx')}: no such file or directory \\(ENOENT\\)$`,
      ),
    );
  });

  test('model upload', async () => {
    const result = await run(['model', 'upload', missing], await deadStack());
    expect(result.code).toBe(1);
    expectOneLine(
      result,
      new RegExp(`^pipeline model upload: cannot read the model folder ${missing}: ${path.join(missing, 'model.onnx')}: no such file`),
    );
  });
});

describe('a bad model', () => {
  const modelDir = (manifest: string) => {
    const dir = mkdtempSync(path.join(scratch, 'model-'));
    copyFileSync(path.join(ROOT, 'models', 'shapes', '1', 'model.onnx'), path.join(dir, 'model.onnx'));
    writeFileSync(path.join(dir, 'manifest.json'), manifest);
    return dir;
  };

  test('model upload: a manifest that is not JSON names the file, before anything is uploaded', async () => {
    const dir = modelDir('{"name": "shapes",');
    const result = await run(['model', 'upload', dir], await deadStack());
    expect(result.code).toBe(1);
    expectOneLine(
      result,
      new RegExp(`^pipeline model upload: ${path.join(dir, 'manifest.json')}: Invalid model manifest field "\\(root\\)": not JSON`),
    );
  });

  test('model upload: a manifest with a bad field names the field', async () => {
    const dir = modelDir(JSON.stringify({ name: 'shapes', version: '1' }));
    const result = await run(['model', 'upload', dir], await deadStack());
    expect(result.code).toBe(1);
    expectOneLine(result, /^pipeline model upload: .*manifest\.json: Invalid model manifest field "\w+": expected/);
  });

  const shapesManifest = () => JSON.parse(readFileSync(path.join(ROOT, 'models', 'shapes', '1', 'manifest.json'), 'utf8'));

  test('model upload: an 8-byte model.onnx that is no graph is refused before anything is uploaded', async () => {
    const dir = modelDir(JSON.stringify(shapesManifest()));
    writeFileSync(path.join(dir, 'model.onnx'), 'garbage!');
    const result = await run(['model', 'upload', dir], await deadStack());
    expect(result.code).toBe(1);
    // Refused by the check: with the stack down, an attempted upload would say it cannot reach it.
    expectOneLine(result, new RegExp(`^pipeline model upload: ${path.join(dir, 'model.onnx')} does not run as its manifest describes: .+`));
    expect(result.err.join('\n')).not.toContain('cannot reach');
  });

  test.each([
    ['an input name the graph lacks', { inputName: 'pixels' }, /the graph has no input "pixels"/],
    ['an output name the graph lacks', { outputName: 'scores' }, /the graph has no output "scores"/],
    ['another number of labels', { labels: ['a', 'b', 'c'] }, /returns 5 scores but the manifest lists 3 labels/],
    ['another input size', { width: 64, height: 64 }, /.+/],
  ])('model upload: a manifest with %s than the graph is refused', async (_, change, message) => {
    const dir = modelDir(JSON.stringify({ ...shapesManifest(), ...change }));
    const result = await run(['model', 'upload', dir], await deadStack());
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^pipeline model upload: ${path.join(dir, 'model.onnx')} does not run as its manifest describes: `));
    expect(result.err.join('\n')).toMatch(message);
  });

  test('predict: a model file that is no ONNX graph', async () => {
    const dir = modelDir('{}');
    copyFileSync(path.join(ROOT, 'models', 'shapes', '1', 'manifest.json'), path.join(dir, 'manifest.json'));
    writeFileSync(path.join(dir, 'model.onnx'), 'not a graph');
    const result = await run(['predict', SAMPLE, '--model', dir]);
    expect(result.code).toBe(1);
    expectOneLine(result, new RegExp(`^pipeline predict: cannot load the model ${path.join(dir, 'model.onnx')}: .+`));
  });
});

describe('the local stack is not running', () => {
  test('dlq list: 1, cannot reach the local stack, start it with npm start', async () => {
    const env = await deadStack();
    const result = await run(['dlq', 'list'], env);
    expect(result.code).toBe(1);
    expect(result.err.at(-1)).toMatch(
      new RegExp(`^pipeline dlq list: cannot reach the local stack at http://127\\.0\\.0\\.1:${env.SQS_PORT}\\b.*\`npm start\``),
    );
    expect(result.err.join('\n')).not.toMatch(STACK_LINE);
    expect(result.out).toEqual([]);
  });

  test('audit: 2 (the audit could not run), cannot reach the local stack, start it with npm start', async () => {
    const result = await run(['audit'], await deadStack());
    expect(result.code).toBe(2);
    expectOneLine(result, /^pipeline audit: cannot reach the local stack\b.*`npm start`/);
  });

  test('model upload: 1, the bucket and the hint', async () => {
    const env = await deadStack();
    const result = await run(['model', 'upload', path.join(ROOT, 'models', 'shapes', '1')], env);
    expect(result.code).toBe(1);
    expectOneLine(
      result,
      /^pipeline model upload: could not upload to s3:\/\/models\/shapes\/1\/ at .*: cannot reach the local stack.*`npm start`/,
    );
  });
});

describe('failures no command handles itself reach main: one line, exit code 1', () => {
  test('a bad S3_PORT for replay', async () => {
    const result = await run(['replay', path.join(ROOT, 'events', 'resize-sqs.json')], { S3_PORT: 'abc' });
    expect(result.code).toBe(1);
    expectOneLine(result, /^pipeline replay: S3_PORT: expected a whole number between 1 and 65535, got "abc"$/);
  });

  test('a bad SQS_PORT for dlq list names the action too', async () => {
    const result = await run(['dlq', 'list'], { SQS_PORT: '70000' });
    expect(result.code).toBe(1);
    expectOneLine(result, /^pipeline dlq list: SQS_PORT: expected a whole number/);
  });

  test('a bad S3_PORT for start', async () => {
    const result = await run(['start'], { S3_PORT: '0' });
    expect(result.code).toBe(1);
    expectOneLine(result, /^pipeline start: S3_PORT: expected a whole number between 1 and 65535, got "0"$/);
  });
});

describe('DEBUG=1', () => {
  test('prints the stack trace after the line', async () => {
    const result = await run(['upload', missing], { ...(await deadStack()), DEBUG: '1' });
    expect(result.code).toBe(1);
    expect(result.err[0]).toMatch(/^pipeline upload: cannot read .*: no such file or directory \(ENOENT\)$/);
    expect(result.err.slice(1).join('\n')).toMatch(STACK_LINE);
  });

  test('is on for 1, true and a list naming pipeline; off when unset, empty or 0', () => {
    for (const value of ['1', 'true', 'yes', '*', 'express,pipeline']) expect(isDebug({ DEBUG: value })).toBe(true);
    for (const value of [undefined, '', '0', 'false', 'express:*']) expect(isDebug({ DEBUG: value })).toBe(false);
  });
});

describe('describeError', () => {
  test('a file error: the path, the reason and the code', () => {
    const error = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y.jpg'"), {
      code: 'ENOENT',
      syscall: 'open',
      path: '/x/y.jpg',
    });
    expect(describeError(error)).toBe('/x/y.jpg: no such file or directory (ENOENT)');
    expect(errorReason(error)).toBe('no such file or directory (ENOENT)');
  });

  test('a refused connection to another host, and an AggregateError made of refusals', () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}:443`), { code: 'ECONNREFUSED', syscall: 'connect', address, port: 443 });
    expect(describeError(refused('10.0.0.1'))).toBe('cannot connect to 10.0.0.1:443: connection refused (ECONNREFUSED)');
    expect(describeError(new AggregateError([refused('::1'), refused('127.0.0.1')], ''))).toMatch(
      /^cannot reach the local stack at ::1:443: connection refused \(ECONNREFUSED\); .*`npm start`$/,
    );
  });

  test('an AWS service error names its code; a bug names its type; messages become one line', () => {
    const service = Object.assign(new Error('The specified bucket does not exist'), {
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404 },
    });
    expect(describeError(service)).toBe('The specified bucket does not exist (NoSuchBucket)');
    expect(describeError(Object.assign(new Error(''), { name: 'UnknownError', $metadata: { httpStatusCode: 503 } }))).toBe(
      'UnknownError (HTTP 503)',
    );
    expect(describeError(new TypeError('x is not a function'))).toBe('TypeError: x is not a function');
    expect(describeError(new Error('first\n  second\n'))).toBe('first second');
    expect(describeError('a string')).toBe('a string');
  });

  test('reportFailure: `pipeline <command>: <what>: <why>`', () => {
    const lines: string[] = [];
    reportFailure({ err: (line) => lines.push(line) }, 'resize', new Error('boom'), 'photo.jpg could not be processed', {});
    expect(lines).toEqual(['pipeline resize: photo.jpg could not be processed: boom']);
  });
});

describe('help', () => {
  test('the general help lists the exit codes, and which commands use 2', () => {
    expect(helpText()).toContain(EXIT_CODES_HELP);
    expect(EXIT_CODES_HELP).toMatch(/^ {2}0 {3}success$/m);
    expect(EXIT_CODES_HELP).toMatch(/^ {2}1 {3}/m);
    expect(EXIT_CODES_HELP).toMatch(/^ {2}2 {3}resize, predict: .*audit: the audit could not run$/m);
    expect(EXIT_CODES_HELP).toMatch(/^ {2}64 {2}a usage error/m);
  });

  test.each(Object.keys(USAGE))('pipeline %s --help states its exit codes', (command) => {
    expect(USAGE[command as keyof typeof USAGE]).toMatch(/Exit code: 0 [^\n]*(\n {2}[^\n]*)?64 bad arguments/);
  });
});
