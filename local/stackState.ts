import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { declaredConfig } from '../shared/config';

/**
 * What a running `npm start` works with, written to `<state dir>/state.json` so that the CLI and
 * `serverless invoke local -s local` find the stack by themselves, whatever ports and settings it
 * was started with.
 */
export interface StackState {
  pid: number;
  startedAt: string;
  s3Port: number;
  sqsPort: number;
  dynamodbPort: number;
  apiPort: number;
  s3Endpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  apiEndpoint: string;
  region: string;
  buckets: { uploads: string; thumbnails: string; models: string };
  tables: { catalogue: string };
  /** Queue URLs by key (see localQueueUrls). */
  queues: Record<string, string>;
  /** The pipeline settings of the handlers that differ from pipeline.config.json (THUMBNAIL_SIZES, MODEL_URI...). */
  env: Record<string, string>;
}

export const STATE_FILE = 'state.json';

/** `PIPELINE_STATE_DIR`, else pipeline.config.json's `local.stateDir`, from the working directory. */
export const stateDirectory = (env: Record<string, string | undefined> = process.env, from = process.cwd()) =>
  path.resolve(from, env.PIPELINE_STATE_DIR || declaredConfig.local.stateDir);

const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;

/** Written to a temporary file and renamed, so a reader never sees half a file, even after a crash. */
export function writeStackState(stateDir: string, state: StackState): void {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, STATE_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, file);
}

/**
 * The state of the last stack started from this directory, or undefined when there is none. Never
 * throws and never prints: a stale, half-written or hand-edited file must not break a command; it
 * is as if there were none.
 */
export function readStackState(stateDir: string): StackState | undefined {
  let state: Partial<StackState> | null;
  try {
    state = JSON.parse(readFileSync(path.join(stateDir, STATE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const valid =
    typeof state === 'object' &&
    state !== null &&
    isPort(state.s3Port) &&
    isPort(state.sqsPort) &&
    // Absent from the state of a stack started before they existed; wrong, the file is not trusted.
    (state.dynamodbPort === undefined || isPort(state.dynamodbPort)) &&
    (state.apiPort === undefined || isPort(state.apiPort)) &&
    typeof state.env === 'object' &&
    state.env !== null;
  return valid ? (state as StackState) : undefined;
}

export function removeStackState(stateDir: string): void {
  rmSync(path.join(stateDir, STATE_FILE), { force: true });
}
