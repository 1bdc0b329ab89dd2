/**
 * The command-line interface as a user runs it: `countersign ARGS` in a child process, pointed at a
 * test server and a caller by the environment, as a shell would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT, type TestServer } from './server.js';

/**
 * The entry point `node` starts the command line from: in the copy of src/ the run compiled
 * (test/support/global-cli.ts), as the built package starts it.
 */
export const CLI_MAIN = compiledCli();

function compiledCli(): string {
  const main = process.env['COUNTERSIGN_TEST_CLI'];
  if (!main) throw new Error('COUNTERSIGN_TEST_CLI is not set: the suites run through vitest, whose global setup compiles the command line');
  return main;
}

/** How one run of the CLI ended, and what it printed. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `countersign ARGS` against `server` as the caller of `token`; `output` fills as it prints. */
export function startCli(
  server: TestServer,
  args: string[],
  token: string | null,
  env: Record<string, string> = {},
): { child: ChildProcess; output: { stdout: string; stderr: string }; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: token ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, ...output }));
  });
  return { child, output, done };
}

/** Runs `countersign ARGS` against `server` as the caller of `token`, to its end. */
export function runCli(server: TestServer, args: string[], token: string | null, env: Record<string, string> = {}): Promise<CliRun> {
  return startCli(server, args, token, env).done;
}
