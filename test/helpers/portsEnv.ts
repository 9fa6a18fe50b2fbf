import type { LocalPorts } from '../../local/endpoints';
import { freePort } from '../../local/servers';

/** A stack's ports as the variables the CLI reads (S3_PORT, SQS_PORT, DYNAMODB_PORT, API_PORT). */
export const portsEnv = (ports: LocalPorts): Record<string, string> => ({
  S3_PORT: String(ports.s3Port),
  SQS_PORT: String(ports.sqsPort),
  DYNAMODB_PORT: String(ports.dynamodbPort),
  API_PORT: String(ports.apiPort),
});

/** Ports where nothing listens, so a `pipeline start` of a test never meets a running `npm start`. */
export async function freePortsEnv(): Promise<Record<string, string>> {
  return portsEnv({ s3Port: await freePort(), sqsPort: await freePort(), dynamodbPort: await freePort(), apiPort: await freePort() });
}
