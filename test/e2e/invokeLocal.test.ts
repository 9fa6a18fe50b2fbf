import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { ROOT } from '../../scripts/packageService';
import { startTestStack, type TestStack } from '../helpers/localStack';
import { freePortsEnv } from '../helpers/portsEnv';

/**
 * `serverless invoke local -s local` finds a stack started on other ports by itself (its state
 * file) and exits non-zero, saying so, when the batch reports failed records.
 */

const SERVERLESS = path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

async function invokeLocal(eventFile: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [SERVERLESS, 'invoke', 'local', '-s', 'local', '-f', 'resize', '-p', eventFile], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      // Its own bundle folder (git-ignored), so it never shares one with a packaging test.
      PIPELINE_ESBUILD_WORK_FOLDER: '.esbuild/invoke-local-test',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const batchResponse = (stdout: string) => JSON.parse(stdout.slice(stdout.lastIndexOf('\n{\n') + 1));

describe('serverless invoke local -s local', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
    await t.waitFor(() => t.exists('thumbnails', '1024/samples/landscape.jpg.webp'), 60_000, 'the seeded sample');
  }, 90_000);
  afterAll(() => t?.stop());

  test('reaches a stack on non-default ports through its state file, and exits 0 when every record succeeds', async () => {
    // Without its thumbnails, the replayed event must write them again, into this stack's bucket.
    const thumbnails = ['1024', '512', '256'].map((size) => `${size}/samples/landscape.jpg.webp`);
    await t.s3.send(new DeleteObjectsCommand({ Bucket: 'thumbnails', Delete: { Objects: thumbnails.map((Key) => ({ Key })) } }));
    expect(await t.exists('thumbnails', thumbnails[0])).toBe(false);
    const run = await invokeLocal('events/resize-sqs.json', { PIPELINE_STATE_DIR: t.stateDir });
    expect({ code: run.code, stderr: run.stderr.includes('record(s) failed') }).toEqual({ code: 0, stderr: false });
    expect(batchResponse(run.stdout)).toEqual({ batchItemFailures: [] });
    for (const key of thumbnails) expect({ key, exists: await t.exists('thumbnails', key) }).toEqual({ key, exists: true });
  }, 180_000);

  test('exits 1 and says how many records failed when the stack cannot be reached', async () => {
    const nowhere = mkdtempSync(path.join(tmpdir(), 'pipeline-invoke-'));
    try {
      const ports = await freePortsEnv();
      const run = await invokeLocal('events/resize-sqs.json', { PIPELINE_STATE_DIR: nowhere, ...ports });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('1 of 1 record(s) failed');
      expect(batchResponse(run.stdout).batchItemFailures).toHaveLength(1);
    } finally {
      rmSync(nowhere, { recursive: true, force: true });
    }
  }, 180_000);
});
