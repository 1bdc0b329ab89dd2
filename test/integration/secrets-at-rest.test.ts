/**
 * No secret rests in plaintext: after a full flow the SQLite file and its WAL hold no decision
 * token and no private key material; tokens are re-created, the same, from their stored claims;
 * a database from before (plaintext key, stored tokens) is sealed and scrubbed at start; the
 * key-encryption key rotates with `countersign keys rewrap`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { openPrivateKey } from '../../src/db/keyring.js';
import type { SigningKeyRecord } from '../../src/db/entities/signing-key.entity.js';
import { allowedToken, executionOf, expectError, expectType, freshTenant, GateClient, openDatabaseFile, PAYMENT_ONE_APPROVER, QUICK_EMAIL } from '../support/gate.js';
import { createChannel, testNotifyConfig } from '../support/notifications.js';
import { REPO_ROOT, startTestServer, type TestServer } from '../support/server.js';
import type { Config } from '../../src/config.js';
import { channelSecretAad } from '../../src/db/entities/notification-channel.entity.js';
import { openSecret } from '../../src/domain/sealed-secret.js';
import { CLI_MAIN } from '../support/cli.js';

const run = promisify(execFile);
const dirs: string[] = [];
const servers: TestServer[] = [];

afterAll(async () => {
  for (const server of servers) await server.app.stop().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(dir: string, keyEncryptionKey?: Uint8Array, overrides: Partial<Config> = {}): Promise<TestServer> {
  const server = await startTestServer({ expirySweepMs: 3_600_000, ...(keyEncryptionKey && { keyEncryptionKey }), ...overrides }, dir);
  servers.push(server);
  return server;
}

/** The same caller, on a restarted server (its token stays valid: same secret). */
const clientOn = (client: GateClient, server: TestServer) => new GateClient(server, client.subject, client.tenant, client.bearer);

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-secrets-'));
  dirs.push(dir);
  return dir;
}

/** The database file and its WAL, as bytes read straight off the disk (latin1 keeps every byte). */
function bytesAtRest(server: TestServer): string {
  const path = server.config.databasePath;
  return [path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file).toString('latin1')).join('\n');
}

const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/;

/** The private scalars (`d`) of every stored signing key, opened with the server's key-encryption key. */
function privateScalars(server: TestServer): string[] {
  const database = openDatabaseFile(server);
  try {
    const rows = database.prepare('select kid, private_jwk from signing_key').all() as { kid: string; private_jwk: string }[];
    return rows.map((row) => {
      const record = { kid: row.kid, privateJwk: JSON.parse(row.private_jwk) } as SigningKeyRecord;
      return openPrivateKey(server.config.keyEncryptionKey, record).d as string;
    });
  } finally {
    database.close();
  }
}

function expectNothingAtRest(server: TestServer, tokens: string[]): void {
  const stored = bytesAtRest(server);
  expect(stored.match(JWT)?.[0] ?? null).toBeNull();
  for (const token of tokens) expect(stored.includes(token.split('.')[2] as string)).toBe(false);
  const scalars = privateScalars(server);
  expect(scalars.length).toBeGreaterThan(0);
  for (const d of scalars) {
    expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stored.includes(d)).toBe(false);
    expect(stored.includes(Buffer.from(d, 'base64url').toString('latin1'))).toBe(false);
  }
  expect(stored).not.toMatch(/PRIVATE KEY/);
}

