import { PortInUseError, PortSettingError } from '../../local/endpoints';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { ConfigError } from '../../shared/errors';
import { EXIT, reportFailure } from '../errors';
import type { Output } from '../output';

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
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  output.out(`${signal}: stopping (waiting for batches in flight; press Ctrl-C again to quit at once)`);
  process.once('SIGINT', () => process.exit(130));
  await stack.stop();
  output.out('Stopped.');
  return EXIT.ok;
}
