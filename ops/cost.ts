import { type Arch, PRICES, type Prices } from './prices';

/**
 * Monthly AWS cost of the pipeline's per-image work, from a measured time per image and the price
 * table (prices.ts). Pure: no I/O, no clock. What is counted, per image:
 *   - Lambda: invocations (one per `imagesPerInvocation` images) and GB-seconds;
 *   - S3 requests of each path (resize: GET + HEAD + one PUT per size; predict: GET + HEAD + PUT);
 *   - SQS requests of each path: the SNS delivery (a send), and one receive and one batch delete per invocation;
 *   - SNS: the one publish per upload that feeds both queues (the fan-out line).
 * Not counted: storage, data transfer, CloudWatch Logs and metrics, X-Ray traces, KMS, the event
 * source mapping's empty polls (a fixed monthly amount, not per image), retries and DLQ traffic.
 */

/** Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion to memory below that (AWS documentation). */
const FULL_VCPU_MB = 1769;

export interface PathProfile {
  name: string;
  /** Time one image takes on one full core (what the benchmark measures), ms. */
  msPerImage: number;
  memoryMb: number;
  s3: { gets: number; heads: number; puts: number };
}

export interface CostInputs {
  imagesPerMonth: number;
  arch: Arch;
  freeTier: boolean;
  /** Images per Lambda invocation (SQS batch); 1 = every upload on its own, the costliest case. */
  imagesPerInvocation: number;
  paths: PathProfile[];
}

interface PathCost {
  name: string;
  memoryMb: number;
  msPerImageMeasured: number;
  /** The measured time stretched to the CPU share the memory size gives: msPerImage x max(1, 1769 / memoryMb). */
  msPerImageBilled: number;
  invocations: number;
  gbSeconds: number;
  s3Gets: number;
  s3Puts: number;
  sqsRequests: number;
  usd: { lambdaRequests: number; lambdaDuration: number; s3: number; sqs: number; freeTier: number; total: number };
  usdPerMillionImages: number;
}

export interface CostReport {
  inputs: CostInputs;
  prices: { region: string; asOf: string; source: string };
  paths: PathCost[];
  fanout: { snsPublishes: number; usd: { sns: number; freeTier: number; total: number } };
  totalUsd: number;
  totalUsdPerMillionImages: number;
}

export const cpuStretch = (memoryMb: number): number => Math.max(1, FULL_VCPU_MB / memoryMb);

export function computeCost(inputs: CostInputs, prices: Prices = PRICES): CostReport {
  const { imagesPerMonth: images, arch, imagesPerInvocation } = inputs;
  if (!(images >= 0) || !(imagesPerInvocation >= 1)) throw new RangeError('imagesPerMonth must be >= 0 and imagesPerInvocation >= 1');

  const perPath = inputs.paths.map((profile) => {
    const msPerImageBilled = profile.msPerImage * cpuStretch(profile.memoryMb);
    const invocations = images / imagesPerInvocation;
    const gbSeconds = images * (profile.memoryMb / 1024) * (msPerImageBilled / 1000);
    const s3Gets = images * (profile.s3.gets + profile.s3.heads);
    const s3Puts = images * profile.s3.puts;
    const sqsRequests = images + 2 * invocations;
    return {
      profile,
      msPerImageBilled,
      invocations,
      gbSeconds,
      s3Gets,
      s3Puts,
      sqsRequests,
      lambdaRequests: (invocations / 1e6) * prices.lambda.requestsPerMillion,
      lambdaDuration: gbSeconds * prices.lambda.gbSecond[arch],
      s3: (s3Gets / 1000) * prices.s3.getPerThousand + (s3Puts / 1000) * prices.s3.putPerThousand,
      sqs: (sqsRequests / 1e6) * prices.sqs.requestsPerMillion,
    };
  });

  // The free tier belongs to the account, not to a function: it is taken off the totals of each
  // resource and shared between the paths in proportion to their use.
  const share = (used: number, total: number, freeAmount: number, value: number) =>
    inputs.freeTier && total > 0 ? Math.min(total, freeAmount) * (used / total) * value : 0;
  const totalInvocations = perPath.reduce((sum, p) => sum + p.invocations, 0);
  const totalGbSeconds = perPath.reduce((sum, p) => sum + p.gbSeconds, 0);
  const totalSqs = perPath.reduce((sum, p) => sum + p.sqsRequests, 0);

  const paths: PathCost[] = perPath.map((p) => {
    const freeTier =
      share(p.invocations, totalInvocations, prices.lambda.freeTier.requests, prices.lambda.requestsPerMillion / 1e6) +
      share(p.gbSeconds, totalGbSeconds, prices.lambda.freeTier.gbSeconds, prices.lambda.gbSecond[arch]) +
      share(p.sqsRequests, totalSqs, prices.sqs.freeTierRequests, prices.sqs.requestsPerMillion / 1e6);
    const total = p.lambdaRequests + p.lambdaDuration + p.s3 + p.sqs - freeTier;
    return {
      name: p.profile.name,
      memoryMb: p.profile.memoryMb,
      msPerImageMeasured: p.profile.msPerImage,
      msPerImageBilled: p.msPerImageBilled,
      invocations: p.invocations,
      gbSeconds: p.gbSeconds,
      s3Gets: p.s3Gets,
      s3Puts: p.s3Puts,
      sqsRequests: p.sqsRequests,
      usd: { lambdaRequests: p.lambdaRequests, lambdaDuration: p.lambdaDuration, s3: p.s3, sqs: p.sqs, freeTier, total },
      usdPerMillionImages: images > 0 ? (total / images) * 1e6 : 0,
    };
  });

  const snsPublishes = images;
  const sns = (snsPublishes / 1e6) * prices.sns.publishesPerMillion;
  const snsFree = inputs.freeTier ? (Math.min(snsPublishes, prices.sns.freeTierPublishes) / 1e6) * prices.sns.publishesPerMillion : 0;
  const fanoutTotal = sns - snsFree;
  const totalUsd = paths.reduce((sum, p) => sum + p.usd.total, 0) + fanoutTotal;
  return {
    inputs,
    prices: { region: prices.region, asOf: prices.asOf, source: prices.source },
    paths,
    fanout: { snsPublishes, usd: { sns, freeTier: snsFree, total: fanoutTotal } },
    totalUsd,
    totalUsdPerMillionImages: images > 0 ? (totalUsd / images) * 1e6 : 0,
  };
}

/** Rekognition DetectModerationLabels for a month's images, tier by tier: the managed alternative to moderating in the predict path. */
export function rekognitionModerationUsd(images: number, prices: Prices = PRICES): number {
  let usd = 0;
  let from = 0;
  for (const tier of prices.rekognitionModeration.tiers) {
    const inTier = Math.max(0, Math.min(images, tier.upToImages) - from);
    usd += inTier * tier.perImage;
    from = tier.upToImages;
    if (images <= from) break;
  }
  return usd;
}
