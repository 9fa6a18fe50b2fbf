import { PortInUseError, PortSettingError } from '../../local/endpoints';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { checkModel } from '../../ops/modelCheck';
import { loadConfig } from '../../shared/config';
import { ConfigError } from '../../shared/errors';
import { parseManifest } from '../../shared/predict/manifest';
import { fetchModelFiles, parseS3Uri } from '../../shared/predict/modelStore';
import { describeError, EXIT, reportFailure } from '../errors';
import type { Output } from '../output';

/**
 * Why the configured model cannot be loaded, or undefined when it can: the stack runs anyway, but
 * every prediction would be retried as model-unavailable, so the user hears it at once.
 */
async function modelProblem(stack: LocalStack): Promise<string | undefined> {
  let uri: string | undefined;
  try {
    uri = loadConfig().prediction.modelUri;
    const files = await fetchModelFiles(stack.s3, parseS3Uri(uri));
    await checkModel(files.model, parseManifest(files.manifestText));
    return undefined;
  } catch (error) {
    const where = uri ? `the model at ${uri} cannot be loaded` : 'the model cannot be loaded';
    return `${where} (${describeError(error)}); predictions will fail as model-unavailable until it can (npx pipeline model upload <dir>, or set MODEL_URI)`;
  }
}

/**
 * `pipeline start` (`npm start`): the local stack in the foreground until Ctrl-C or SIGTERM.
 * Exit codes: 0 stopped, 1 could not start (a port in use, a bad S3_PORT / SQS_PORT or setting), 130 a second Ctrl-C.
 */
export async function runStart(output: Output): Promise<number> {
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ stateDir: process.env.PIPELINE_STATE_DIR || undefined, log: output.out });
  } catch (error) {
    // Mistakes a user can fix are their own message; anything else says what failed (DEBUG=1: the stack).
    const known = error instanceof PortInUseError || error instanceof PortSettingError || error instanceof ConfigError;
    reportFailure(output, 'start', error, known ? undefined : 'the local stack did not start');
    return EXIT.failed;
  }
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const problem = await modelProblem(stack);
  if (problem) output.err(`pipeline start: warning: ${problem}`);
  const signal = await stopped;
  output.out(`${signal}: stopping (waiting for batches in flight; press Ctrl-C again to quit at once)`);
  process.once('SIGINT', () => process.exit(130));
  await stack.stop();
  output.out('Stopped.');
  return EXIT.ok;
}
