import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { MODELS_DIR, seedDirectory } from '../../local/samples';
import { startTestStack, type TestStack } from '../helpers/localStack';
import { freePortsEnv, portsEnv } from '../helpers/portsEnv';
import { waitFor } from '../helpers/waitFor';

/** The `pipeline` command as a user runs it: `node bin/pipeline.js ...` in a child process. */

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'pipeline.js');
const SAMPLES = path.join(ROOT, 'events', 'samples');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Each command is a fresh Node process compiling TypeScript: slow on a loaded machine.
jest.setTimeout(90_000);

const children = new Set<ChildProcess>();
const scratch = mkdtempSync(path.join(tmpdir(), 'pipeline-cli-'));

/** A clean environment: nothing of the test process's stack settings leaks into the command. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? scratch,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    ...extra,
  };
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function finish(child: ChildProcess, timeoutMs = 60_000): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

const pipeline = (args: string[], env?: Record<string, string>) => finish(start(args, env));

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

describe('pipeline resize', () => {
  test('writes every size and prints one JSON result', async () => {
    const out = path.join(scratch, 'resize-ok');
    const run = await pipeline(['resize', path.join(SAMPLES, 'landscape.jpg'), '--out', out]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(result).toEqual({
      ok: true,
      source: expect.objectContaining({ path: path.join(SAMPLES, 'landscape.jpg'), format: 'jpeg', width: 1800, height: 1200 }),
      outputs: [256, 512, 1024].map((size) =>
        expect.objectContaining({
          size,
          width: size,
          height: expect.any(Number),
          path: path.join(out, String(size), 'landscape.jpg.webp'),
          bytes: expect.any(Number),
        }),
      ),
    });
    for (const output of result.outputs) {
      const file = readFileSync(output.path);
      expect(file.length).toBe(output.bytes);
      const meta = await sharp(file).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: 'webp',
        width: output.width,
        height: output.height,
      });
    }
  });

  test('--sizes and --format choose the outputs', async () => {
    const out = path.join(scratch, 'resize-jpeg');
    const run = await pipeline(['resize', path.join(SAMPLES, 'landscape.jpg'), '--out', out, '--sizes', '100', '--format', 'jpeg']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).outputs).toEqual([
      expect.objectContaining({ size: 100, width: 100, path: path.join(out, '100', 'landscape.jpg.jpeg') }),
    ]);
    expect((await sharp(path.join(out, '100', 'landscape.jpg.jpeg')).metadata()).format).toBe('jpeg');
  });

  test('a corrupt image is a permanent failure: exit code 2 and the reason', async () => {
    const out = path.join(scratch, 'resize-bad');
    const run = await pipeline(['resize', path.join(SAMPLES, 'corrupt.png'), '--out', out]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      source: expect.objectContaining({ path: path.join(SAMPLES, 'corrupt.png') }),
      error: { class: 'permanent', reason: 'not-an-image', message: expect.any(String) },
    });
    expect(existsSync(out)).toBe(false);
  });

  test('a missing file is exit code 1 with a message', async () => {
    const run = await pipeline(['resize', path.join(scratch, 'nope.jpg'), '--out', scratch]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/cannot read .*nope\.jpg/);
  });

  test('a usage mistake is exit code 64 with the usage', async () => {
    const run = await pipeline(['resize', 'photo.jpg']);
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/needs --out/);
    expect(run.stderr).toMatch(/usage: pipeline resize <file> --out <dir>/);
  });
});

test('help lists every command', async () => {
  const run = await pipeline(['--help']);
  expect(run.code).toBe(0);
  for (const command of ['start', 'upload', 'replay', 'resize']) expect(run.stdout).toContain(`pipeline ${command}`);
});

describe('against a running stack', () => {
  let t: TestStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestStack();
    // The seeded samples go through the pipeline at start, and their corrupt one lands in the DLQ:
    // take it out first, so the replay below is the only source of DLQ entries.
    await t.waitFor(
      async () => ((await t.drain(t.queueUrls.resizeDlq)).length > 0 ? true : undefined),
      45_000,
      'the seeded corrupt sample in the DLQ',
    );
    // Real-looking credentials in the shell must not leak into calls to the local stack.
    env = {
      ...portsEnv(t.ports),
      AWS_ACCESS_KEY_ID: 'AKIAEXPORTEDINSHELL1',
      AWS_SECRET_ACCESS_KEY: 'x',
    };
  });

  afterAll(async () => {
    await t?.stop();
  });

  test('replay of a sample event runs the real handler and prints the batch response', async () => {
    const run = await pipeline(['replay', 'events/resize-sqs.json'], env);
    expect(run.stderr).not.toMatch(/not running/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ batchItemFailures: [] });
    expect(await t.list('thumbnails', '1024/samples/')).toContain('1024/samples/landscape.jpg.webp');
  });

  test('replay decodes the special key as the function does on AWS', async () => {
    const run = await pipeline(['replay', 'events/resize-sqs-special-key.json'], env);
    expect(run.code).toBe(0);
    expect(await t.exists('thumbnails', '256/samples/my photo+1 ü.jpg.webp')).toBe(true);
  });

  test('replay of the poison batch: the corrupt record goes to the DLQ and counts as handled', async () => {
    const run = await pipeline(['replay', 'events/resize-sqs-batch-with-poison.json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ batchItemFailures: [] });
    const dlq = await t.drain(t.queueUrls.resizeDlq);
    expect(dlq.map((message) => message.MessageAttributes?.sourceKey?.StringValue)).toEqual(['samples/corrupt.png']);
  });

  test('replay of the s3:TestEvent does nothing and succeeds', async () => {
    const run = await pipeline(['replay', 'events/s3-test-event.json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ batchItemFailures: [] });
  });

  test('upload puts the files under the prefix, and --wait waits for the thumbnails', async () => {
    const run = await pipeline(['upload', path.join(SAMPLES, 'landscape.jpg'), '--prefix', 'cli', '--wait'], env);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('s3://uploads/cli/landscape.jpg');
    expect(run.stderr).toMatch(/thumbnails for cli\/landscape\.jpg ready \d+ ms after the upload started/);
    expect(await t.list('thumbnails', '512/cli/')).toEqual(['512/cli/landscape.jpg.webp']);
  });

  test('start refuses a busy port with a clear message', async () => {
    const run = await pipeline(['start'], {
      ...(await freePortsEnv()),
      S3_PORT: env.S3_PORT,
      PIPELINE_STATE_DIR: path.join(scratch, 'busy'),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`port ${t.ports.s3Port} is in use: is another \`npm start\` running? set S3_PORT=`);
  });
});

test('replay without a running stack says so', async () => {
  const run = await pipeline(['replay', 'events/resize-sqs.json'], await freePortsEnv());
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(
    /the local stack is not running: nothing answers at http:\/\/127\.0\.0\.1:\d+ \(S3\); start it with `npm start`/,
  );
});

test('start runs the stack in the foreground and stops cleanly on SIGINT', async () => {
  const stateDir = path.join(scratch, 'start');
  const child = start(['start'], { ...(await freePortsEnv()), PIPELINE_STATE_DIR: stateDir });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const result = finish(child, 90_000);
  // The banner is printed just before the command installs its SIGINT handler; a signal sent in that
  // gap kills the process instead of stopping it. Any activity line printed after the banner (the
  // seeded samples' batches) comes from a later turn of its event loop, when the handler is in place.
  await waitFor(
    () => child.exitCode !== null || /Pipeline ready\n[\s\S]*^(resize|predict): batch of /m.test(stdout),
    60_000,
    () => `the stack to be ready and to process the seeded samples (output so far: ${JSON.stringify(stdout.slice(-500))})`,
    100,
  );
  expect(stdout).toMatch(/^S3 {2}http:\/\/127\.0\.0\.1:\d+$/m);
  expect(stdout).toMatch(/^SQS http:\/\/127\.0\.0\.1:\d+$/m);
  expect(stdout).toContain('Pipeline ready');
  expect(stdout).toContain('npx pipeline upload photo.jpg --prefix holiday/');
  child.kill('SIGINT');
  const run = await result;
  expect(run.code).toBe(0);
  expect(stdout).toContain('Stopped.');
  expect(existsSync(path.join(stateDir, 's3', 'uploads'))).toBe(true);
  expect(run.stderr).not.toContain('warning');
}, 180_000);

test('start warns at once, in one line, when the configured model cannot be loaded, and runs anyway', async () => {
  const stateDir = path.join(scratch, 'start-no-model');
  const env = { ...(await freePortsEnv()), PIPELINE_STATE_DIR: stateDir };
  const child = start(['start'], { ...env, MODEL_URI: 's3://models/nowhere/' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const result = finish(child, 90_000);
  await waitFor(
    () => child.exitCode !== null || stderr.includes('\n'),
    60_000,
    () => `a warning (stderr so far: ${JSON.stringify(stderr)})`,
    100,
  );
  expect(stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^pipeline start: warning: the model at s3:\/\/models\/nowhere\/ cannot be loaded \(.+\); predictions will fail as model-unavailable/,
    ),
  ]);
  child.kill('SIGINT');
  expect((await result).code).toBe(0);
}, 180_000);

test('start with S3_PORT on a port something listens on: exit code 1, one line naming the port and S3_PORT, no stack', async () => {
  // Imported here, so this test adds nothing to the file's header.
  const { createServer } = await import('node:net');
  const squatter = createServer().listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  const { port } = squatter.address() as import('node:net').AddressInfo;
  try {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-cli-busy-'));
    try {
      // finish() kills the child if it hangs, and resolves when it has exited.
      const run = await pipeline(['start'], { ...(await freePortsEnv()), S3_PORT: String(port), PIPELINE_STATE_DIR: stateDir });
      expect(run.code).toBe(1);
      const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines).toEqual([
        `pipeline start: port ${port} is in use: is another \`npm start\` running? set S3_PORT=... to use another port`,
      ]);
      expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
});

describe('a plain command finds the running stack by its state file', () => {
  // A stack on free ports with other sizes, as `S3_PORT=... SQS_PORT=... THUMBNAIL_SIZES=128,640 npm start` runs it.
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack({ env: { THUMBNAIL_SIZES: '128,640' }, seed: false });
    await seedDirectory(t.s3, 'models', MODELS_DIR);
  }, 60_000);
  afterAll(() => t?.stop());

  test('upload --wait waits for the sizes the stack writes, and audit reads its buckets and queues, with no port given', async () => {
    const env = { PIPELINE_STATE_DIR: t.stateDir };
    const upload = await pipeline(['upload', path.join(SAMPLES, 'landscape.jpg'), '--prefix', 'state-file', '--wait'], env);
    expect(upload.code).toBe(0);
    expect(upload.stderr).toContain('640/state-file/landscape.jpg.webp');
    expect(upload.stderr).toContain('128/state-file/landscape.jpg.webp');
    expect(upload.stderr).not.toContain('1024/');
    await t.waitFor(() => t.exists('thumbnails', 'predictions/state-file/landscape.jpg.json'), 30_000, 'the prediction');

    const audit = await pipeline(['audit', '--json', '--grace-seconds', '0'], env);
    expect(audit.code).toBe(0);
    const report = JSON.parse(audit.stdout);
    expect(report.summary).toMatchObject({ uploads: 1, complete: 1, missing: 0 });
    expect(audit.stderr).not.toContain('cannot reach');
  });
});
