import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionDefinition } from '../../functions/registry';
import type { LocalPorts } from '../../local/endpoints';
import type { BatchReport } from '../../local/poller';
import { freePort } from '../../local/servers';
import {
  type FunctionName,
  type Handler,
  type LocalStack,
  type LocalStackOptions,
  requireHandler,
  startLocalStack,
} from '../../local/stack';
import { type StoreOps, storeOps } from './storeOps';

/**
 * The whole local pipeline for a test: embedded S3 and SQS on free ports (never the default ones,
 * so a running `npm start` is left alone), a fresh state folder, quiet, with the real handlers
 * loaded in an isolated module registry. Every batch the pollers invoke is recorded.
 */
export interface TestStack extends StoreOps {
  stack: LocalStack;
  s3: S3Client;
  sqs: SQSClient;
  ports: LocalPorts;
  /** The local HTTP API's base URL (`http://127.0.0.1:<port>`). */
  apiUrl: string;
  stateDir: string;
  queueUrls: LocalStack['servers']['queueUrls'];
  /** Every batch the pollers invoked so far, in order. */
  batches: BatchReport[];
  /**
   * Polls `predicate` until it returns a truthy value (returned) or `timeoutMs` passes (throws,
   * naming `what` and the last error); a predicate that throws counts as not yet.
   */
  waitFor<T>(predicate: () => Promise<T> | T, timeoutMs?: number, what?: string): Promise<NonNullable<T>>;
  stop(): Promise<void>;
}

export interface TestStackOptions
  extends Partial<Pick<LocalStackOptions, 'visibilityTimeoutSeconds' | 'env' | 'batchWindowSeconds' | 'seed' | 'functions'>> {
  /** Reuse a state folder (to test persistence); by default a fresh one that stop() removes. */
  stateDir?: string;
  /** Replace a function's handler (e.g. a stub); by default the real functions/<name>/handler. */
  handlers?: Partial<Record<FunctionName, Handler>>;
}

/** The real handler module, loaded fresh so it reads the environment this stack sets. */
function isolatedHandler(fn: FunctionDefinition): Handler {
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    handler = requireHandler(fn);
  });
  return handler!;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'pipeline-e2e-'));
  const ports: LocalPorts = {
    s3Port: await freePort(),
    sqsPort: await freePort(),
    dynamodbPort: await freePort(),
    apiPort: await freePort(),
  };
  const batches: BatchReport[] = [];
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...ports,
      stateDir,
      quiet: true,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5,
      batchWindowSeconds: options.batchWindowSeconds,
      seed: options.seed,
      env: options.env,
      functions: options.functions,
      loadHandler: (fn) => options.handlers?.[fn.name] ?? isolatedHandler(fn),
      onBatch: (report) => batches.push(report),
    });
  } catch (error) {
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  const { s3, sqs } = stack;

  const waitFor: TestStack['waitFor'] = async (predicate, timeoutMs = 20_000, what = 'condition') => {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      // A request that fails while polling (a socket timeout on a loaded machine) means "not yet".
      const value = await Promise.resolve()
        .then(predicate)
        .catch((error: unknown) => {
          lastError = error;
          return undefined;
        });
      if (value) return value as NonNullable<Awaited<typeof value>>;
      if (Date.now() > deadline) {
        const last = lastError ? ` (last error: ${(lastError as Error).message})` : '';
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  return {
    stack,
    s3,
    sqs,
    ports,
    apiUrl: `http://127.0.0.1:${ports.apiPort}`,
    stateDir,
    queueUrls: stack.servers.queueUrls,
    batches,
    waitFor,
    ...storeOps(s3, sqs),
    async stop() {
      await stack.stop();
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
