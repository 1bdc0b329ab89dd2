import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { REPO_ROOT, TEST_AUTH_SECRET } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs `countersign serve` with `env` and waits for it to exit (it must refuse to start). */
function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI_MAIN, 'serve'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', COUNTERSIGN_WATCH_BUNDLE: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // A server that started instead of refusing would run on: end it so that the test fails, not hangs.
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-startup-'));
  dirs.push(dir);
  return dir;
}

describe('starting the server', () => {
  it('refuses to start in production without a key-encryption key, naming the variable', async () => {
    const dir = tempDir();
    const { code, stderr } = await serve({
      NODE_ENV: 'production',
      COUNTERSIGN_AUTH_SECRET: TEST_AUTH_SECRET,
      COUNTERSIGN_DB: join(dir, 'countersign.sqlite'),
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/configuration error: COUNTERSIGN_KEY_ENCRYPTION_KEY: required in production/);
  }, 60_000);
});
