import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { Context, Hono } from 'hono';
import type { LambdaContext } from 'hono/aws-lambda';
import { InvalidCursorError } from '../catalogue/cursor';
import type { ApiConfig } from '../config';
import { authorize, type Caller, callerOf, type RouteAccess } from './auth';
import { ApiError, errorBody } from './errors';

/** What every app of the HTTP API shares: who is calling, JSON bodies, and errors as `{ error, message }`. */

export type ApiEnv = {
  Bindings: { event: APIGatewayProxyEventV2WithJWTAuthorizer; lambdaContext: LambdaContext };
  Variables: { caller: Caller };
};
export type ApiApp = Hono<ApiEnv>;

/** A route's access rule, checked before its handler runs; the caller is then `c.get('caller')`. */
export const routeGuard = (config: Pick<ApiConfig, 'auth' | 'admin'>) => (access: RouteAccess) => {
  return async (c: Context<ApiEnv>, next: () => Promise<void>) => {
    const caller = callerOf(c.env?.event?.requestContext?.authorizer?.jwt?.claims, config);
    authorize(access, caller);
    c.set('caller', caller);
    await next();
  };
};

export async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new ApiError(400, 'invalid-request', 'the body must be JSON (Content-Type: application/json)');
  }
}

/** Unknown routes and every error as JSON; a transient failure (catalogue, S3, SQS) is a 503 the client may retry. */
export function answerErrors(app: ApiApp, logger: Logger): void {
  app.notFound((c) => c.json({ error: 'not-found', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(errorBody(error), error.status);
    if (error instanceof InvalidCursorError) return c.json({ error: 'invalid-cursor', message: error.message }, 400);
    const transient = (error as { failureClass?: string }).failureClass === 'transient';
    logger.error('request failed', { error: (error as Error).message, method: c.req.method, path: c.req.path });
    return transient
      ? c.json({ error: 'service-unavailable', message: 'the catalogue or storage is unavailable; try again' }, 503)
      : c.json({ error: 'internal', message: 'internal error' }, 500);
  });
}
