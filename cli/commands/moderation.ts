import { S3Client } from '@aws-sdk/client-s3';
import { formatFlagged, listFlagged } from '../../ops/moderation';
import { s3ClientOptions } from '../../shared/clients';
import { parseArgv, type TargetArgs, targetArgs, UsageError } from '../args';
import { EXIT } from '../errors';
import type { Output } from '../output';
import { describeFailure, type OperationsTarget, resolveTarget } from '../target';

export const MODERATION_USAGE = `pipeline moderation list [--json] [--aws [--stage S]]
  The uploads the moderation policy flagged (their thumbnails are obscured), with the labels and
  scores that flagged them, read from the predictions in the thumbnails bucket.
  --json       one JSON array instead of the table
  --aws        a deployed stage (its CloudFormation outputs); without it the local stack
  Exit code: 0 listed (flagged or not), 1 could not list, 64 bad arguments.`;

export interface ModerationArgs extends TargetArgs {
  json: boolean;
}

export function parseModerationArgs(argv: readonly string[]): ModerationArgs | { help: true } {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') return { help: true };
  if (action !== 'list') throw new UsageError(`unknown moderation action ${JSON.stringify(action)}; actions: list`, 'moderation');
  const { positionals, options } = parseArgv(rest, { aws: 'boolean', stage: 'string', json: 'boolean' }, 'moderation');
  if (options.help) return { help: true };
  if (positionals.length > 0)
    throw new UsageError(`moderation list takes no arguments, got ${JSON.stringify(positionals[0])}`, 'moderation');
  return { ...targetArgs(options, 'moderation'), json: options.json === true };
}

export async function runModerationList(args: ModerationArgs, output: Output): Promise<number> {
  let target: OperationsTarget | undefined;
  let s3: S3Client | undefined;
  try {
    target = await resolveTarget(args, args.aws);
    if (!target.buckets.thumbnails) throw new Error(`the thumbnails bucket of ${target.description} is not known; is the stack deployed?`);
    s3 = new S3Client({ ...s3ClientOptions(target.clientEnv), maxAttempts: 3 });
    const rows = await listFlagged(s3, target.buckets.thumbnails);
    output.out(args.json ? JSON.stringify(rows, null, 2) : formatFlagged(rows));
    return EXIT.ok;
  } catch (error) {
    output.err(`pipeline moderation list: ${target ? describeFailure(error, target) : (error as Error).message}`);
    return EXIT.failed;
  } finally {
    s3?.destroy();
  }
}
