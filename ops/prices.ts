/**
 * AWS list prices used by every cost figure the project prints: the ONE place they are written.
 *
 * Region us-east-1, USD, as of 2025-01, from the published pricing pages
 * (aws.amazon.com/lambda/pricing, /s3/pricing, /sqs/pricing, /sns/pricing, /rekognition/pricing). Check them against the
 * pages before quoting a bill, and update `asOf` with any change.
 */
export const PRICES = {
  region: 'us-east-1',
  currency: 'USD',
  asOf: '2025-01',
  source: 'the AWS pricing pages as of 2025-01; check them before quoting a bill',
  lambda: {
    /** Per million invocations. */
    requestsPerMillion: 0.2,
    /** Per GB-second of duration, first pricing tier (x86_64: first 6 billion GB-s a month; arm64: first 7.5 billion). */
    gbSecond: { x86_64: 0.0000166667, arm64: 0.0000133334 },
    /** Monthly free tier, shared by every function of the account and both architectures. */
    freeTier: { requests: 1_000_000, gbSeconds: 400_000 },
  },
  s3: {
    /** S3 Standard, per 1,000 requests: PUT, COPY, POST, LIST. */
    putPerThousand: 0.005,
    /** S3 Standard, per 1,000 requests: GET, SELECT and all other requests (HEAD included). */
    getPerThousand: 0.0004,
  },
  sqs: {
    /** Standard queue, per million requests (each 64 KB chunk of a payload is one request). */
    requestsPerMillion: 0.4,
    freeTierRequests: 1_000_000,
  },
  sns: {
    /** Standard topic, per million publishes (S3 event notifications to the topic). */
    publishesPerMillion: 0.5,
    freeTierPublishes: 1_000_000,
    /** Deliveries from SNS to SQS queues are free. */
    sqsDeliveriesPerMillion: 0,
  },
  ssm: {
    /** Parameter Store, Standard parameters at standard throughput: API calls are free (higher throughput is $0.05 per 10,000). */
    standardApiPerTenThousand: 0,
  },
  /** What moderating at ingest is compared with: Rekognition Image DetectModerationLabels (a "Group 2" API), per image, tiered by monthly volume. */
  rekognitionModeration: {
    tiers: [
      { upToImages: 1_000_000, perImage: 0.001 },
      { upToImages: 5_000_000, perImage: 0.0008 },
      { upToImages: 35_000_000, perImage: 0.0006 },
      { upToImages: Number.POSITIVE_INFINITY, perImage: 0.00025 },
    ],
  },
} as const;

export type Prices = typeof PRICES;
export type Arch = keyof Prices['lambda']['gbSecond'];
export const ARCHS: readonly Arch[] = ['arm64', 'x86_64'];
