import { Logger } from '@aws-lambda-powertools/logger';
import { createOperatorApp, type Operations } from '../../shared/api/operatorApp';

/** The operator routes' access rule and validation, on operations that record what they were asked. */

const calls: unknown[] = [];
const operations: Operations = {
  queues: ['resize', 'predict', 'delivery'],
  isKnownReason: (reason) => ['corrupt', 'not-an-image'].includes(reason),
  deadLetters: async (queues) => {
    calls.push({ deadLetters: queues });
    return { rows: [], truncated: [] };
  },
  redrive: async (request) => {
    calls.push({ redrive: request });
    return { queue: request.queue, reason: request.reason ?? null, dryRun: request.dryRun, count: 2, notDeleted: 0 };
  },
  audit: async () => ({ checkedAt: 'now', summary: { uploads: 1 }, missing: [], pending: 0, warnings: [] }),
};
const logger = new Logger({ logLevel: 'SILENT' });
const admin = { auth: 'jwt' as const, admin: { scope: 'pipeline/admin', group: 'admin' } };
const app = createOperatorApp({ config: admin, operations, logger });

/** A request as API Gateway hands it over after its JWT authorizer: the claims in the event. */
function call(method: string, path: string, claims?: Record<string, string>, body?: unknown) {
  const event = { requestContext: { authorizer: claims && { jwt: { claims, scopes: null } } } };
  return app.request(
    path,
    { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) },
    { event, lambdaContext: {} } as never,
  );
}

beforeEach(() => {
  calls.length = 0;
});

test('no token: 401; a user token: 403; an operator: the rows', async () => {
  expect((await call('GET', '/operator/dlq')).status).toBe(401);
  expect((await call('GET', '/operator/dlq', { sub: 'u', scope: 'openid' })).status).toBe(403);
  const ok = await call('GET', '/operator/dlq', { sub: 'a', 'cognito:groups': '[admin]' });
  expect(ok.status).toBe(200);
  expect(calls).toEqual([{ deadLetters: ['resize', 'predict', 'delivery'] }]);
});

test('one DLQ by name; an unknown name is a 400 and nothing is read', async () => {
  const operator = { sub: 'a', scope: 'pipeline/admin' };
  expect((await call('GET', '/operator/dlq?queue=predict', operator)).status).toBe(200);
  const bad = await call('GET', '/operator/dlq?queue=nope', operator);
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({ error: 'invalid-request' });
  expect(calls).toEqual([{ deadLetters: ['predict'] }]);
});

test('a redrive by reason, dry run first; bad requests refused before anything moves', async () => {
  const operator = { sub: 'a', scope: 'pipeline/admin' };
  const dry = await call('POST', '/operator/dlq/redrive', operator, { queue: 'resize', reason: 'corrupt', dryRun: true });
  expect(await dry.json()).toEqual({ queue: 'resize', reason: 'corrupt', dryRun: true, count: 2, notDeleted: 0 });
  for (const body of [{ queue: 'x' }, { queue: 'resize', reason: 'made-up' }, { queue: 'resize', dryRun: 'yes' }, ['resize']]) {
    expect((await call('POST', '/operator/dlq/redrive', operator, body)).status).toBe(400);
  }
  expect((await call('POST', '/operator/dlq/redrive', { sub: 'u' }, { queue: 'resize' })).status).toBe(403);
  expect(calls).toEqual([{ redrive: { queue: 'resize', reason: 'corrupt', dryRun: true } }]);
});

test('locally (API_AUTH=local) every caller is an operator', async () => {
  const local = createOperatorApp({ config: { ...admin, auth: 'local' }, operations, logger });
  const response = await local.request('/operator/audit', {}, { event: { requestContext: {} }, lambdaContext: {} } as never);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ summary: { uploads: 1 } });
});
