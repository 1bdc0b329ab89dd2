import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { RefusedError, TransportError, contextHash, verifyDecisionTokenOffline, type OfflineVerificationOptions } from '../../src/client/index.js';
import { generateSigningKey, signDecisionToken } from '../../src/domain/decision-token.js';
import { decide, request, uniqueTenant } from '../support/clients.js';
import { useTestServer } from '../support/server.js';

const server = useTestServer();
let tenant: string;
let genuine: string;

const action = 'payment';
const resource = 'invoice-42';
const context = { amount: 1500, currency: 'EUR', payee: { iban: 'DE89370400440532013000', name: 'ACME' } };

beforeAll(async () => {
  tenant = uniqueTenant('verify');
  const agent = await server.token('agent-1', tenant, ['agent']);
  const approver = await server.token('bob', tenant, ['approver']);
  const { id } = await request(server, agent, { action, resource, context });
  await decide(server, approver, id, 'APPROVE');
  const read = await server.gql(agent, 'query ($id: ID!) { approval(id: $id) { ... on Approval { decisionToken } } }', { id });
  genuine = read.data.approval.decisionToken;
});

function options(overrides: Partial<OfflineVerificationOptions> = {}): OfflineVerificationOptions {
  return {
    token: genuine,
    action,
    resource,
    context,
    tenant,
    jwksUrl: `${server.url}/.well-known/jwks.json`,
    issuer: server.config.issuer,
    audience: server.config.tokenAudience,
    ...overrides,
  };
}

async function refusal(verification: Promise<unknown>): Promise<RefusedError> {
  const error = await verification.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RefusedError);
  return error as RefusedError;
}

describe('verifyDecisionTokenOffline', () => {
  it('accepts a genuine token for the approved action, whatever the key order of its context', async () => {
    const reordered = { payee: { name: 'ACME', iban: 'DE89370400440532013000' }, currency: 'EUR', amount: 1500 };
    const decision = await verifyDecisionTokenOffline(options({ context: reordered }));
    expect(decision).toMatchObject({ tenant, action, contextHash: contextHash({ tenant, action, resource, context }) });
    expect(decision.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('accepts a genuine token against a JWKS document held locally', async () => {
    const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
    const decision = await verifyDecisionTokenOffline(options({ jwksUrl: undefined, jwks }));
    expect(decision.action).toBe(action);
  });

  it('refuses a tampered token', async () => {
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url');
    const error = await refusal(verifyDecisionTokenOffline(options({ token: `${header}.${forgedPayload}.${signature}` })));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(error.details['reason']).toBe('signature');
  });

  it('refuses a token signed by a key the server never published', async () => {
    const stranger = await generateSigningKey();
    const forged = await signDecisionToken(stranger, {
      approvalId: randomUUID(),
      tenant,
      action,
      contextHash: contextHash({ tenant, action, resource, context }),
      policyRevision: 'forged',
      issuer: server.config.issuer,
      audience: server.config.tokenAudience,
      jti: randomUUID(),
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });
    const error = await refusal(verifyDecisionTokenOffline(options({ token: forged })));
    expect(error).toMatchObject({ code: 'TOKEN_INVALID', details: { reason: 'unknown_key' } });
  });

  it('refuses a changed context, resource or tenant as a context mismatch', async () => {
    const changed = await refusal(verifyDecisionTokenOffline(options({ context: { ...context, amount: 15_000 } })));
    expect(changed.code).toBe('CONTEXT_MISMATCH');
    expect(changed.details['presentedHash']).toMatch(/^[0-9a-f]{64}$/);
    expect(changed.details['expectedHash']).not.toBe(changed.details['presentedHash']);
    expect((await refusal(verifyDecisionTokenOffline(options({ resource: 'invoice-43' })))).code).toBe('CONTEXT_MISMATCH');
    expect((await refusal(verifyDecisionTokenOffline(options({ tenant: `${tenant}-other` })))).code).toBe('CONTEXT_MISMATCH');
    expect((await refusal(verifyDecisionTokenOffline(options({ action: 'refund' })))).code).toBe('CONTEXT_MISMATCH');
  });

  it('refuses a token for another issuer or audience, and an expired one', async () => {
    expect(await refusal(verifyDecisionTokenOffline(options({ issuer: 'urn:someone-else' })))).toMatchObject({
      code: 'TOKEN_INVALID',
      details: { reason: 'issuer' },
    });
    expect(await refusal(verifyDecisionTokenOffline(options({ audience: 'urn:someone-else' })))).toMatchObject({
      code: 'TOKEN_INVALID',
      details: { reason: 'audience' },
    });
    const later = new Date(Date.now() + 24 * 3600 * 1000);
    const expired = await refusal(verifyDecisionTokenOffline(options({ now: later })));
    expect(expired.code).toBe('TOKEN_EXPIRED');
    expect(expired.details['expiredAt']).toEqual(expect.any(String));
  });

  it('reports keys it cannot fetch as a transport failure, not as a verdict on the token', async () => {
    const error = await verifyDecisionTokenOffline(options({ jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransportError);
  });
});
