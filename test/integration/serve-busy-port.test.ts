import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

describe('countersign serve on a busy port', () => {
  let occupier: Server;
  let port: number;
  const dir = mkdtempSync(join(tmpdir(), 'countersign-port-'));
  beforeAll(async () => {
    occupier = createServer();
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    port = (occupier.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => occupier.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits non-zero with a message naming the port, instead of hanging', async () => {
    const child = spawn(process.execPath, [CLI_MAIN, 'serve'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', COUNTERSIGN_DB: join(dir, 'countersign.sqlite'), COUNTERSIGN_WATCH_BUNDLE: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain(`port ${port}`);
    expect(stderr).toContain('already in use');
  }, 60_000);
});
