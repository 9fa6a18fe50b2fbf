import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpFunction, HttpRoute } from '../functions/registry';
import { LOCAL_HOST } from './endpoints';
import { lambdaContext } from './poller';

/**
 * The stack's HTTP API on 127.0.0.1, as API Gateway's HTTP API (payload format 2.0) presents it to
 * the functions: each request is matched against the registry's routes, turned into the same event
 * and handed to the same handler that runs on Lambda. An unmatched route gets API Gateway's own 404.
 * Locally there is no authorizer: the server listens on the loopback interface only and the
 * handlers run with API_AUTH=local.
 */

export interface StaticAsset {
  contentType: string;
  body: Buffer;
}

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface MountedFunction {
  fn: HttpFunction;
  handler: HttpHandler;
}

export interface RouteMatch {
  mounted: MountedFunction;
  route: HttpRoute;
  pathParameters: Record<string, string>;
}

/** `/images/{key}` -> a pattern whose groups are the parameters; a parameter is one path segment, as on API Gateway. */
function routePattern(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(parameter[1]);
      return '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), names };
}

/** The route a request goes to: a literal route wins over a parameterised one, as on API Gateway. */
export function matchRoute(functions: readonly MountedFunction[], method: string, rawPath: string): RouteMatch | undefined {
  const candidates = functions.flatMap((mounted) => mounted.fn.trigger.routes.map((route) => ({ mounted, route })));
  const ordered = [...candidates].sort((a, b) => Number(a.route.path.includes('{')) - Number(b.route.path.includes('{')));
  for (const { mounted, route } of ordered) {
    if (route.method !== method) continue;
    const { pattern, names } = routePattern(route.path);
    const match = pattern.exec(rawPath);
    if (!match) continue;
    let pathParameters: Record<string, string>;
    try {
      pathParameters = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    } catch {
      continue;
    }
    return { mounted, route, pathParameters };
  }
  return undefined;
}

/** Headers as API Gateway passes them: lower-case names, repeated values joined with commas. */
function eventHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml)|text\/)/i;

export function apiGatewayEvent(request: IncomingMessage, body: Buffer, match: RouteMatch, now = new Date()): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', `http://${LOCAL_HOST}`);
  const headers = eventHeaders(request);
  const query = [...url.searchParams.keys()];
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  const routeKey = `${match.route.method} ${match.route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(query.length > 0 && {
      queryStringParameters: Object.fromEntries(query.map((name) => [name, url.searchParams.getAll(name).join(',')])),
    }),
    ...(Object.keys(match.pathParameters).length > 0 && { pathParameters: match.pathParameters }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? LOCAL_HOST,
      domainPrefix: 'local',
      http: {
        method: match.route.method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? LOCAL_HOST,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: isText ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: !isText,
  };
}

/** API Gateway's reading of a handler's result: a string or object without statusCode is a 200 JSON body. */
export function normaliseResult(result: APIGatewayProxyResultV2): APIGatewayProxyStructuredResultV2 {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) return result;
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
}

const MAX_BODY_BYTES = 10 * 1024 * 1024; // API Gateway's payload limit

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2, cors: Record<string, string> = {}): void {
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>), ...cors };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  response.writeHead(result.statusCode ?? 200, { ...headers, 'content-length': String(body.length) });
  response.end(body);
}

/** The console's files: never cached, so a rebuilt console is what the next reload gets. */
function sendAsset(response: ServerResponse, asset: StaticAsset): void {
  response.writeHead(200, {
    'content-type': asset.contentType,
    'content-length': String(asset.body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  response.end(asset.body);
}

const gatewayError = (statusCode: number, message: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message }),
});

export interface LocalHttpApi {
  server: Server;
  endpoint: string;
  close(): Promise<void>;
}

export interface LocalHttpApiOptions {
  port: number;
  functions: readonly MountedFunction[];
  region: string;
  /** Origins a browser may call from (pipeline.config.json `api.cors`), answered as API Gateway's CORS configuration does. */
  allowedOrigins: readonly string[];
  /** Static files served for a GET no route matches (the web console), by path (`/` included). */
  assets?: ReadonlyMap<string, StaticAsset>;
  log?: (line: string) => void;
}

/** API Gateway's CORS answer for an allowed origin: the preflight, and the header on every response. */
export function corsHeaders(origin: string | undefined, allowedOrigins: readonly string[]): Record<string, string> {
  if (!origin || !(allowedOrigins.includes(origin) || allowedOrigins.includes('*'))) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET,POST,DELETE,OPTIONS',
    'access-control-allow-headers': 'content-type,authorization',
    'access-control-max-age': '600',
    vary: 'origin',
  };
}

export async function startLocalHttpApi(options: LocalHttpApiOptions): Promise<LocalHttpApi> {
  const { functions, region, log } = options;
  const server = createServer(async (request, response) => {
    const cors = corsHeaders(request.headers.origin, options.allowedOrigins);
    try {
      if (request.method === 'OPTIONS') return send(response, { statusCode: cors['access-control-allow-origin'] ? 204 : 404 }, cors);
      const rawPath = new URL(request.url ?? '/', `http://${LOCAL_HOST}`).pathname;
      const match = matchRoute(functions, request.method ?? 'GET', rawPath);
      const asset = !match && request.method === 'GET' ? options.assets?.get(rawPath) : undefined;
      if (asset) return sendAsset(response, asset);
      if (!match) return send(response, gatewayError(404, 'Not Found'), cors);
      const body = await readBody(request);
      if (!body) return send(response, gatewayError(413, 'Request Entity Too Large'), cors);
      const { fn, handler } = match.mounted;
      const context = lambdaContext({
        functionName: fn.name,
        region,
        timeoutSeconds: fn.settings.timeoutSeconds,
        memoryMb: fn.settings.memoryMb,
      });
      send(response, normaliseResult(await handler(apiGatewayEvent(request, body, match), context)), cors);
    } catch (error) {
      // What API Gateway answers when the integration fails; the handler's own errors never get here.
      log?.(`HTTP API: ${request.method} ${request.url}: ${(error as Error).message}`);
      if (!response.headersSent) send(response, gatewayError(500, 'Internal Server Error'), cors);
    }
  });
  server.listen(options.port, LOCAL_HOST);
  await once(server, 'listening');
  return {
    server,
    endpoint: `http://${LOCAL_HOST}:${options.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
