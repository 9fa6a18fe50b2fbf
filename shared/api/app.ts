import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Hono } from 'hono';
import type { CatalogueItem, ItemStatus } from '../catalogue/item';
import type { ListOptions } from '../catalogue/store';
import type { PipelineConfig } from '../config';
import type { Verdict } from '../moderation/policy';
import { fitsS3Key } from '../outputs';
import { type ApiApp, type ApiEnv, answerErrors, jsonBody, routeGuard } from './appParts';
import { ApiError } from './errors';
import { imageView } from './imageView';
import type { Presigner } from './presign';
import { checkUploadRequest, uploadKey } from './uploads';

/**
 * The HTTP API's routes, one app for API Gateway (through hono's Lambda adapter) and the local
 * stack's server alike. Every answer is JSON; every refusal `{ error, message }` with its status.
 */

export interface CatalogueReader {
  get(key: string): Promise<CatalogueItem | undefined>;
  list(query: ListOptions): Promise<{ items: CatalogueItem[]; cursor: string | null }>;
}

export interface ApiDependencies {
  config: Pick<PipelineConfig, 'api' | 'limits'>;
  catalogue: CatalogueReader;
  presigner: Presigner;
  /** Deletes the upload; the pipeline's ObjectRemoved handling then removes its outputs and its record. */
  deleteUpload(key: string): Promise<void>;
  logger: Logger;
  now?: () => Date;
  newId?: () => string;
}

const STATUSES: readonly ItemStatus[] = ['pending', 'complete', 'failed'];
const VERDICTS: readonly Verdict[] = ['clean', 'flagged'];

function oneOf<T extends string>(name: string, raw: string | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ApiError(400, 'invalid-query', `${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

function pageSize(raw: string | undefined, config: PipelineConfig['api']): number {
  if (raw === undefined || raw === '') return config.pageSize;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > config.maxPageSize) {
    throw new ApiError(400, 'invalid-query', `limit must be a whole number from 1 to ${config.maxPageSize}, got ${JSON.stringify(raw)}`);
  }
  return limit;
}

function imageKey(raw: string): string {
  if (raw === '' || !fitsS3Key(raw))
    throw new ApiError(400, 'invalid-key', 'the key must be 1 to 1024 bytes of UTF-8, URL-encoded as one path segment');
  return raw;
}

export function createApiApp(deps: ApiDependencies): ApiApp {
  const { config, catalogue, presigner, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const app = new Hono<ApiEnv>();
  const guard = routeGuard(config.api);
  const view = (item: CatalogueItem) => imageView(item, presigner);

  app.get('/health', guard('public'), (c) => c.json({ status: 'ok' }));

  app.post('/uploads', guard('user'), async (c) => {
    const request = checkUploadRequest(await jsonBody(c), config.limits.maxInputBytes);
    const at = now();
    const key = uploadKey(config.api.uploadPrefix, request.filename, at, newId());
    const presigned = await presigner.upload(key, request, at);
    logger.info('upload presigned', { key, size: request.size, contentType: request.contentType, caller: c.get('caller') });
    return c.json({ key, ...presigned }, 201);
  });

  app.get('/images', guard('user'), async (c) => {
    const query: ListOptions = {
      status: oneOf('status', c.req.query('status'), STATUSES),
      verdict: oneOf('verdict', c.req.query('verdict'), VERDICTS),
      prefix: c.req.query('prefix') || undefined,
      limit: pageSize(c.req.query('limit'), config.api),
      cursor: c.req.query('cursor') || undefined,
    };
    const page = await catalogue.list(query);
    return c.json({ items: await Promise.all(page.items.map(view)), cursor: page.cursor });
  });

  app.get('/images/:key', guard('user'), async (c) => {
    const key = imageKey(c.req.param('key') ?? '');
    const item = await catalogue.get(key);
    if (!item) throw new ApiError(404, 'not-found', `no image ${JSON.stringify(key)} in the catalogue (yet)`);
    return c.json(await view(item));
  });

  app.delete('/images/:key', guard('user'), async (c) => {
    const key = imageKey(c.req.param('key') ?? '');
    if (!(await catalogue.get(key))) throw new ApiError(404, 'not-found', `no image ${JSON.stringify(key)} in the catalogue`);
    await deps.deleteUpload(key);
    logger.info('upload deleted', { key, caller: c.get('caller') });
    return c.json({ key, status: 'deleting' }, 202);
  });

  answerErrors(app, logger);
  return app;
}
