import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JWK,
} from 'jose';
import { describe, expect, it } from 'vitest';
import { databaseOptions, openDatabase } from '../../src/db/orm.js';
import { contextHash } from '../../src/domain/context-hash.js';
import { KeyRing } from '../../src/db/keyring.js';
import { startTestServer, type TestServer, useTestServer } from '../support/server.js';
import { allowedToken, executionOf, expectError, expectType, freshTenant, GateClient, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request, type ErrorCode, type Tenant } from '../support/gate.js';

const server = useTestServer();

const DECISION_TOKEN_TYPE = 'countersign-decision+jwt';

async function publishedKeys(): Promise<{ response: Response; keys: JWK[] }> {
  const response = await fetch(`${server.url}/.well-known/jwks.json`);
  return { response, keys: ((await response.json()) as { keys: JWK[] }).keys };
}

/** The tenant's audit events of `type`, asserting the refusal was recorded with its code and who tried. */
async function expectRefusalAudited(tenant: Tenant, type: string, code: ErrorCode, approvalId: string | null): Promise<void> {
  const events = await tenant.auditor.allAuditEvents({ type });
  expect(events, `${type} events`).toHaveLength(1);
  expect(events[0]).toMatchObject({ actor: tenant.agent.subject, approvalId, details: { code } });
  expect(expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true });
}

/** Replaces the payload segment of a compact JWS, keeping the original header and signature. */
function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
}

/** Signs the claims of `genuine` with a key this server never published. */
async function forgeWithForeignKey(genuine: string, kid: (thumbprint: string) => string): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const thumbprint = await calculateJwkThumbprint(await exportJWK(publicKey));
  return new SignJWT(decodeJwt(genuine))
    .setProtectedHeader({ alg: 'EdDSA', typ: DECISION_TOKEN_TYPE, kid: kid(thumbprint) })
    .sign(privateKey);
}

