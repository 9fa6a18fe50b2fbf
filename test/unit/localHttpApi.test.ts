import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { FUNCTIONS, httpFunctions } from '../../functions/registry';
import { apiGatewayEvent, corsHeaders, type MountedFunction, matchRoute, normaliseResult } from '../../local/httpApi';

/** The local server's reading of a request as API Gateway's HTTP API (payload 2.0) would present it. */

const handler = async () => ({ statusCode: 200 });
const mounted: MountedFunction[] = httpFunctions(FUNCTIONS).map((fn) => ({ fn, handler }));

function request(method: string, url: string, headers: Record<string, string> = {}): IncomingMessage {
  const message = { method, url, headers, httpVersion: '1.1', socket: new Socket() } as unknown as IncomingMessage;
  return message;
}

describe('route matching', () => {
  test('a key URL-encoded as one segment is one path parameter, decoded', () => {
    const match = matchRoute(mounted, 'GET', '/images/u%2F2026-12-02%2Fid%2Fmy%20photo.jpg');
    expect(match?.route.path).toBe('/images/{key}');
    expect(match?.pathParameters).toEqual({ key: 'u/2026-12-02/id/my photo.jpg' });
  });

  test('a literal route wins over a parameterised one, and the method must match', () => {
    expect(matchRoute(mounted, 'GET', '/images')?.route.path).toBe('/images');
    expect(matchRoute(mounted, 'DELETE', '/images/abc')?.route).toMatchObject({ method: 'DELETE', path: '/images/{key}' });
    expect(matchRoute(mounted, 'PUT', '/images/abc')).toBeUndefined();
  });

  test('an unencoded slash makes another path, which no route has; bad percent-encoding matches nothing', () => {
    expect(matchRoute(mounted, 'GET', '/images/a/b')).toBeUndefined();
    expect(matchRoute(mounted, 'GET', '/images/%E0%A4%A')).toBeUndefined();
    expect(matchRoute(mounted, 'GET', '/')).toBeUndefined();
  });
});

describe('the event', () => {
  test('carries the route key, the raw path and query, lower-case headers and a text body', () => {
    const incoming = request('POST', '/uploads?a=1&a=2&b=x', { 'Content-Type': 'application/json', Host: '127.0.0.1:3000' });
    const match = matchRoute(mounted, 'POST', '/uploads')!;
    const event = apiGatewayEvent(incoming, Buffer.from('{"x":1}'), match, new Date('2026-12-02T10:00:00Z'));
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /uploads',
      rawPath: '/uploads',
      rawQueryString: 'a=1&a=2&b=x',
      queryStringParameters: { a: '1,2', b: 'x' },
      headers: { 'content-type': 'application/json', host: '127.0.0.1:3000' },
      body: '{"x":1}',
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/uploads' },
        routeKey: 'POST /uploads',
        stage: '$default',
        timeEpoch: 1796205600000,
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('a binary body is base64, as API Gateway sends it', () => {
    const match = matchRoute(mounted, 'POST', '/uploads')!;
    const event = apiGatewayEvent(request('POST', '/uploads', { 'content-type': 'image/png' }), Buffer.from([0, 255]), match);
    expect(event).toMatchObject({ body: 'AP8=', isBase64Encoded: true });
  });
});

test("a handler's plain result is a 200 JSON body, as API Gateway reads it", () => {
  expect(normaliseResult({ statusCode: 204 })).toEqual({ statusCode: 204 });
  expect(normaliseResult({ a: 1 } as never)).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
});

test('CORS headers only for an allowed origin, as the configuration lists them', () => {
  const allowed = ['http://127.0.0.1:3000'];
  expect(corsHeaders('http://127.0.0.1:3000', allowed)).toMatchObject({ 'access-control-allow-origin': 'http://127.0.0.1:3000' });
  expect(corsHeaders('https://evil.example', allowed)).toEqual({});
  expect(corsHeaders(undefined, allowed)).toEqual({});
});
