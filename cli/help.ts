import { queueFunctions } from '../functions/registry';

import { declaredConfig, OUTPUT_FORMATS } from '../shared/config';
import { type CommandName, DEFAULT_GRACE_SECONDS, DEFAULT_REPAIR_RATE } from './args';
import { BENCH_USAGE } from './commands/bench';
import { COST_USAGE } from './commands/cost';
import { MODERATION_USAGE } from './commands/moderation';

const { local, thumbnails } = declaredConfig;
const FUNCTIONS = queueFunctions();
const functionChoices = FUNCTIONS.map((fn) => fn.name).join('|');

export const USAGE: Record<Exclude<CommandName, 'help'>, string> = {
  start: `pipeline start
  Runs the whole pipeline locally in the foreground (what \`npm start\` does): S3 on
  127.0.0.1:${local.s3Port}, SQS on 127.0.0.1:${local.sqsPort}, the ${local.buckets.uploads} bucket's events fanned out to the
  ${FUNCTIONS.map((fn) => fn.name).join(' and ')} queues, and the real handlers invoked like Lambda does.
  Also DynamoDB (the catalogue) on 127.0.0.1:${local.dynamodbPort} and the HTTP API on 127.0.0.1:${local.apiPort}.
  Environment: S3_PORT, SQS_PORT, DYNAMODB_PORT, API_PORT (ports), PIPELINE_STATE_DIR (default ${local.stateDir}),
  POWERTOOLS_LOG_LEVEL (handler logs), POWERTOOLS_METRICS_DISABLED=false (print metrics).
  Ctrl-C stops it; bucket contents stay in the state folder.
  Exit code: 0 stopped, 1 could not start (a port in use, a bad port variable or setting),
  130 a second Ctrl-C, 64 bad arguments.`,
  upload: `pipeline upload <files...> [--prefix P] [--bucket B] [--wait] [--aws]
  Uploads files to the uploads bucket as <prefix><file name> and prints each key.
  --prefix P   folder for the keys ("holiday" and "holiday/" both give holiday/photo.jpg)
  --bucket B   bucket (default: $UPLOADS_BUCKET, else ${local.buckets.uploads})
  --wait       wait until every thumbnail exists and print how long it took
  --aws        real AWS (default credentials and region); without it the target is
               $AWS_ENDPOINT_URL_S3 if set, else the local stack (S3_PORT, default ${local.s3Port})
  Exit code: 0 uploaded (with --wait: and every thumbnail written), 1 failed, 64 bad arguments.`,
  replay: `pipeline replay <event.json> [--function ${functionChoices}]
  Invokes a handler in this process with a saved event, against the running local stack
  (start it first with \`npm start\`), and prints the batch response as JSON.
  The file holds an SQS event (see events/) or a bare S3 notification, which is wrapped in one.
  --function   which handler (default: from the records' eventSourceARN, else resize)
  Exit code: 0 when no record failed, 1 when some did (or the replay could not run), 64 bad arguments.`,
  resize: `pipeline resize <file> --out <dir> [--sizes ${thumbnails.sizes.join(',')}] [--format ${thumbnails.format}] [--quality ${thumbnails.quality}]
  Runs the pipeline's image code on a local file, without S3, and writes
  <dir>/<size>/<file name>.<format>. Prints one JSON object:
    {"ok":true,"source":{...},"outputs":[{"size","width","height","path","bytes"}]}
  or, for a rejected image, {"ok":false,"error":{"class":"permanent","reason","message"}}.
  --format     one of ${OUTPUT_FORMATS.join(', ')}
  Exit code: 0 written, 2 image rejected, 1 any other error, 64 bad arguments.`,
  predict: `pipeline predict <file> [--model <dir or s3://bucket/prefix/>]
  Runs the predict function's validation, preprocessing and inference on a local file, without
  a queue, and prints one JSON object:
    {"ok":true,"source":{...},"model":{"name","version","uri"},"labels":[{"label","score"}],"timings":{...}}
  or, for a rejected image, {"ok":false,"error":{"class":"permanent","reason","message"}}.
  --model   a folder with model.onnx and manifest.json, or an s3:// URI read from the local stack
            (or $AWS_ENDPOINT_URL_S3); default: the committed demo model models/shapes/1
  Exit code: 0 predicted, 2 image rejected, 1 any other error (a missing file, a bad model or
  manifest), 64 bad arguments.`,
  model: `pipeline model upload <dir> [--name N] [--version V] [--bucket B] [--aws]
pipeline model import <tfjs dir> --out <dir> --labels A,B,... [--name N] [--version V] [--fit fill|cover]
  upload: validates the folder's manifest.json, loads model.onnx and runs it once against the
  manifest (tensor names, input size, number of labels), then puts model.onnx and manifest.json at
  s3://<bucket>/<name>/<version>/ (default bucket: $MODELS_BUCKET, else ${local.buckets.models}), on the
  local stack or wherever $AWS_ENDPOINT_URL_S3 points (--aws: real AWS, with --bucket set to the
  stack output ModelsBucketName). --name / --version override the manifest's
  (and are written into the uploaded manifest). Prints the model's URI; point MODEL_URI (or, on
  AWS, the /<service>/<stage>/model-uri SSM parameter) at it to make it active.
  import: converts a TensorFlow.js Layers model (model.json + weight shards, or the model.min.js +
  group1-shard*.min.js modules nsfwjs ships) to model.onnx + manifest.json in --out, input RGB v/255
  in NHWC; --labels are the class names in the model's output order; --fit fill (default) stretches
  to the input size, cover crops the centre. An unsupported layer or option is named and nothing is
  written. Then upload the folder as above.
  Exit code: 0 uploaded / written, 1 failed (a missing file, a bad manifest or model, an unsupported
  layer, the bucket unreachable), 64 bad arguments.`,
  dlq: `pipeline dlq list|redrive|purge [--queue Q] [--json] [--reason CODE] [--dry-run] [--aws]
  pipeline dlq list [--queue ${functionChoices}|delivery] [--json]
  pipeline dlq redrive [--queue ${functionChoices}] [--reason CODE] [--dry-run]
  pipeline dlq purge [--queue ${functionChoices}|delivery] (--reason CODE | --older-than AGE) [--dry-run]
  list     One row per dead-lettered message: queue, failure class (permanent, transient, or
           unknown for messages moved by a redrive policy or SNS), reason code, attempts, first
           and last failure, the S3 object and the error message. Reads without consuming: every
           message stays in its DLQ. --json prints one JSON array instead of the table.
  redrive  Moves messages back to their source queue, so the pipeline processes them again.
           Without --reason: SQS StartMessageMoveTask where the server offers it; otherwise, and
           with --reason, receive -> send to the source queue -> delete from the DLQ, so an
           interruption can duplicate a message (harmless: the pipeline is idempotent) but never
           lose one. --dry-run lists what would move and moves nothing.
  purge    Deletes the messages an operator has dealt with: of one reason, failed at least AGE ago
           (90s, 30m, 12h, 7d), or both; never a whole DLQ blindly. --dry-run lists what would go.
  --queue Q        one DLQ (default: all of them; redrive: resize and predict)
  --reason CODE    only messages with this reason code (e.g. service-unavailable, max-receives)
  --queue-url URL  operate on this DLQ instead (redrive finds its source queue by
                   ListDeadLetterSourceQueues)
  --aws            the deployed stack (default credentials and region; names from the CloudFormation
                   stack ${declaredConfig.service}-<stage>); without it the local stack (SQS_PORT, default
                   ${local.sqsPort}), or $AWS_ENDPOINT_URL_SQS (and _S3) when set
  --stage S        with --aws: the stage (default dev)
  Exit code: 0 done, 1 failed, 64 bad arguments.`,
  audit: `pipeline audit [--json] [--outputs thumbnails|prediction|all] [--grace-seconds N] [--aws]
       [--repair [--dry-run] [--limit N] [--rate R]]
  Reconciles every upload against its outputs and the DLQs: an upload is complete (every
  thumbnail size, and with --outputs all its prediction, written from the upload's current
  ETag), dead-lettered (a DLQ message names it), pending (uploaded less than the grace period
  ago, or its queue still holds messages) or missing (none of these: something was lost).
  Prints the uploads that are not complete; --json prints one JSON report.
  With the stack's catalogue table (locally ${local.tables.catalogue}, on AWS the output ImagesTableName), it
  also lists the items that disagree with S3 and the DLQs (no item, another ETag, complete or
  failed without the outputs or DLQ entry to show for it, behind S3, no upload); they do not change
  the exit code: \`pipeline catalogue rebuild\` repairs them.
  --outputs O          thumbnails, prediction, or all = both (default all)
  --repair             send the S3 event of every upload with missing outputs again, to the queue
                       of each function whose outputs are missing, marked so the function does the
                       work even when its marker output is there (a thumbnail deleted by hand comes
                       back); uploads whose queue is busy count as pending, so a second run while
                       the first repairs are queued sends nothing
  --dry-run            with --repair: list what would be sent, send nothing
  --limit N            with --repair: at most N events
  --rate R             with --repair: at most R events per second (default ${DEFAULT_REPAIR_RATE})
  --grace-seconds N    uploads younger than this count as pending (default ${DEFAULT_GRACE_SECONDS})
  --uploads-bucket B, --thumbnails-bucket B   other bucket names
  --aws, --stage S     as for pipeline dlq (buckets, queues and table from the stack's outputs)
  Exit code: 0 nothing missing, 1 something missing, 2 the audit could not run, 64 bad arguments.`,
  reconcile: `pipeline reconcile [--max-objects N] [--grace-seconds N] [--dry-run] [--json]
  One run of the scheduled reconciler (the reconcile function on AWS) against the local stack, with
  the same code: from where the last run stopped (its checkpoint is ${local.stateDir}/reconcile-checkpoint.json),
  judges up to --max-objects uploads (default ${declaredConfig.reconcile.maxObjectsPerRun}) as the audit does and sends the events
  of the missing ones again, as \`pipeline audit --repair\` does. Uploads younger than --grace-seconds
  (default ${declaredConfig.reconcile.graceSeconds}) count as pending. --dry-run judges and sends nothing, and keeps the checkpoint.
  Exit code: 0 nothing missing in the slice, 1 something missing (repaired), 2 could not run, 64 bad arguments.`,
  catalogue: `pipeline catalogue rebuild [--dry-run] [--json] [--aws [--stage S]]
  Rebuilds the image catalogue (the table ${local.tables.catalogue} locally, IMAGES_TABLE to name another;
  on AWS the stack output ImagesTableName) from the buckets and the DLQs: for every upload and every
  stage (${FUNCTIONS.map((fn) => fn.name).join(', ')}), complete when its outputs are there for the upload's ETag, else failed
  with the reason of a DLQ message naming the upload, else pending. An item is written only when it
  differs from the stored one (timestamps and revision aside); an upload with no stage result yet
  gets no item (the pipeline creates it when a stage finishes), and an item that claims a result S3
  does not show is reset to pending. Items whose key is no longer in the uploads bucket are deleted.
  The DLQs are read without consuming them. Prints a summary and one line per change.
  --dry-run    print what would change, write nothing
  --json       one JSON report instead of the text
  --aws, --stage S   as for pipeline dlq (buckets, queues and table from the stack's outputs)
  Exit code: 0 done, 1 failed (also when some uploads could not be read: the rest are rebuilt),
  64 bad arguments.`,
  bench: BENCH_USAGE,
  cost: COST_USAGE,
  moderation: MODERATION_USAGE,
};

/** The exit codes every command shares; each command's usage says what 1 (and 2) mean for it. */
export const EXIT_CODES_HELP = `Exit codes (the same for every command):
  0   success
  1   a failure found (audit: an upload missing; replay: a record failed) or the operation failed
  2   resize, predict: the image is rejected; audit: the audit could not run
  64  a usage error (an unknown option, a missing argument): the line says what, then the usage
Errors are one line, "pipeline <command>: <what>: <why>"; DEBUG=1 also prints the stack trace.`;

export function helpText(topic?: string): string {
  if (topic && topic in USAGE) return USAGE[topic as keyof typeof USAGE];
  return [
    "pipeline: the image pipeline's local tools",
    '',
    ...Object.values(USAGE).map((usage) => usage.split('\n')[0]),
    '',
    'pipeline help <command> (or <command> --help) shows the details of one command.',
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}