describe('a decision token', () => {
  it('executes once and is refused as replayed afterwards, the refusal audited', async () => {
    const tenant = await freshTenant(server);
    const { token, approval } = await allowedToken(tenant.agent);
    expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');

    expectError(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'TOKEN_REPLAYED');
    await expectRefusalAudited(tenant, 'replay_refused', 'TOKEN_REPLAYED', approval.id);
  });

  it('is refused when a payload character is flipped, the refusal audited', async () => {
    const tenant = await freshTenant(server);
    const { token } = await allowedToken(tenant.agent);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const position = Math.floor(payload.length / 2);
    const flipped = payload[position] === 'A' ? 'B' : 'A';
    const tampered = `${header}.${payload.slice(0, position)}${flipped}${payload.slice(position + 1)}.${signature}`;

    expect(expectError(await tenant.agent.execute(executionOf(tampered, QUICK_EMAIL)), 'TOKEN_INVALID').reason).toBe('signature');
    await expectRefusalAudited(tenant, 'token_refused', 'TOKEN_INVALID', null);
  });

  it('is refused when its claims are rewritten to approve another action, the refusal audited', async () => {
    const tenant = await freshTenant(server);
    const { token } = await allowedToken(tenant.agent);
    const wanted = { action: 'payment', resource: 'invoice/INV-9', context: { amount: 90_000 } };
    const rewritten = withPayload(token, {
      ...decodeJwt(token),
      action: wanted.action,
      ctx: contextHash({ tenant: tenant.name, ...wanted }),
    });

    expect(expectError(await tenant.agent.execute(executionOf(rewritten, wanted)), 'TOKEN_INVALID').reason).toBe('signature');
    await expectRefusalAudited(tenant, 'token_refused', 'TOKEN_INVALID', null);
  });

  it('is refused when signed by another key under the server key id, the refusal audited', async () => {
    const tenant = await freshTenant(server);
    const { token } = await allowedToken(tenant.agent);
    const serverKid = decodeProtectedHeader(token).kid as string;
    const forged = await forgeWithForeignKey(token, () => serverKid);

    expect(expectError(await tenant.agent.execute(executionOf(forged, QUICK_EMAIL)), 'TOKEN_INVALID').reason).toBe('signature');
    await expectRefusalAudited(tenant, 'token_refused', 'TOKEN_INVALID', null);
  });

  it('is refused when signed by another key under its own key id, the refusal audited', async () => {
    const tenant = await freshTenant(server);
    const { token } = await allowedToken(tenant.agent);
    const forged = await forgeWithForeignKey(token, (thumbprint) => thumbprint);

    expect(expectError(await tenant.agent.execute(executionOf(forged, QUICK_EMAIL)), 'TOKEN_INVALID').reason).toBe('unknown_key');
    await expectRefusalAudited(tenant, 'token_refused', 'TOKEN_INVALID', null);
  });

  it('is refused when its kid is full of SQL or path characters, which reach no query and no file', async () => {
    const tenant = await freshTenant(server);
    const { token } = await allowedToken(tenant.agent);
    const kids = ["x' OR '1'='1", '../../../../etc/passwd', "'; DROP TABLE signing_key; --", 'kid\u0000'];
    for (const kid of kids) {
      const forged = await forgeWithForeignKey(token, () => kid);
      expect(expectError(await tenant.agent.execute(executionOf(forged, QUICK_EMAIL)), 'TOKEN_INVALID').reason, kid).toBe('unknown_key');
    }
    // Every refusal was recorded, the chain is whole, and the genuine token still executes once.
    expect(await tenant.auditor.allAuditEvents({ type: 'token_refused' })).toHaveLength(kids.length);
    expect(expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true });
    expect(expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload').execution?.status).toBe('STARTED');
  });

  it('is refused once expired: it lives no longer than its request, the refusal audited', async () => {
    const tenant = await freshTenant(server);
    const { token, approval } = await allowedToken(tenant.agent, { ...QUICK_EMAIL, ttlSeconds: 1 });
    expect(Date.parse(approval.tokenExpiresAt as string)).toBeLessThanOrEqual(Date.parse(approval.expiresAt));
    const { exp } = decodeJwt(token);
    server.clock.advance(Math.max(0, (exp as number) * 1000 - server.clock.now().getTime()) + 100);

    const refused = expectError(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'TOKEN_EXPIRED');
    expect(Date.parse(refused.expiredAt as string)).toBe((exp as number) * 1000);
    await expectRefusalAudited(tenant, 'token_refused', 'TOKEN_EXPIRED', null);
  });

  it.each([
    ['context', { context: { ...QUICK_EMAIL.context, to: 'attacker@example.com' } }],
    ['resource', { resource: 'ticket/43' }],
    ['action', { action: 'follow_up' }],
    ['context, by an added member', { context: { ...QUICK_EMAIL.context, bcc: 'attacker@example.com' } }],
  ])('is refused when presented with a changed %s, the refusal audited, and still executes the approved one', async (_what, change) => {
    const tenant = await freshTenant(server);
    const { token, approval } = await allowedToken(tenant.agent);
    const presented = { ...QUICK_EMAIL, ...change };

    const mismatch = expectError(await tenant.agent.execute(executionOf(token, presented)), 'CONTEXT_MISMATCH');
    expect(mismatch.expectedHash).toBe(approval.contextHash);
    expect(mismatch.presentedHash).toBe(contextHash({ tenant: tenant.name, ...presented }));
    await expectRefusalAudited(tenant, 'context_mismatch', 'CONTEXT_MISMATCH', approval.id);

    // A refused attempt does not burn the token for its rightful use.
    expect(expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload').approval.status).toBe('EXECUTED');
  });

  it('accepts the approved context with its members in another order', async () => {
    const { agent } = await freshTenant(server);
    const requested = { ...QUICK_EMAIL, context: { to: 'a@example.com', body: { lines: ['hi', 'bye'], signature: true } } };
    const { token } = await allowedToken(agent, requested);
    const reordered = { ...requested, context: { body: { signature: true, lines: ['hi', 'bye'] }, to: 'a@example.com' } };
    expectType(await agent.execute(executionOf(token, reordered)), 'ExecutePayload');
  });

  it('is refused in another tenant, the refusal audited in the tenant that presented it', async () => {
    const owner = await freshTenant(server, 'owner');
    const intruder = await freshTenant(server, 'intruder');
    const { token } = await allowedToken(owner.agent);

    expectError(await intruder.agent.execute(executionOf(token, QUICK_EMAIL)), 'TOKEN_INVALID');
    await expectRefusalAudited(intruder, 'token_refused', 'TOKEN_INVALID', null);
    expect(await owner.auditor.allAuditEvents({ type: 'token_refused' })).toEqual([]);
    expectType(await owner.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
  });

  it('stays consumed after a failed execution: a retry is refused as replayed', async () => {
    const tenant = await freshTenant(server);
    const { token } = await allowedToken(tenant.agent);
    const started = expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    expectType(await tenant.agent.completeExecution(started.execution?.id as string, 'FAILED'), 'ExecutePayload');
    expectError(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'TOKEN_REPLAYED');
  });
});

describe('the context hash', () => {
  it('is the SHA-256 of the RFC 8785 canonical form of tenant, action, resource and context', async () => {
    const { agent, name } = await freshTenant(server);
    const requested = {
      action: 'email_response',
      resource: 'ticket/7',
      // Unsorted members, nesting, a non-ASCII string, a float and a number JCS writes in exponent form.
      // (a small one: integers beyond ±(2^53−1), such as 1e21, are refused as I-JSON requires).
      context: { z: 1, a: { c: [1, 2.5, 'café'], b: null }, tiny: 1e-7, flag: false },
      estimatedDurationMinutes: 5,
    };
    const { approval, token } = await allowedToken(agent, requested);

    const canonical =
      '{"action":"email_response","context":{"a":{"b":null,"c":[1,2.5,"café"]},"flag":false,"tiny":1e-7,"z":1},' +
      `"resource":"ticket/7","tenant":"${name}"}`;
    const worked = createHash('sha256').update(canonical, 'utf8').digest('hex');
    expect(approval.contextHash).toBe(worked);
    expect(contextHash({ tenant: name, action: requested.action, resource: requested.resource, context: requested.context })).toBe(worked);
    expect(decodeJwt(token).ctx).toBe(worked);
  });

  it('writes an absent resource as null', async () => {
    const { agent, name } = await freshTenant(server);
    const { approval } = await request(agent, { action: 'payment', context: { amount: 1500 } });
    const canonical = `{"action":"payment","context":{"amount":1500},"resource":null,"tenant":"${name}"}`;
    expect(approval.contextHash).toBe(createHash('sha256').update(canonical).digest('hex'));
  });
});

describe('the JWKS endpoint', () => {
  it('publishes the public key whose kid is in the token header, and it verifies the token', async () => {
    const { agent } = await freshTenant(server);
    const { token, approval } = await allowedToken(agent);
    const { kid, typ, alg } = decodeProtectedHeader(token);
    expect({ typ, alg }).toEqual({ typ: DECISION_TOKEN_TYPE, alg: 'EdDSA' });

    const { response, keys } = await publishedKeys();
    expect(response.headers.get('content-type')).toContain('application/jwk-set+json');
    const published = keys.find((key) => key.kid === kid);
    expect(published).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    for (const key of keys) expect(key).not.toHaveProperty('d');

    // What an executor's verifier does: fetch the JWKS and check signature, typ, issuer and audience.
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), {
      typ: DECISION_TOKEN_TYPE,
      issuer: server.config.issuer,
      audience: server.config.tokenAudience,
    });
    expect(payload).toMatchObject({ sub: approval.id, action: 'email_response', ctx: approval.contextHash });
  });
});

