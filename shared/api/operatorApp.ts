import type { Logger } from '@aws-lambda-powertools/logger';
import { Hono } from 'hono';
import type { ApiConfig } from '../config';
import { type ApiApp, type ApiEnv, answerErrors, jsonBody, routeGuard } from './appParts';
import { ApiError } from './errors';

/**
 * The operator routes of the HTTP API (the console's failures page): the DLQ rows with what each
 * reason means, a redrive by reason (a dry run first says how many messages would move), and the
 * audit summary. Every route is for operators only; the operations themselves are injected, so
 * this file is routing and validation alone.
 */

export interface DlqRowView {
  queue: string;
  messageId: string;
  failureClass: string;
  reason: string;
  errorMessage: string;
  /** What the reason means and what to do about it (ops reasons table). */
  description: { meaning: string; action: string } | null;
  objects: { kind: string; bucket: string; key: string; eTag?: string }[];
  attempts?: number;
  firstFailedAt?: string;
  lastFailedAt?: string;
}

export interface RedriveOutcome {
  queue: string;
  reason: string | null;
  dryRun: boolean;
  /** Dry run: the messages that would move; otherwise those that moved. */
  count: number;
  /** Sent back but not deleted from the DLQ: they would move again next time. */
  notDeleted: number;
}

export interface AuditView {
  checkedAt: string;
  summary: Record<string, number>;
  /** Uploads with neither complete outputs nor a DLQ entry, worst first. */
  missing: { key: string; detail: string }[];
  pending: number;
  warnings: string[];
}

export interface Operations {
  /** The DLQs an operator may name: every queue-fed function's and `delivery`. */
  queues: readonly string[];
  deadLetters(queues: readonly string[]): Promise<{ rows: DlqRowView[]; truncated: string[] }>;
  redrive(request: { queue: string; reason?: string; dryRun: boolean }): Promise<RedriveOutcome>;
  audit(): Promise<AuditView>;
  isKnownReason(reason: string): boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function createOperatorApp(deps: { config: Pick<ApiConfig, 'auth' | 'admin'>; operations: Operations; logger: Logger }): ApiApp {
  const { operations, logger } = deps;
  const app = new Hono<ApiEnv>();
  const guard = routeGuard(deps.config);

  const queueOf = (raw: unknown): string => {
    if (typeof raw !== 'string' || !operations.queues.includes(raw)) {
      throw new ApiError(400, 'invalid-request', `queue must be one of ${operations.queues.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return raw;
  };

  app.get('/operator/dlq', guard('admin'), async (c) => {
    const queue = c.req.query('queue');
    const queues = queue === undefined || queue === '' ? operations.queues : [queueOf(queue)];
    return c.json(await operations.deadLetters(queues));
  });

  app.post('/operator/dlq/redrive', guard('admin'), async (c) => {
    const body = await jsonBody(c);
    if (!isObject(body)) throw new ApiError(400, 'invalid-request', 'the body must be { "queue", "reason"?, "dryRun"? }');
    const queue = queueOf(body.queue);
    const { reason, dryRun } = body;
    if (reason !== undefined && (typeof reason !== 'string' || !operations.isKnownReason(reason))) {
      throw new ApiError(400, 'invalid-request', `reason ${JSON.stringify(reason)} is not a reason code`);
    }
    if (dryRun !== undefined && typeof dryRun !== 'boolean') throw new ApiError(400, 'invalid-request', 'dryRun must be true or false');
    const outcome = await operations.redrive({ queue, reason: reason as string | undefined, dryRun: dryRun === true });
    logger.info('redrive', { ...outcome, caller: c.get('caller') });
    return c.json(outcome);
  });

  app.get('/operator/audit', guard('admin'), async (c) => c.json(await operations.audit()));

  answerErrors(app, logger);
  return app;
}
