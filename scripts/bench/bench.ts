/**
 * `npm run bench` (tsx scripts/bench/bench.ts): the benchmarks of issue 5, the same as `pipeline bench`.
 *   npm run bench                     image paths: ours vs vipsthumbnail vs naive sharp, + 50 MP memory
 *   npm run bench -- --json           the same, one JSON object on stdout
 *   npm run bench -- --e2e            N photos through the local stack
 *   npm run bench -- --cold-start     zip sizes and handler init time
 * See `pipeline bench --help` (cli/commands/bench.ts) for every option.
 */
import { UsageError } from '../../cli/args';
import { BENCH_USAGE, parseBenchArgs, runBench } from '../../cli/commands/bench';
import { processOutput } from '../../cli/output';

async function main(argv: string[]): Promise<number> {
  try {
    const args = parseBenchArgs(argv);
    if ('help' in args) {
      processOutput.out(BENCH_USAGE);
      return 0;
    }
    return await runBench(args, processOutput);
  } catch (error) {
    if (error instanceof UsageError) {
      processOutput.err(`bench: ${error.message}\nusage: ${BENCH_USAGE}`);
      return 64;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  },
);
