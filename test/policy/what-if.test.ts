import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TEST_AUTH_SECRET } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

const run = promisify(execFile);

function countersign(args: string[]) {
  return run(process.execPath, [CLI_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, COUNTERSIGN_AUTH_SECRET: TEST_AUTH_SECRET, COUNTERSIGN_WATCH_BUNDLE: 'false' },
  });
}

describe('countersign policy eval (the what-if command)', () => {
  it('shows the decision the current bundle makes for an input file', async () => {
    const { stdout } = await countersign(['policy', 'eval', 'test/fixtures/payment-input.json']);
    const decision = JSON.parse(stdout) as Record<string, unknown>;
    expect(decision).toMatchObject({ outcome: 'require_approval', failSafe: false });
    expect(decision['reasons']).toEqual(expect.arrayContaining([expect.objectContaining({ ruleId: expect.any(String) })]));
  });

  it('applies tenant settings given with --data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-whatif-'));
    const data = join(dir, 'tenants.json');
    writeFileSync(data, JSON.stringify({ acme: { denylist: ['payment'] } }));
    const { stdout } = await countersign(['policy', 'eval', 'test/fixtures/payment-input.json', '--data', data]);
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'deny' });
  });

  it('exits with a usage error when no input file is named', async () => {
    await expect(countersign(['policy', 'eval'])).rejects.toMatchObject({ code: 2 });
  });
});
