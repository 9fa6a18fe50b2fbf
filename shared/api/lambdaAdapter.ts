import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { METRICS, MetricUnit, type Observability } from '../observability';
import type { ApiApp } from './appParts';

/**
 * An app of the HTTP API as a Lambda handler for API Gateway's payload 2.0: every log line of the
 * request carries its request id and route, one line reports its status and time, and the
 * requests, client errors and server errors are counted.
 */
export function httpHandler(app: ApiApp, { logger, tracer, metrics }: Observability) {
  const serve = handle(app);
  return async (event: APIGatewayProxyEventV2, context: Context) => {
    logger.addContext(context);
    logger.appendKeys({ requestId: event.requestContext.requestId, route: event.routeKey });
    tracer.annotateColdStart();
    metrics.captureColdStartMetric();
    const started = performance.now();
    try {
      // hono's own event type is a structural copy of @types/aws-lambda's payload 2.0.
      const result = await serve(event as unknown as LambdaEvent, context);
      const ms = performance.now() - started;
      logger.info('request', { status: result.statusCode, ms: Math.round(ms) });
      metrics.addMetric(METRICS.requests, MetricUnit.Count, 1);
      if (result.statusCode >= 500) metrics.addMetric(METRICS.serverErrors, MetricUnit.Count, 1);
      else if (result.statusCode >= 400) metrics.addMetric(METRICS.clientErrors, MetricUnit.Count, 1);
      metrics.addMetric(METRICS.requestMs, MetricUnit.Milliseconds, ms);
      return result;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
