import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/server.js';

/*
 * On Node 20, one AsyncLocalStorage entered anywhere turns promise hooks on for the rest of the
 * process, and every promise of every request and delivery pays for them (a third of the server's
 * CPU in the fan-out benchmark). MikroORM enters one in em.transactional() and in em.flush(): the
 * server's start-up and its use cases must go through src/db/transaction.ts and write through the
 * stores' explicit inserts and updates instead.
 */
describe('promise hooks', () => {
  it('stay off through start-up, requests, a subscriber delivery, a decision and an execution', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/support/promise-hooks-probe.ts')], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    const probe = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(probe).toMatchObject({ allowed: 'APPROVED', pending: 'PENDING', delivered: 'ADDED', decided: 'APPROVED', executed: 'STARTED', completed: 'SUCCEEDED' });
    expect(probe.steps).toEqual({ beforeStart: false, started: false, served: false, decidedAndExecuted: false });
  });
});
