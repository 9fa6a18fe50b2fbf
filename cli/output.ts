import type { PermanentError } from '../shared/errors';

/** What a command writes: stdout for its result, stderr for everything meant for a person. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Runs code whose logging (Powertools writes JSON log lines to stdout) must not mix with a
 * command's result: while it runs, anything written to stdout goes to stderr instead.
 */
export async function withStdoutOnStderr<T>(work: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stdout.write = write;
  }
}

/** The JSON a command prints for an image the pipeline rejects (exit code 2), shared by resize and predict. */
export const rejectionResult = (source: object, error: PermanentError) => ({
  ok: false,
  source,
  error: { class: error.failureClass, reason: error.reason, message: error.message },
});
