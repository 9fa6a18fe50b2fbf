import { main } from '../../cli/main';

export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/**
 * main(args) in this process, as the `pipeline` command runs it, with an Output that records what it
 * prints and this environment only (none of the shell's stack settings); process.env is restored after.
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const saved = { ...process.env };
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS', 'S3_PORT', 'SQS_PORT', 'DEBUG']) {
    delete process.env[name];
  }
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
    return { code, out, err };
  } finally {
    process.env = saved;
  }
}