describe('secrets at rest', () => {
  it('leaves no decision token and no private key in the database file or its WAL after a full flow', async () => {
    const server = await start(tempDir());
    const { agent, approver } = await freshTenant(server);

    // Allowed outright, asked for again with its idempotency key: the very same token.
    const allowedInput = { ...QUICK_EMAIL, idempotencyKey: 'email-1' };
    const allowed = await allowedToken(agent, allowedInput);
    const replayed = expectType(await agent.requestApproval(allowedInput), 'RequestApprovalPayload');
    expect(replayed).toMatchObject({ replayed: true, token: allowed.token });
    expect(expectType(await agent.approval(allowed.approval.id), 'Approval').decisionToken).toBe(allowed.token);

    // Approved by a person: the requester reads its token, twice the same.
    const pending = expectType(await agent.requestApproval(PAYMENT_ONE_APPROVER), 'RequestApprovalPayload');
    expectType(await approver.decide(pending.approval.id, 'APPROVE'), 'Approval');
    const approvedToken = expectType(await agent.approval(pending.approval.id), 'Approval').decisionToken as string;
    expect(approvedToken).toMatch(/^eyJ/);
    expect(expectType(await agent.approval(pending.approval.id), 'Approval').decisionToken).toBe(approvedToken);

    // An approved token left unconsumed, and two executed, one of them replayed.
    const unconsumed = await allowedToken(agent, { ...QUICK_EMAIL, resource: 'mailbox/unconsumed' });
    expectType(await agent.execute(executionOf(allowed.token, allowedInput, { outcome: 'SUCCEEDED', result: { sent: true } })), 'ExecutePayload');
    expectType(await agent.execute(executionOf(approvedToken, PAYMENT_ONE_APPROVER)), 'ExecutePayload');
    expectError(await agent.execute(executionOf(approvedToken, PAYMENT_ONE_APPROVER)), 'TOKEN_REPLAYED');

    // While the server runs (the WAL holds the recent writes) and after it stopped.
    expectNothingAtRest(server, [allowed.token, approvedToken, unconsumed.token]);
    await server.stop();
    expectNothingAtRest(server, [allowed.token, approvedToken, unconsumed.token]);

    // After a restart the unconsumed token is re-created the same and still executes.
    const restarted = await start(server.dir, server.config.keyEncryptionKey);
    const again = clientOn(agent, restarted);
    expect(expectType(await again.approval(unconsumed.approval.id), 'Approval').decisionToken).toBe(unconsumed.token);
    expectType(await again.execute(executionOf(unconsumed.token, { ...QUICK_EMAIL, resource: 'mailbox/unconsumed' })), 'ExecutePayload');
  }, 120_000);

  it('seals a plaintext signing key and drops stored tokens of an older database at start, scrubbing both from the file', async () => {
    const server = await start(tempDir());
    const { agent } = await freshTenant(server);
    const { token, approval } = await allowedToken(agent);
    await server.stop();

    // Back to the state of a database from before: the key in plaintext, the token stored.
    const database = openDatabaseFile(server);
    try {
      const [row] = database.prepare('select kid, private_jwk from signing_key').all() as { kid: string; private_jwk: string }[];
      const plaintext: JWK = openPrivateKey(server.config.keyEncryptionKey, { kid: row!.kid, privateJwk: JSON.parse(row!.private_jwk) } as SigningKeyRecord);
      database.prepare('update signing_key set private_jwk = ? where kid = ?').run(JSON.stringify(plaintext), row!.kid);
      database.prepare('alter table approval add column decision_token text null').run();
      database.prepare('update approval set decision_token = ? where id = ?').run(token, approval.id);
      database.prepare('alter table approval drop column token_kid').run();
      database.prepare('alter table approval drop column token_issued_at').run();
      database.prepare("delete from mikro_orm_migrations where name = 'Migration20261201SecretsAtRest'").run();
    } finally {
      database.close();
    }
    expect(bytesAtRest(server)).toContain(token);

    const restarted = await start(server.dir, server.config.keyEncryptionKey);
    const agentThere = clientOn(agent, restarted);
    expect(expectType(await agentThere.approval(approval.id), 'Approval').decisionToken).toBe(token);
    expectNothingAtRest(restarted, [token]);
    expectType(await agentThere.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
  }, 120_000);

  it('rotates the key-encryption key with countersign keys rewrap: the old key no longer opens, the new one signs the same tokens', async () => {
    const dir = tempDir();
    const oldKey = randomBytes(32);
    const server = await start(dir, oldKey, { notify: testNotifyConfig() });
    const { agent, admin } = await freshTenant(server);
    const { token, approval } = await allowedToken(agent);
    const channel = await createChannel(server, admin, { kind: 'WEBHOOK', name: 'ops', url: 'http://127.0.0.1:9/hook', events: ['approval.rejected'] });
    await server.stop();
    const sealedChannelSecret = () => {
      const database = openDatabaseFile(server);
      try {
        return (database.prepare('select sealed_secret from notification_channel where id = ?').all(channel.id)[0] as { sealed_secret: string }).sealed_secret;
      } finally {
        database.close();
      }
    };
    expect(openSecret(oldKey, sealedChannelSecret(), channelSecretAad(channel.id))).toBe(channel.signingSecret);

    const newKeyFile = join(dir, 'new-kek');
    writeFileSync(newKeyFile, randomBytes(32).toString('base64') + '\n');
    const { stdout } = await run(process.execPath, [CLI_MAIN, 'keys', 'rewrap', '--new-key-file', newKeyFile], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        COUNTERSIGN_DB: server.config.databasePath,
        COUNTERSIGN_KEY_ENCRYPTION_KEY: oldKey.toString('base64'),
        COUNTERSIGN_AUTH_SECRET: server.config.authSecret as string,
      },
    });
    expect(stdout).toMatch(/sealed 1 signing key\(s\) and 1 channel secret\(s\) under the new key-encryption key; restart every server/);

    await expect(start(dir, oldKey)).rejects.toMatchObject({ code: 'KEY_ENCRYPTION_KEY_MISMATCH' });
    const newKey = new Uint8Array(Buffer.from(readFileSync(newKeyFile, 'utf8').trim(), 'base64'));
    // The channel's webhook secret, sealed again: the same secret, under the new key only.
    expect(openSecret(newKey, sealedChannelSecret(), channelSecretAad(channel.id))).toBe(channel.signingSecret);
    expect(() => openSecret(oldKey, sealedChannelSecret(), channelSecretAad(channel.id))).toThrow(/does not open/);
    const restarted = await start(dir, newKey);
    const agentThere = clientOn(agent, restarted);
    expect(expectType(await agentThere.approval(approval.id), 'Approval').decisionToken).toBe(token);
    expectType(await agentThere.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
  }, 120_000);
});
