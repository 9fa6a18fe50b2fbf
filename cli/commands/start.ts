import { PortInUseError } from '../../local/endpoints';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { ConfigError } from '../../shared/errors';
import type { Output } from '../output';

/** `pipeline start` (`npm start`): the local stack in the foreground until Ctrl-C or SIGTERM. */
export async function runStart(output: Output): Promise<number> {
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ stateDir: process.env.PIPELINE_STATE_DIR || undefined, log: output.out });
  } catch (error) {
    // Mistakes a user can fix get one line; anything else keeps its stack for a bug report.
    if (error instanceof PortInUseError || error instanceof ConfigError || /must be a port number/.test((error as Error).message)) {
      output.err(`pipeline start: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  output.out(`${signal}: stopping (waiting for batches in flight; press Ctrl-C again to quit at once)`);
  process.once('SIGINT', () => process.exit(130));
  await stack.stop();
  output.out('Stopped.');
  return 0;
}
