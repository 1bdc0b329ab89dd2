/**
 * An audit trail a reader can check against something outside it: signed checkpoints (C2SP
 * signed note + tlog-checkpoint, Ed25519 with the decision-token key, verifiable with the
 * published JWKS), truncation and re-hashing detected against one kept elsewhere, and state
 * cross-checked with the trail.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditEventHash } from '../../src/domain/audit-chain.js';
import { verifyCheckpoint } from '../../src/domain/checkpoint.js';
import { executionOf, expectType, freshTenant, openDatabaseFile, PAYMENT_ONE_APPROVER, request, type Tenant } from '../support/gate.js';
import { runCli } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let checkpointDir: string;

beforeAll(async () => {
  checkpointDir = mkdtempSync(join(tmpdir(), 'countersign-checkpoints-'));
  server = await startTestServer({ checkpointDir, checkpointIntervalMs: 1000 });
});

afterAll(async () => {
  await server?.close();
  rmSync(checkpointDir, { recursive: true, force: true });
});

const VERIFY = `query ($checkpoint: String) {
  verifyAuditChain(checkpoint: $checkpoint) {
    __typename
    ... on AuditChainVerification {
      ok chainOk checked brokenAt { seq reason }
      checkpoint { size headHash chainSize hashAtSize problem }
      stateMismatches { approvalId status trailStatus }
      stateMismatchCount
    }
    ... on Error { code message }
    ... on InvalidInputError { field problem }
  }
}`;

const CHECKPOINT = `{ auditCheckpoint { __typename ... on AuditCheckpoint { tenant origin size headHash time kid keyName note } ... on Error { code } } }`;

async function verification(tenant: Tenant, checkpoint: string | null = null) {
  const body = await server.gql(tenant.auditor.bearer, VERIFY, { checkpoint });
  return body.data.verifyAuditChain;
}

/** A tenant with history: two approvals approved and executed, 5 events each (10 in all). */
async function tenantWithHistory(): Promise<Tenant> {
  const tenant = await freshTenant(server);
  for (const resource of ['invoice/A', 'invoice/B']) {
    const input = { ...PAYMENT_ONE_APPROVER, resource };
    const { approval } = await request(tenant.agent, input, 'PENDING');
    expectType(await tenant.approver.decide(approval.id), 'Approval');
    const token = expectType(await tenant.agent.approval(approval.id), 'Approval').decisionToken as string;
    expectType(await tenant.agent.execute(executionOf(token, input)), 'ExecutePayload');
  }
  return tenant;
}

