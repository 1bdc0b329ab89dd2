/**
 * One SQLite file, more than one writer: a second server is refused at start with a message that
 * names the file and the server holding it, a crashed holder does not lock the file for good, and
 * any other process writing the file (a second instance's gate) keeps every chain whole.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freshTenant, GateClient, expectType, openDatabaseFile, PAYMENT_ONE_APPROVER } from '../support/gate.js';
import { REPO_ROOT, startTestServer, TEST_AUTH_SECRET, type TestServer } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

const dirs: string[] = [];
const servers: TestServer[] = [];

afterAll(async () => {
  for (const server of servers) await server.app.stop().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-file-'));
  dirs.push(dir);
  return dir;
}

async function start(dir: string): Promise<TestServer> {
  const server = await startTestServer({ expirySweepMs: 3_600_000 }, dir);
  servers.push(server);
  return server;
}

/** Writes a fresh lease of another server into a file no server holds now. */
function insertLease(server: TestServer, lease: { pid: number; host: string }): void {
  const database = openDatabaseFile(server);
  try {
    database
      .prepare("insert into server_lease (name, holder, pid, host, started_at, heartbeat_at) values ('server', ?, ?, ?, ?, ?)")
      .run('00000000-0000-4000-8000-000000000001', lease.pid, lease.host, Date.now(), Date.now());
  } finally {
    database.close();
  }
}

function setLease(server: TestServer, lease: { pid: number; host: string; heartbeatAt: number }): void {
  const database = openDatabaseFile(server);
  try {
    database
      .prepare('update server_lease set holder = ?, pid = ?, host = ?, heartbeat_at = ?')
      .run('00000000-0000-4000-8000-000000000000', lease.pid, lease.host, lease.heartbeatAt);
  } finally {
    database.close();
  }
}

/** The pid of a process that has just exited: certainly not alive. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('a second server on the same database file', () => {
  it('is refused at start, naming the file and the server that holds it', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const file = first.config.databasePath;
    await expect(start(dir)).rejects.toThrow(
      `the database ${file} is in use by another Countersign server (pid ${process.pid} on ${hostname()}`,
    );
    // The refused server changed nothing: the first one still serves.
    const tenant = await freshTenant(first, 'lease');
    expectType(await tenant.agent.requestApproval(PAYMENT_ONE_APPROVER), 'RequestApprovalPayload');
  });

  it('starts once the first one has stopped', async () => {
    const dir = tempDir();
    const first = await start(dir);
    await first.stop();
    const second = await start(dir);
    const tenant = await freshTenant(second, 'lease');
    expectType(await tenant.agent.requestApproval(PAYMENT_ONE_APPROVER), 'RequestApprovalPayload');
  });

  it('takes over at once from a server on this host that crashed without releasing the file', async () => {
    const dir = tempDir();
    const first = await start(dir);
    await first.app.stop();
    // What `kill -9` leaves: a fresh lease whose process is gone.
    insertLease(first, { pid: await deadPid(), host: hostname() });
    await start(dir);
  });

  it('waits out a lease held from another host until it goes stale', async () => {
    const dir = tempDir();
    const first = await start(dir);
    await first.app.stop();
    insertLease(first, { pid: 1, host: 'other-host' });
    await expect(start(dir)).rejects.toThrow(/in use by another Countersign server \(pid 1 on other-host/);
    setLease(first, { pid: 1, host: 'other-host', heartbeatAt: Date.now() - 60_000 });
    await start(dir);
  });
});

describe('another process writing the same file', () => {
  it('extends the same audit chain: both writers succeed and the chain verifies with no gap', async () => {
    const dir = tempDir();
    const server = await start(dir);
    const tenant = `shared-${Date.now()}`;
    const agent = await GateClient.as(server, `agent-${tenant}`, tenant, ['agent']);
    const auditor = await GateClient.as(server, `auditor-${tenant}`, tenant, ['auditor']);
    const COUNT = 40;
    const second = promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'second-writer.ts'), server.config.databasePath, tenant, String(COUNT)],
      { cwd: REPO_ROOT },
    );
    const mine = await Promise.all(
      Array.from({ length: COUNT }, (_, index) =>
        agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: `invoice/first-${index}` }).then((result) => result.__typename),
      ),
    );
    const theirs = JSON.parse((await second).stdout) as { succeeded: number; failures: string[] };
    expect(theirs).toEqual({ succeeded: COUNT, failures: [] });
    expect(mine.every((typename) => typename === 'RequestApprovalPayload')).toBe(true);
    const events = await auditor.allAuditEvents();
    expect(events).toHaveLength(2 * COUNT);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 2 * COUNT }, (_, index) => index + 1));
    const verification = expectType(await auditor.verifyAuditChain(), 'AuditChainVerification');
    expect(verification).toMatchObject({ ok: true, checked: 2 * COUNT });
  }, 120_000);
});

describe('an unwritable database', () => {
  it('stops the server at start with a message naming the file', async () => {
    const dir = tempDir();
    const server = await start(dir);
    await server.stop();
    const file = server.config.databasePath;
    chmodSync(file, 0o444);
    chmodSync(dir, 0o777);
    // A bundle that user can read (the built one is the owner's only).
    const bundle = join(dir, 'bundle');
    cpSync(join(REPO_ROOT, 'bundle'), bundle, { recursive: true });
    chmodSync(bundle, 0o755);
    for (const name of readdirSync(bundle)) chmodSync(join(bundle, name), 0o644);
    // As a user without the right to write the file (root may write anything).
    const child = spawn(process.execPath, [CLI_MAIN, 'serve'], {
      cwd: REPO_ROOT,
      uid: 65534,
      gid: 65534,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: dir,
        PORT: '0',
        COUNTERSIGN_DB: file,
        COUNTERSIGN_AUTH_SECRET: TEST_AUTH_SECRET,
        COUNTERSIGN_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
        COUNTERSIGN_WATCH_BUNDLE: 'false',
        COUNTERSIGN_BUNDLE_DIR: bundle,
        COUNTERSIGN_POLICY_SOURCES: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    const code = await new Promise((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    expect(code).not.toBe(0);
    expect(stderr).toContain(`the database ${file} is not writable (`);
    expect(stderr).toContain('attempt to write a readonly database');
  }, 90_000);
});
