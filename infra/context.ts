import type { BucketRole } from '../functions/registry';
import type { LocalPorts } from '../local/endpoints';

/** What the generators need besides the registry: the parts of pipeline.config.json they use and the resolved stage settings. */

export interface InfraConfig {
  queues: { maxReceiveCount: number; visibilityTimeoutSeconds: number; dlqRetentionSeconds: number };
  alarms: { oldestMessageAgeSeconds: number };
  api: {
    cors: { allowedOrigins: string[] };
    throttling: { rateLimit: number; burstLimit: number };
    admin: { scope: string; group: string };
  };
  local: { accountId: string; buckets: Record<BucketRole, string>; tables: { catalogue: string }; queues: { deliveryDlq: string } };
}

export interface StackContext {
  service: string;
  stage: string;
  /** `${param:logLevel}`. */
  logLevel: string;
  /** `${param:modelUriParameter}`: the SSM parameter naming predict's model ('' locally). */
  modelUriParameter: string;
  /** POWERTOOLS_TRACE_ENABLED of the stage (`${param:stageEnvironment}`). */
  traceEnabled: string;
  /** `${param:jwtIssuerUrl}`: the HTTP API's token issuer; '' for the stack's own Cognito user pool. */
  jwtIssuerUrl: string;
  /** `${param:jwtAudience}`: the audiences (client ids) the issuer's tokens must carry, comma-separated. */
  jwtAudience: string;
  /**
   * Browser origins allowed to call the API, POST uploads and fetch thumbnails: `${param:corsOrigins}`
   * (comma-separated; none by default on AWS), pipeline.config.json's `api.cors` on the local stage.
   */
  corsOrigins: string[];
  /** Where the local stack listens; used by the `local` stage only. */
  localPorts: LocalPorts;
}

/**
 * The stage that runs against the embedded S3/SQS of `npm start`: literal names and URLs only,
 * since `serverless invoke local` would ask CloudFormation for any `Ref`.
 */
const LOCAL_STAGE = 'local';

export const isLocal = (context: StackContext) => context.stage === LOCAL_STAGE;
