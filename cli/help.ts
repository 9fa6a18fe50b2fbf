import { declaredConfig, OUTPUT_FORMATS } from '../shared/config';
import type { CommandName } from './args';

const { local, thumbnails } = declaredConfig;

export const USAGE: Record<Exclude<CommandName, 'help'>, string> = {
  start: `pipeline start
  Runs the whole pipeline locally in the foreground (what \`npm start\` does): S3 on
  127.0.0.1:${local.s3Port}, SQS on 127.0.0.1:${local.sqsPort}, the ${local.buckets.uploads} bucket's events fanned out to the
  ${local.queues.resize} and ${local.queues.predict} queues, and the real handlers invoked like Lambda does.
  Environment: S3_PORT, SQS_PORT (ports), PIPELINE_STATE_DIR (default ${local.stateDir}),
  POWERTOOLS_LOG_LEVEL (handler logs), POWERTOOLS_METRICS_DISABLED=false (print metrics).
  Ctrl-C stops it; bucket contents stay in the state folder.`,
  upload: `pipeline upload <files...> [--prefix P] [--bucket B] [--wait] [--aws]
  Uploads files to the uploads bucket as <prefix><file name> and prints each key.
  --prefix P   folder for the keys ("holiday" and "holiday/" both give holiday/photo.jpg)
  --bucket B   bucket (default: $UPLOADS_BUCKET, else ${local.buckets.uploads})
  --wait       wait until every thumbnail exists and print how long it took
  --aws        real AWS (default credentials and region); without it the target is
               $AWS_ENDPOINT_URL_S3 if set, else the local stack (S3_PORT, default ${local.s3Port})`,
  replay: `pipeline replay <event.json> [--function resize|predict]
  Invokes a handler in this process with a saved event, against the running local stack
  (start it first with \`npm start\`), and prints the batch response as JSON.
  The file holds an SQS event (see events/) or a bare S3 notification, which is wrapped in one.
  --function   which handler (default: from the records' eventSourceARN, else resize)
  Exit code: 0 when no record failed, 1 when some did (or the replay could not run).`,
  resize: `pipeline resize <file> --out <dir> [--sizes ${thumbnails.sizes.join(',')}] [--format ${thumbnails.format}] [--quality ${thumbnails.quality}]
  Runs the pipeline's image code on a local file, without S3, and writes
  <dir>/<size>/<file name>.<format>. Prints one JSON object:
    {"ok":true,"source":{...},"outputs":[{"size","width","height","path","bytes"}]}
  or, for a rejected image, {"ok":false,"error":{"class":"permanent","reason","message"}}.
  --format     one of ${OUTPUT_FORMATS.join(', ')}
  Exit code: 0 written, 2 image rejected, 1 any other error.`,
};

export function helpText(topic?: string): string {
  if (topic && topic in USAGE) return USAGE[topic as keyof typeof USAGE];
  return [
    'pipeline: the image pipeline\'s local tools',
    '',
    ...Object.values(USAGE).map((usage) => usage.split('\n')[0]),
    '',
    'pipeline help <command> (or <command> --help) shows the details of one command.',
  ].join('\n');
}
