import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { freePort, type LocalServers, startLocalServers } from '../../local/servers';
import { createS3Client, createSqsClient } from '../../shared/clients';
import { type StoreOps, storeOps } from './storeOps';

/** The test corpora (PngSuite, EXIF orientations), copied into the repo with their licences: see its README. */
export const CORPUS = path.resolve(__dirname, '../fixtures/corpus');

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The embedded S3 and SQS servers on free ports, in a fresh state folder, plus any handler
 * loaded with an environment that points at them, exactly as the local stage does.
 */
export interface HandlerHarness extends StoreOps {
  servers: LocalServers;
  s3: S3Client;
  sqs: SQSClient;
  /** Loads a fresh copy of a handler module with extra environment (for fault injection). */
  loadHandler(modulePath: string, env?: Record<string, string>): Handler;
  close(): Promise<void>;
}

const QUIET_ENV = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

export async function startHandlerHarness(): Promise<HandlerHarness> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-it-'));
  const servers = await startLocalServers({
    s3Port: await freePort(),
    sqsPort: await freePort(),
    dynamodbPort: await freePort(),
    stateDir,
    visibilityTimeoutSeconds: 2,
  });
  const s3 = createS3Client(servers.env);
  const sqs = createSqsClient(servers.env);

  const loadHandler = (modulePath: string, env: Record<string, string> = {}): Handler => {
    const saved = { ...process.env };
    Object.assign(process.env, servers.env, QUIET_ENV, env);
    try {
      let handler: Handler | undefined;
      jest.isolateModules(() => {
        handler = require(modulePath).handler;
      });
      return handler!;
    } finally {
      process.env = saved;
    }
  };

  return {
    servers,
    s3,
    sqs,
    loadHandler,
    ...storeOps(s3, sqs),
    async close() {
      s3.destroy();
      sqs.destroy();
      await servers.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