describe('key rotation', () => {
  it('signs new tokens with the new key while the old key stays published and its tokens stay valid', async () => {
    const { agent } = await freshTenant(server);
    const before = await allowedToken(agent);
    const oldKid = decodeProtectedHeader(before.token).kid as string;

    const newKid = await server.app.gate.rotateSigningKey();
    expect(newKid).not.toBe(oldKid);
    const after = await allowedToken(agent);
    expect(decodeProtectedHeader(after.token).kid).toBe(newKid);

    const kids = (await publishedKeys()).keys.map((key) => key.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));

    const remote = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    for (const { token } of [before, after]) {
      await expect(jwtVerify(token, remote, { typ: DECISION_TOKEN_TYPE })).resolves.toBeDefined();
    }
    expectType(await agent.execute(executionOf(before.token, QUICK_EMAIL)), 'ExecutePayload');
    expectType(await agent.execute(executionOf(after.token, QUICK_EMAIL)), 'ExecutePayload');
  });

  it('keeps tokens valid that the server signed with the old key before it noticed a rotation by another process', async () => {
    // A server of its own: with no live token anywhere, nothing else keeps the old key published.
    const isolated = await startTestServer({ expirySweepMs: 3_600_000 });
    let current = isolated;
    const kidsOn = async (on: TestServer) =>
      ((await (await fetch(`${on.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] }).keys.map((key) => key.kid);
    try {
      const { agent } = await freshTenant(isolated);
      const [oldKid] = await kidsOn(isolated);

      // What `countersign keys rotate` does, from its own connection to the database.
      const cli = await openDatabase(databaseOptions(isolated.config));
      try {
        await (await KeyRing.open(cli, isolated.config.keyEncryptionKey)).rotate();
      } finally {
        await cli.close(true);
      }
      // Until its next refresh the server still signs with the key it has.
      const first = await allowedToken(agent);
      const second = await allowedToken(agent);
      expect([first.token, second.token].map((token) => decodeProtectedHeader(token).kid)).toEqual([oldKid, oldKid]);
      await isolated.app.gate.refreshSigningKeys();

      expect(await kidsOn(isolated)).toContain(oldKid);
      expectType(await agent.execute(executionOf(first.token, QUICK_EMAIL)), 'ExecutePayload');

      // A restart forgets what the server knew in memory; the key must stay published all the same.
      await isolated.stop();
      current = await isolated.restart();
      expect(await kidsOn(current)).toContain(oldKid);
      const sameAgent = new GateClient(current, agent.subject, agent.tenant, agent.bearer);
      expectType(await sameAgent.execute(executionOf(second.token, QUICK_EMAIL)), 'ExecutePayload');
    } finally {
      await current.close();
    }
  });

  it('keeps tokens approved by people before a rotation redeemable after it', async () => {
    const { agent, approver } = await freshTenant(server);
    const { approval } = await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');
    expectType(await approver.decide(approval.id), 'Approval');
    const token = expectType(await agent.approval(approval.id), 'Approval').decisionToken as string;

    await server.app.gate.rotateSigningKey();

    expect((await publishedKeys()).keys.map((key) => key.kid)).toContain(decodeProtectedHeader(token).kid);
    expectType(await agent.execute(executionOf(token, PAYMENT_ONE_APPROVER)), 'ExecutePayload');
  });
});
