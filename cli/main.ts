import {
  parseAuditArgs,
  parseCatalogueArgs,
  parseCommand,
  parseDlqArgs,
  parseModelArgs,
  parsePredictArgs,
  parseReconcileArgs,
  parseReplayArgs,
  parseResizeArgs,
  parseStartArgs,
  parseUploadArgs,
  UsageError,
} from './args';
import { runAuditCommand } from './commands/audit';
import { parseBenchArgs, runBench } from './commands/bench';
import { runCatalogueRebuildCommand } from './commands/catalogue';
import { parseCostArgs, runCost } from './commands/cost';
import { runDlqList, runDlqPurge, runDlqRedrive } from './commands/dlq';
import { runModelImport, runModelUpload } from './commands/model';
import { parseModerationArgs, runModerationList } from './commands/moderation';
import { runPredict } from './commands/predict';
import { runReconcileCommand } from './commands/reconcile';
import { runReplay } from './commands/replay';
import { runResize } from './commands/resize';
import { runStart } from './commands/start';
import { runUpload } from './commands/upload';
import { EXIT, reportFailure } from './errors';
import { helpText, USAGE } from './help';
import { type Output, processOutput } from './output';

/**
 * `pipeline <command>`: returns the exit code (see EXIT in errors.ts). Never throws: a usage
 * mistake prints its line and the command's usage (64); anything a command did not handle itself
 * prints `pipeline <command>: <message>` (1), and with DEBUG=1 its stack trace.
 */
export async function main(argv: readonly string[], output: Output = processOutput): Promise<number> {
  let label: string | undefined;
  try {
    const { command, args, topic } = parseCommand(argv);
    label = commandLabel(command, args);
    switch (command) {
      case 'help':
        output.out(helpText(topic));
        return 0;
      case 'start': {
        if (parseStartArgs(args).help) return help(output, command);
        return await runStart(output);
      }
      case 'upload': {
        const parsed = parseUploadArgs(args);
        return parsed.help ? help(output, command) : await runUpload(parsed, output);
      }
      case 'replay': {
        const parsed = parseReplayArgs(args);
        return parsed.help ? help(output, command) : await runReplay(parsed, output);
      }
      case 'resize': {
        const parsed = parseResizeArgs(args);
        return parsed.help ? help(output, command) : await runResize(parsed, output);
      }
      case 'predict': {
        const parsed = parsePredictArgs(args);
        return parsed.help ? help(output, command) : await runPredict(parsed, output);
      }
      case 'model': {
        const parsed = parseModelArgs(args);
        if ('help' in parsed) return help(output, command);
        return parsed.action === 'upload' ? await runModelUpload(parsed, output) : await runModelImport(parsed, output);
      }
      case 'dlq': {
        const parsed = parseDlqArgs(args);
        if ('help' in parsed) return help(output, command);
        if (parsed.action === 'list') return await runDlqList(parsed, output);
        return parsed.action === 'redrive' ? await runDlqRedrive(parsed, output) : await runDlqPurge(parsed, output);
      }
      case 'audit': {
        const parsed = parseAuditArgs(args);
        return 'help' in parsed ? help(output, command) : await runAuditCommand(parsed, output);
      }
      case 'catalogue': {
        const parsed = parseCatalogueArgs(args);
        return 'help' in parsed ? help(output, command) : await runCatalogueRebuildCommand(parsed, output);
      }
      case 'reconcile': {
        const parsed = parseReconcileArgs(args);
        return 'help' in parsed ? help(output, command) : await runReconcileCommand(parsed, output);
      }
      case 'bench': {
        const parsed = parseBenchArgs(args);
        return 'help' in parsed ? help(output, command) : await runBench(parsed, output);
      }
      case 'cost': {
        const parsed = parseCostArgs(args);
        return 'help' in parsed ? help(output, command) : await runCost(parsed, output);
      }
      case 'moderation': {
        const parsed = parseModerationArgs(args);
        return 'help' in parsed ? help(output, command) : await runModerationList(parsed, output);
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${error.command ? `pipeline ${error.command}` : 'pipeline'}: ${error.message}\n`);
      output.err(error.command ? `usage: ${USAGE[error.command as keyof typeof USAGE]}` : helpText());
      return EXIT.usage;
    }
    try {
      reportFailure(output, label, error);
    } catch {
      // Nowhere left to report to (stderr closed): the exit code still says it failed.
    }
    return EXIT.failed;
  }
}

/** `dlq list`, `model upload`, `catalogue rebuild`: the command and its action, as the one-line messages name them. */
function commandLabel(command: string, args: readonly string[]): string {
  const action = args[0];
  const actions: Record<string, string[]> = { dlq: ['list', 'redrive'], model: ['upload'], catalogue: ['rebuild'] };
  return `${command}${action && actions[command]?.includes(action) ? ` ${action}` : ''}`;
}

function help(output: Output, command: keyof typeof USAGE): number {
  output.out(USAGE[command]);
  return 0;
}