async function checkpointNote(tenant: Tenant): Promise<string> {
  const response = await fetch(`${server.url}/audit/checkpoint`, { headers: { authorization: `Bearer ${tenant.auditor.bearer}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

/** Runs `sql` on the server's SQLite file behind its back. */
async function tamper(...statements: [string, ...unknown[]][]): Promise<void> {
  await server.app.gate.whenIdle();
  const database = openDatabaseFile(server);
  try {
    for (const [sql, ...params] of statements) database.prepare(sql).run(...params);
  } finally {
    database.close();
  }
}

/**
 * Verifies a signed note as an outside party would, from the formats' text alone: find the key by
 * the kid in the signature's key name in the published JWKS, check the 4-byte key id, verify Ed25519.
 */
async function verifyAsOutsider(note: string): Promise<{ origin: string; size: number; head: string }> {
  const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const [body, signatures] = note.split('\n\n') as [string, string];
  const [origin, size, head] = body.split('\n') as [string, string, string];
  const [, name, encoded] = /^\u2014 (\S+) (\S+)$/.exec(signatures.trim()) as RegExpExecArray;
  const kid = (name as string).replace(/^countersign-audit\//, '');
  const jwk = jwks.keys.find((key) => key.kid === kid) as JWK;
  const raw = Buffer.concat([Buffer.from([1]), Buffer.from(jwk.x as string, 'base64url')]);
  const keyId = createHash('sha256').update(`${name}\n`).update(raw).digest().subarray(0, 4);
  const bytes = Buffer.from(encoded as string, 'base64');
  expect(bytes.subarray(0, 4).equals(keyId)).toBe(true);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string }, format: 'jwk' });
  expect(verify(null, Buffer.from(`${body}\n`), publicKey, bytes.subarray(4))).toBe(true);
  return { origin, size: Number(size), head: Buffer.from(head, 'base64').toString('hex') };
}

describe('signed checkpoints', () => {
  it('are served at GET /audit/checkpoint and over GraphQL to auditors, verifiable with the published JWKS', async () => {
    const tenant = await tenantWithHistory();
    const events = await tenant.auditor.allAuditEvents();
    const note = await checkpointNote(tenant);
    expect(await verifyAsOutsider(note)).toEqual({
      origin: `urn:countersign:local/audit/${tenant.name}`,
      size: events.length,
      head: events.at(-1)?.hash,
    });
    expect(note.split('\n')[3]).toMatch(/^time \d{4}-\d\d-\d\dT/);

    const { data } = await server.gql(tenant.admin.bearer, CHECKPOINT);
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    expect(data.auditCheckpoint).toMatchObject({ tenant: tenant.name, size: events.length, headHash: events.at(-1)?.hash, kid: jwks.keys.at(-1)?.kid });
    expect(await verifyAsOutsider(data.auditCheckpoint.note)).toMatchObject({ size: events.length });

    // Agents and approvers may not; nobody without a token.
    expect((await server.gql(tenant.agent.bearer, CHECKPOINT)).data.auditCheckpoint).toMatchObject({ __typename: 'ForbiddenError' });
    const forbidden = await fetch(`${server.url}/audit/checkpoint`, { headers: { authorization: `Bearer ${tenant.approver.bearer}` } });
    expect([forbidden.status, ((await forbidden.json()) as { code: string }).code]).toEqual([403, 'FORBIDDEN']);
    expect((await fetch(`${server.url}/audit/checkpoint`)).status).toBe(401);
  });

  it('are written on a schedule to the configured folder, only when a chain grew', async () => {
    const tenant = await tenantWithHistory();
    const folder = join(checkpointDir, encodeURIComponent(tenant.name));
    const size = (await tenant.auditor.allAuditEvents()).length;
    await vi.waitFor(() => expect(existsSync(join(folder, `${size}.checkpoint`))).toBe(true), { timeout: 15_000, interval: 100 });
    const latest = readFileSync(join(folder, 'latest.checkpoint'), 'utf8');
    expect(verifyCheckpoint(latest, (kid) => server.app.gate.keys.publicKeyById(kid))).toMatchObject({ size });
    // Nothing new in this tenant: the next round writes nothing for it. The first call joins a
    // scheduled round still in progress (another tenant's files), so the listing is taken between rounds.
    await server.app.checkpointFiles?.writeNow();
    const before = readdirSync(folder);
    await server.app.checkpointFiles?.writeNow();
    expect(readdirSync(folder)).toEqual(before);
  });
});

describe('verifying against a checkpoint kept elsewhere', () => {
  it('reports the chain truncated after delete from audit_event where seq > 2, which the links alone cannot show', async () => {
    const tenant = await tenantWithHistory();
    const note = await checkpointNote(tenant);
    expect(await verification(tenant, note)).toMatchObject({ ok: true, chainOk: true, checkpoint: { problem: null } });

    await tamper(['delete from audit_event where tenant = ? and seq > 2', tenant.name]);
    const result = await verification(tenant, note);
    expect(result).toMatchObject({ ok: false, chainOk: true, checked: 2, brokenAt: null });
    expect(result.checkpoint).toMatchObject({ problem: 'truncated', chainSize: 2, size: 10 });
  });

  it('reports the chain re-hashed after an event is edited and every later one re-hashed', async () => {
    const tenant = await tenantWithHistory();
    const note = await checkpointNote(tenant);
    const events = await tenant.auditor.allAuditEvents();

    // Edit event 2 (the vote's comment) and re-hash it and every later event, as an attacker with the file would.
    await server.app.gate.whenIdle();
    const database = openDatabaseFile(server);
    const rows = database
      .prepare('select id, seq, type, approval_id, actor, previous_status, new_status, details, occurred_at, hash from audit_event where tenant = ? order by seq')
      .all(tenant.name) as Record<string, any>[];
    database.close();
    let previousHash = rows[0]!['hash'] as string;
    const statements: [string, ...unknown[]][] = [];
    for (const row of rows.slice(1)) {
      const details = JSON.parse(row['details']);
      if (row['seq'] === 2) details.comment = 'approved by the CFO in person';
      const hash = auditEventHash(previousHash, {
        id: row['id'],
        tenant: tenant.name,
        seq: row['seq'],
        type: row['type'],
        approvalId: row['approval_id'],
        actor: row['actor'],
        previousStatus: row['previous_status'],
        newStatus: row['new_status'],
        details,
        occurredAt: new Date(row['occurred_at']),
      });
      statements.push(['update audit_event set details = ?, previous_hash = ?, hash = ? where id = ?', JSON.stringify(details), previousHash, hash, row['id']]);
      previousHash = hash;
    }
    await tamper(...statements);

    const result = await verification(tenant, note);
    expect(result).toMatchObject({ ok: false, chainOk: true, checked: events.length, stateMismatchCount: 0 });
    expect(result.checkpoint).toMatchObject({ problem: 'rehashed', size: events.length, chainSize: events.length, headHash: events.at(-1)?.hash });
    expect(result.checkpoint.hashAtSize).toBe(previousHash);
  });

  it('refuses a checkpoint that was altered, or is of another tenant, with INVALID_INPUT', async () => {
    const tenant = await tenantWithHistory();
    const other = await tenantWithHistory();
    const note = await checkpointNote(tenant);
    const lines = note.split('\n');
    lines[1] = String(Number(lines[1]) - 1);
    expect(await verification(tenant, lines.join('\n'))).toMatchObject({ code: 'INVALID_INPUT', field: 'checkpoint', problem: expect.stringMatching(/does not verify/) });
    expect(await verification(other, note)).toMatchObject({ code: 'INVALID_INPUT', field: 'checkpoint', problem: expect.stringMatching(/another chain/) });
    expect(await verification(tenant, 'not a note')).toMatchObject({ code: 'INVALID_INPUT', field: 'checkpoint' });
  });

  it('works from the command line: audit checkpoint writes one, audit verify --checkpoint reports truncation', async () => {
    const tenant = await tenantWithHistory();
    const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-checkpoint-'));
    try {
      const file = join(dir, 'acme.checkpoint');
      const taken = await cli(['audit', 'checkpoint', '--out', file], tenant.auditor.bearer as string);
      expect(taken.code, taken.stderr).toBe(0);
      expect(await verifyAsOutsider(readFileSync(file, 'utf8'))).toMatchObject({ size: 10 });
      await tamper(['delete from audit_event where tenant = ? and seq > 2', tenant.name]);
      const verified = await cli(['audit', 'verify', '--checkpoint', file], tenant.auditor.bearer as string);
      expect(verified.code).toBe(1);
      expect(verified.stdout).toContain('TRUNCATED: the checkpoint of');
      expect(verified.stdout).toContain('saw 10 event(s); the chain now has 2.');
      expect(verified.stdout).toContain('Audit NOT verified.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('state cross-checked with the trail', () => {
  it('reports an EXECUTED approval whose trail lacks executed, a REJECTED one shown APPROVED, and a deleted approval', async () => {
    const tenant = await freshTenant(server);
    const approved = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    expectType(await tenant.approver.decide(approved.approval.id), 'Approval');
    const rejected = await request(tenant.agent, { ...PAYMENT_ONE_APPROVER, resource: 'invoice/R' }, 'PENDING');
    expectType(await tenant.approver.decide(rejected.approval.id, 'REJECT'), 'Approval');
    const gone = await request(tenant.agent, { ...PAYMENT_ONE_APPROVER, resource: 'invoice/G' }, 'PENDING');
    expect(await verification(tenant)).toMatchObject({ ok: true, stateMismatchCount: 0, stateMismatches: [] });

    await tamper(
      ["update approval set status = 'EXECUTED' where id = ?", approved.approval.id],
      ["update approval set status = 'APPROVED' where id = ?", rejected.approval.id],
      ['delete from approval where id = ?', gone.approval.id],
    );
    const result = await verification(tenant);
    expect(result).toMatchObject({ ok: false, chainOk: true, stateMismatchCount: 3 });
    expect(result.stateMismatches).toEqual(
      expect.arrayContaining([
        { approvalId: approved.approval.id, status: 'EXECUTED', trailStatus: 'APPROVED' },
        { approvalId: rejected.approval.id, status: 'APPROVED', trailStatus: 'REJECTED' },
        { approvalId: gone.approval.id, status: null, trailStatus: 'PENDING' },
      ]),
    );
  });

  it('reads the whole trail for the cross-check when the walk stops at a broken link', async () => {
    const tenant = await tenantWithHistory();
    await tamper(["update audit_event set actor = 'someone-else' where tenant = ? and seq = 2", tenant.name]);
    // The walk stops at event 2; the approvals' trails past it are read all the same, and agree.
    expect(await verification(tenant)).toMatchObject({ ok: false, chainOk: false, brokenAt: { seq: 2, reason: 'hash_mismatch' }, stateMismatchCount: 0 });
  });
});

/** Runs `countersign ARGS` against the server as `token`. */
const cli = (args: string[], token: string) => runCli(server, args, token);
