import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An HTTP proxy in front of the embedded S3 that misbehaves on demand: it answers S3 errors
 * (500 InternalError, 503 ServiceUnavailable, 503 SlowDown), drops connections without an answer,
 * or holds requests unanswered (a stalled S3), for N requests or until switched off, optionally only
 * for some methods and paths. Everything else is forwarded untouched, Host header included, so the
 * SDK's signatures still verify at s3rver.
 *
 * Point a handler at it with `AWS_ENDPOINT_URL_S3: proxy.url`; the upstream can be set later
 * (`proxy.target = ...`), for a stack whose ports are chosen when it starts.
 */

export type FaultName = 'internal-error' | 'service-unavailable' | 'slow-down' | 'drop' | 'stall';

export interface FaultRule {
  fault: FaultName;
  /** How many matching requests get the fault; then the rule is spent. Default: until removed. */
  times?: number;
  /** Only these HTTP methods (e.g. 'GET', ['PUT', 'HEAD']). */
  method?: string | string[];
  /** Only paths (percent-decoded, e.g. `/thumbnails/1024/a.jpg.webp`) matching this; a string matches as a prefix. */
  path?: string | RegExp;
}

export interface FaultHandle {
  /** Requests this rule has answered with its fault so far. */
  readonly hits: number;
  remove(): void;
}

export interface ProxiedRequest {
  method: string;
  /** Percent-decoded path, without the query string. */
  path: string;
  query: string;
  /** The fault it got, or 'pass' when it was forwarded. */
  outcome: FaultName | 'pass';
}

export interface FaultProxy {
  url: string;
  /** Upstream base URL (`http://127.0.0.1:port`). */
  target: string | undefined;
  inject(rule: FaultRule): FaultHandle;
  /** Removes every rule; stalled requests stay held until release() or close(). */
  clear(): void;
  /** Every request seen, in arrival order. */
  readonly requests: ProxiedRequest[];
  /** Requests being held by a `stall` fault right now. */
  readonly stalled: number;
  /** Forwards every held request upstream, as if S3 had woken up. */
  release(): void;
  close(): Promise<void>;
}

const S3_ERRORS: Record<Exclude<FaultName, 'drop' | 'stall'>, { status: number; code: string; message: string }> = {
  'internal-error': { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  'service-unavailable': { status: 503, code: 'ServiceUnavailable', message: 'Service is unable to handle request.' },
  'slow-down': { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
};

interface ActiveRule extends FaultRule {
  hits: number;
}

function decodedPath(url: string): { path: string; query: string } {
  const [rawPath, query = ''] = url.split('?', 2);
  try {
    return { path: decodeURIComponent(rawPath), query };
  } catch {
    return { path: rawPath, query };
  }
}

const matches = (rule: ActiveRule, method: string, path: string) => {
  if (rule.times !== undefined && rule.hits >= rule.times) return false;
  if (rule.method !== undefined && ![rule.method].flat().some((m) => m.toUpperCase() === method)) return false;
  if (rule.path instanceof RegExp) return rule.path.test(path);
  if (typeof rule.path === 'string') return path.startsWith(rule.path);
  return true;
};

export async function startFaultProxy(target?: string): Promise<FaultProxy> {
  const rules: ActiveRule[] = [];
  const requests: ProxiedRequest[] = [];
  const held = new Set<() => void>();
  const sockets = new Set<Socket>();
  const agent = new Agent({ keepAlive: true });
  let upstream = target;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    if (!upstream) {
      req.socket.destroy();
      return;
    }
    const base = new URL(upstream);
    const outgoing = httpRequest(
      { agent, host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // Upstream gone: the client sees what it would see from a dead S3, a reset connection.
    outgoing.on('error', () => req.socket.destroy());
    req.pipe(outgoing);
  };

  const answerError = (req: IncomingMessage, res: ServerResponse, fault: keyof typeof S3_ERRORS, path: string) => {
    const { status, code, message } = S3_ERRORS[fault];
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const body =
      req.method === 'HEAD'
        ? ''
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Resource>${path.replace(/[<&>]/g, '')}</Resource><RequestId>${requestId}</RequestId></Error>`;
    req.resume(); // discard any upload body
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': requestId });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const { path, query } = decodedPath(req.url ?? '/');
    const rule = rules.find((candidate) => matches(candidate, method, path));
    const entry: ProxiedRequest = { method, path, query, outcome: rule?.fault ?? 'pass' };
    requests.push(entry);
    if (!rule) return forward(req, res);
    rule.hits += 1;
    switch (rule.fault) {
      case 'drop':
        req.socket.destroy();
        return;
      case 'stall': {
        const release = () => {
          held.delete(release);
          if (!req.socket.destroyed) forward(req, res);
        };
        held.add(release);
        // The client gave up (or its process died): nothing left to hold.
        req.socket.once('close', () => held.delete(release));
        return;
      }
      default:
        answerError(req, res, rule.fault, path);
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    get target() {
      return upstream;
    },
    set target(value) {
      upstream = value;
    },
    inject(rule) {
      const active: ActiveRule = { ...rule, hits: 0 };
      rules.push(active);
      return {
        get hits() {
          return active.hits;
        },
        remove() {
          const index = rules.indexOf(active);
          if (index >= 0) rules.splice(index, 1);
        },
      };
    },
    clear() {
      rules.splice(0);
    },
    requests,
    get stalled() {
      return held.size;
    },
    release() {
      [...held].forEach((release) => release());
    },
    async close() {
      rules.splice(0);
      held.clear();
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
