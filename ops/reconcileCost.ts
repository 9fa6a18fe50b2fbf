import { type Arch, PRICES, type Prices } from './prices';

/**
 * What one full pass of the scheduled reconciler over a bucket costs, from the price table. Pure.
 * Per pass of N uploads: LIST requests = N / 1000 for the uploads plus one per output folder per
 * page (sizes + predictions/); at most one HEAD per upload and family (only markers of families
 * whose outputs are all listed are HEADed: the bound is counted); N / maxObjectsPerRun runs, each
 * an SSM GetParameter and PutParameter (Standard tier: no charge) and Lambda time of
 * `fixedMsPerRun` + N x `msPerObject`; two GetQueueAttributes per page. Repairs and DLQ reads are
 * not counted (they scale with what is broken, not with the bucket).
 */
export interface ReconcileCostInputs {
  objects: number;
  maxObjectsPerRun: number;
  pageSize: number;
  outputFolders: number;
  families: number;
  queues: number;
  memoryMb: number;
  rateMinutes: number;
  msPerObject: number;
  fixedMsPerRun: number;
  arch: Arch;
}

export interface ReconcileCost {
  objects: number;
  runsPerPass: number;
  hoursPerPass: number;
  lists: number;
  heads: number;
  sqsRequests: number;
  ssmCalls: number;
  gbSeconds: number;
  usd: { s3: number; sqs: number; ssm: number; lambda: number; total: number };
  usdPerRun: number;
}

export function reconcileCost(inputs: ReconcileCostInputs, prices: Prices = PRICES): ReconcileCost {
  const { objects } = inputs;
  const runsPerPass = Math.max(1, Math.ceil(objects / inputs.maxObjectsPerRun));
  const pages = Math.max(1, Math.ceil(objects / inputs.pageSize));
  const lists = pages * (1 + inputs.outputFolders);
  const heads = objects * inputs.families;
  const sqsRequests = pages * inputs.queues;
  const ssmCalls = 2 * runsPerPass;
  const seconds = (runsPerPass * inputs.fixedMsPerRun + objects * inputs.msPerObject) / 1000;
  const gbSeconds = seconds * (inputs.memoryMb / 1024);
  const s3 = (lists / 1000) * prices.s3.putPerThousand + (heads / 1000) * prices.s3.getPerThousand;
  const sqs = (sqsRequests / 1e6) * prices.sqs.requestsPerMillion;
  const ssm = (ssmCalls / 10_000) * prices.ssm.standardApiPerTenThousand;
  const lambda = gbSeconds * prices.lambda.gbSecond[inputs.arch] + (runsPerPass / 1e6) * prices.lambda.requestsPerMillion;
  const total = s3 + sqs + ssm + lambda;
  return {
    objects,
    runsPerPass,
    hoursPerPass: (runsPerPass * inputs.rateMinutes) / 60,
    lists,
    heads,
    sqsRequests,
    ssmCalls,
    gbSeconds,
    usd: { s3, sqs, ssm, lambda, total },
    usdPerRun: total / runsPerPass,
  };
}
