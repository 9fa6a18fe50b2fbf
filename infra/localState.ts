import { readFileSync } from 'node:fs';

/**
 * The ports of a running local stack. `npm start` writes `<local.stateDir>/state.json`; when it
 * is there, the `local` stage points the functions at the ports that stack really listens on
 * (`S3_PORT=4669 SQS_PORT=9424 npm start`), else at pipeline.config.json's defaults.
 */
export interface LocalPorts {
  s3Port: number;
  sqsPort: number;
}

const isPort = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;

/**
 * Reads the ports from a state file, each falling back to its default when the file is missing,
 * unreadable, not JSON, or the value is not a port. Never throws and never prints: a stale or
 * half-written file must not break `serverless invoke local`.
 */
export function readLocalPorts(stateFile: string, defaults: LocalPorts): LocalPorts {
  let state: unknown;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return { ...defaults };
  }
  const fields = state !== null && typeof state === 'object' ? (state as Record<string, unknown>) : {};
  return {
    s3Port: isPort(fields.s3Port) ? fields.s3Port : defaults.s3Port,
    sqsPort: isPort(fields.sqsPort) ? fields.sqsPort : defaults.sqsPort,
  };
}

export const LOCAL_HOST = '127.0.0.1';

export function localEndpoints(ports: LocalPorts) {
  return { s3: `http://${LOCAL_HOST}:${ports.s3Port}`, sqs: `http://${LOCAL_HOST}:${ports.sqsPort}` };
}

export const localQueueUrl = (ports: LocalPorts, accountId: string, queue: string) => `${localEndpoints(ports).sqs}/${accountId}/${queue}`;
