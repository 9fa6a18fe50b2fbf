/**
 * How every `pipeline` command reports a failure: one line, `pipeline <command>: <what>: <why>`,
 * and the stack trace only with DEBUG=1. No imports beyond Node's own, so bin/pipeline.js can use
 * it even when loading the rest of the CLI fails (an invalid pipeline.config.json, say).
 */

/** The exit codes; they mean the same for every command (help.ts lists which commands use 2). */
export const EXIT = {
  ok: 0,
  /** A failure found (audit: something missing; replay: a record failed) or the operation failed. */
  failed: 1,
  /** resize / predict: the pipeline rejects the image (a permanent failure). */
  rejected: 2,
  /** audit: the audit could not run (the same 2: each command documents its own meaning). */
  couldNotRun: 2,
  /** EX_USAGE: a mistake on the command line. */
  usage: 64,
} as const;

type Env = Record<string, string | undefined>;

/** DEBUG=1 (or true, yes, *, or a list naming `pipeline`) also prints stack traces. */
export function isDebug(env: Env = process.env): boolean {
  const value = (env.DEBUG ?? '').trim().toLowerCase();
  return ['1', 'true', 'yes', '*'].includes(value) || value.split(/[\s,]+/).some((part) => part === 'pipeline' || part === 'pipeline:*');
}

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
  errors?: unknown[];
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

/** What the usual system error codes mean, for errors whose message is only `connect ECONNREFUSED host:port`. */
const CODE_MEANINGS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
};

/** Error-like: `instanceof Error` fails for errors made in another realm (a VM context, Jest's sandbox). */
const asError = (error: unknown): SystemError | undefined =>
  typeof error === 'object' && error !== null && typeof (error as Error).message === 'string' ? (error as SystemError) : undefined;
const oneLine = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');

/** The errors a failure is made of: itself, an AggregateError's members, its causes. */
function* chain(error: unknown, depth = 0): Generator<SystemError> {
  const e = asError(error);
  if (!e || depth > 5) return;
  yield e;
  for (const inner of Array.isArray(e.errors) ? e.errors : []) yield* chain(inner, depth + 1);
  if (e.cause !== undefined) yield* chain(e.cause, depth + 1);
}

/** A refused (or otherwise failed) connection somewhere in the error; returns the error that says so. */
export function connectionFailure(error: unknown): SystemError | undefined {
  for (const e of chain(error)) {
    if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH'].includes(e.code)) return e;
    if (/\bECONNREFUSED\b/.test(e.message)) return e;
  }
  return undefined;
}

/** The hint for a refused connection to this machine: the local stack is not running. */
export const LOCAL_STACK_HINT = 'cannot reach the local stack: is it running? start it with `npm start`';

function isLoopback(error: SystemError): boolean {
  const address = error.address ?? /\b(?:ECONNREFUSED|ECONNRESET)\s+([^\s]+)/.exec(error.message)?.[1] ?? '';
  return /^(127\.|::1|\[::1\]|localhost)/.test(address);
}

/**
 * The reason of a failure, without the file it concerns: `no such file or directory (ENOENT)` for
 * a system error, else the error's message on one line (with its name where that says more).
 */
export function errorReason(error: unknown): string {
  const e = asError(error);
  if (!e) return oneLine(String(error)) || 'unknown error';
  if (e.code && /^E[A-Z0-9_]+$/.test(e.code) && (e.syscall || CODE_MEANINGS[e.code])) {
    // Node's message: "ENOENT: no such file or directory, open '/x'" or "connect ECONNREFUSED 127.0.0.1:1".
    const meaning = /^[A-Z0-9_]+: (.+?)(?:, \w+(?: '.*')?)?$/.exec(e.message)?.[1] ?? CODE_MEANINGS[e.code] ?? oneLine(e.message);
    return `${meaning} (${e.code})`;
  }
  const message = oneLine(e.message ?? '');
  if (!message) {
    const members = [...chain(e)].slice(1).map((inner) => errorReason(inner));
    if (members.length > 0) return [...new Set(members)].join('; ');
    return e.$metadata?.httpStatusCode ? `${e.name} (HTTP ${e.$metadata.httpStatusCode})` : e.name || 'unknown error';
  }
  // A bug (TypeError...) says so; an AWS service error names its code (NoSuchBucket, AccessDenied...).
  if (['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError'].includes(e.name)) return `${e.name}: ${message}`;
  if (e.$metadata && e.name && e.name !== 'Error' && !message.includes(e.name)) return `${message} (${e.name})`;
  return message;
}

/**
 * One line for a failure: the file or address it concerns, then the reason. A refused connection
 * to this machine adds that the local stack is not running.
 */
export function describeError(error: unknown): string {
  const e = asError(error);
  if (!e) return errorReason(error);
  const refused = connectionFailure(e);
  if (refused?.code && refused.syscall === 'connect') {
    const where = refused.address ? `${refused.address}${refused.port ? `:${refused.port}` : ''}` : 'the server';
    if (isLoopback(refused))
      return `cannot reach the local stack at ${where}: ${errorReason(refused)}; is it running? start it with \`npm start\``;
    return `cannot connect to ${where}: ${errorReason(refused)}`;
  }
  const reason = errorReason(e);
  if (e.path && e.code) return `${e.path}${e.dest ? ` -> ${e.dest}` : ''}: ${reason}`;
  if (e.address && e.code) return `${e.syscall ? `${e.syscall} ` : ''}${e.address}${e.port ? `:${e.port}` : ''}: ${reason}`;
  if (refused && isLoopback(refused)) return `${reason} (${LOCAL_STACK_HINT})`;
  return reason;
}

/** The stack trace (with its causes), for DEBUG=1. */
function stackOf(error: unknown): string {
  const lines: string[] = [];
  for (const e of chain(error)) lines.push(e.stack ?? `${e.name}: ${e.message}`);
  return lines.length > 0 ? lines.join('\nCaused by: ') : String(error);
}

interface ErrOutput {
  err(line: string): void;
}

/**
 * Prints `pipeline <command>: [<what>: ]<why>` on one line, and with DEBUG=1 the stack trace after it.
 * `what` names the thing that failed (`cannot read photo.jpg`); without it the error's own line is enough.
 */
export function reportFailure(output: ErrOutput, command: string | undefined, error: unknown, what?: string, env: Env = process.env): void {
  // The reason alone when `what` already names the file; the file or address too when it does not.
  const e = asError(error);
  const named = what !== undefined && !connectionFailure(error) && (!e?.path || what.includes(e.path));
  const why = named ? errorReason(error) : describeError(error);
  output.err(`pipeline${command ? ` ${command}` : ''}: ${what ? `${what}: ` : ''}${why}`);
  debugStack(output, error, env);
}

/** With DEBUG=1, the stack trace after a failure's line. */
export function debugStack(output: ErrOutput, error: unknown, env: Env = process.env): void {
  if (isDebug(env)) output.err(stackOf(error));
}
