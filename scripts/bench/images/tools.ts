import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The system programs the benchmark needs, where they come from on Debian, and a check that says
 * exactly what is missing instead of failing halfway through a run.
 */
export interface Tool {
  command: string;
  /** What to run to get it (Debian / Ubuntu). */
  install: string;
  why: string;
}

export const TOOLS = {
  aptGet: {
    command: 'apt-get',
    install: 'a Debian or Ubuntu system (apt-get is not installable on its own)',
    why: 'downloads the wallpaper packages',
  },
  dpkgDeb: { command: 'dpkg-deb', install: 'apt-get install dpkg', why: 'unpacks the wallpaper packages' },
  vipsthumbnail: {
    command: 'vipsthumbnail',
    install: 'apt-get install libvips-tools',
    why: "libvips' own thumbnailer, the reference path",
  },
} satisfies Record<string, Tool>;

/** The executable's full path on PATH, or undefined. */
export function findExecutable(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export class MissingToolsError extends Error {
  constructor(readonly missing: Tool[]) {
    super(
      [
        'The benchmark needs programs that are not installed:',
        ...missing.map((tool) => `  ${tool.command} (${tool.why}): ${tool.install}`),
      ].join('\n'),
    );
    this.name = 'MissingToolsError';
  }
}

export function requireTools(tools: Tool[]): void {
  const missing = tools.filter((tool) => !findExecutable(tool.command));
  if (missing.length > 0) throw new MissingToolsError(missing);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (no shell), collecting its output. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `vipsthumbnail --vips-version`, e.g. "libvips 8.14.1". */
export async function vipsVersion(): Promise<string> {
  const result = await run('vipsthumbnail', ['--vips-version']);
  return result.stdout.trim() || result.stderr.trim();
}
