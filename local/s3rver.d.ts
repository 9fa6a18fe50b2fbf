declare module 's3rver' {
  import { EventEmitter } from 'node:events';
  import type { IncomingMessage, Server } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
  }
  /** The S3 notification s3rver emits in-process for Put, Post, Copy and Delete; keys are NOT URL-encoded. */
  export interface S3rverEvent {
    Records: {
      eventName: string;
      eventTime: string;
      s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
    }[];
  }
  /** The part of Koa's request context (s3rver is a Koa app) that the local stack's own middleware uses. */
  export interface S3rverContext {
    req: IncomingMessage;
    request: { req: IncomingMessage };
    response: { req: IncomingMessage };
    method: string;
    /** Koa's `path` is the URL's pathname, not decoded; `hostname` is the Host header's name. */
    path: string;
    hostname: string;
    status: number;
    body: unknown;
    type: string;
    set(field: string, value: string): void;
  }
  export type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;
  export default class S3rver extends EventEmitter {
    /** Koa's middleware stack, composed when run() starts the server: add to it before that. */
    middleware: S3rverMiddleware[];
    /** Set by run(). */
    httpServer?: Server;
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    on(event: 'event', listener: (event: S3rverEvent) => void): this;
  }
}
