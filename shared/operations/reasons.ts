import type { PermanentReason, TransientReason } from '../errors';

/**
 * Every reason code a DLQ message can carry, what it means and what an operator does about it:
 * the codes the functions write (shared/errors.ts; typed so a new code cannot be added without
 * an entry here) plus the two the DLQ tools derive for messages that arrive without our attributes.
 */
export interface ReasonInfo {
  failureClass: 'permanent' | 'transient' | 'unknown';
  meaning: string;
  action: string;
}

const PERMANENT: Record<PermanentReason, ReasonInfo> = {
  'not-an-image': {
    failureClass: 'permanent',
    meaning: 'the bytes are no image format at all (text, HTML, empty file), whatever the name or Content-Type says',
    action: 'delete the upload or replace it with a real image; redriving the same bytes fails the same way',
  },
  'unsupported-format': {
    failureClass: 'permanent',
    meaning:
      'a real file of a format the pipeline refuses (SVG, PDF, HEIC/HEIF, BMP, ICO, ...): only JPEG, PNG, WebP, GIF, TIFF and AVIF are decoded',
    action: 'convert it to one of those formats and upload it again',
  },
  'too-many-pixels': {
    failureClass: 'permanent',
    meaning:
      'too big to decode safely, judged from the header before decoding: over limits.maxInputPixels, an edge over 65,535 px, or a decoded size over the pixel limit x 4 bytes (decompression bombs, 16-bit/float images)',
    action: 'downscale before uploading, or raise MAX_INPUT_PIXELS (and memory) deliberately, then redrive',
  },
  'too-many-frames': {
    failureClass: 'permanent',
    meaning: 'an animation or multi-page file with more frames/pages than limits.maxFrames',
    action: 'upload a still image, or raise MAX_FRAMES deliberately, then redrive',
  },
  'too-large': {
    failureClass: 'permanent',
    meaning: 'the object is over limits.maxInputBytes',
    action: 'compress or downscale it and upload again, or raise MAX_INPUT_BYTES deliberately, then redrive',
  },
  corrupt: {
    failureClass: 'permanent',
    meaning: 'it claims to be an image but cannot be decoded (truncated, broken header or data)',
    action: 're-export or re-upload the original; redriving the same bytes fails the same way',
  },
  recursion: {
    failureClass: 'permanent',
    meaning: 'the event named an object in the output bucket: a misconfigured notification would loop',
    action: 'fix the bucket notification / SNS subscription so only the uploads bucket feeds the queues, then delete these messages',
  },
  'key-too-long': {
    failureClass: 'permanent',
    meaning: "the upload's key is so long that an output key (size prefix, format suffix) would pass S3's 1,024-byte limit",
    action: 'upload it again under a shorter key',
  },
  'invalid-event': {
    failureClass: 'permanent',
    meaning: 'the SQS message body is not an S3 event notification (someone sent something else to the queue)',
    action: 'find the sender; then delete the message (redriving cannot help)',
  },
};

const TRANSIENT: Record<TransientReason, ReasonInfo> = {
  'service-unavailable': {
    failureClass: 'transient',
    meaning: 'S3 or SQS answered 5xx, or the network failed, on the last of maxReceiveCount attempts',
    action: 'once the service is healthy again, redrive',
  },
  throttled: {
    failureClass: 'transient',
    meaning: 'S3 or SQS throttled the last of maxReceiveCount attempts (SlowDown, 429)',
    action: 'lower reservedConcurrency / batch size or spread the load, then redrive',
  },
  timeout: {
    failureClass: 'transient',
    meaning: 'a request timed out on the last of maxReceiveCount attempts',
    action: 'check the function timeout and network, then redrive',
  },
  'access-denied': {
    failureClass: 'transient',
    meaning: "the function's role may not read the upload or write the output (IAM, bucket policy, KMS key)",
    action: 'fix the permission (see the role in serverless.yml), then redrive',
  },
  'dlq-unavailable': {
    failureClass: 'transient',
    meaning:
      'the function could not reach its DLQ (no URL configured, or SQS refused); such messages usually arrive as max-receives instead, since the DLQ was unreachable',
    action: 'check RESIZE_DLQ_URL / PREDICT_DLQ_URL and sqs:SendMessage on the DLQ, then redrive',
  },
  'model-unavailable': {
    failureClass: 'transient',
    meaning: 'predict could not load its model (missing or invalid files at the model URI, SSM parameter unset)',
    action: 'upload the model (`pipeline model upload`) or fix the model-uri parameter, then redrive the predict DLQ',
  },
  unexpected: {
    failureClass: 'transient',
    meaning: 'an error nobody anticipated: retried maxReceiveCount times, then dead-lettered with its message',
    action: 'read the error message and the function logs (search the key); fix the bug, deploy, then redrive',
  },
};

/** Codes the DLQ tools derive for messages without our attributes. */
export const DERIVED_REASONS = {
  'max-receives': {
    failureClass: 'unknown',
    meaning:
      "the queue's redrive policy moved the message after maxReceiveCount receives without a reason recorded: the function crashed, ran out of memory or timed out",
    action: "search the function's logs for the key (out of memory? timeout?), fix, then redrive",
  },
  'delivery-failed': {
    failureClass: 'unknown',
    meaning: 'SNS could not deliver the upload event to the resize or predict queue (queue policy, KMS key, deleted queue)',
    action: 'fix the subscription, then copy the object onto itself (or upload it again) to raise a new event',
  },
} as const satisfies Record<string, ReasonInfo>;

export const REASONS: Readonly<Record<string, ReasonInfo>> = { ...PERMANENT, ...TRANSIENT, ...DERIVED_REASONS };

export const REASON_CODES: readonly string[] = Object.keys(REASONS);

export const isKnownReason = (code: string) => Object.hasOwn(REASONS, code);
