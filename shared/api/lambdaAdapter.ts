import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import type { ApiApp } from './appParts';

/**
 * An app of the HTTP API as a Lambda handler for API Gateway's payload 2.0: every log line of the
 * request carries its request id and route, and one line reports its status and time.
 */
export function httpHandler(app: ApiApp, logger: Logger) {
  const serve = handle(app);
  return async (event: APIGatewayProxyEventV2, context: Context) => {
    logger.addContext(context);
    logger.appendKeys({ requestId: event.requestContext.requestId, route: event.routeKey });
    const started = performance.now();
    // hono's own event type is a structural copy of @types/aws-lambda's payload 2.0.
    const result = await serve(event as unknown as LambdaEvent, context);
    logger.info('request', { status: result.statusCode, ms: Math.round(performance.now() - started) });
    return result;
  };
}
