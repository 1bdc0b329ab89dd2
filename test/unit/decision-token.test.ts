import { createHmac } from 'node:crypto';

import {
  SignJWT,
  base64url,
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  importJWK,
  type JWTPayload,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  DECISION_TOKEN_TYPE,
  generateSigningKey,
  publicJwks,
  signDecisionToken,
  verifyDecisionToken,
  type DecisionClaims,
  type SigningKey,
  type VerifyDecisionTokenOptions,
} from '../../src/domain/decision-token.js';
import {
  ContextMismatchError,
  TokenExpiredError,
  TokenInvalidError,
  type TokenInvalidReason,
} from '../../src/domain/errors.js';

const ISSUER = 'https://countersign.example';
const AUDIENCE = 'countersign-agents';
const CONTEXT_HASH = 'b5aa62896a7efc845aeff5054bbbbe9755b50540f8118bbf180331a5b2135c42';
const ISSUED_AT = new Date('2025-01-01T12:00:00Z');
const EXPIRES_AT = new Date('2025-01-01T12:05:00Z');
const DURING_VALIDITY = new Date('2025-01-01T12:01:00Z');

const claims: DecisionClaims = {
  approvalId: 'apr_123',
  tenant: 'acme',
  action: 'payments.refund',
  contextHash: CONTEXT_HASH,
  policyRevision: 'rev-42',
  issuer: ISSUER,
  audience: AUDIENCE,
  jti: 'jti-0001',
  issuedAt: ISSUED_AT,
  expiresAt: EXPIRES_AT,
};

let signingKey: SigningKey;
let otherKey: SigningKey;
let options: VerifyDecisionTokenOptions;

beforeAll(async () => {
  signingKey = await generateSigningKey(ISSUED_AT);
  otherKey = await generateSigningKey(ISSUED_AT);
  options = {
    keys: createLocalJWKSet(publicJwks([signingKey])),
    issuer: ISSUER,
    audience: AUDIENCE,
    now: DURING_VALIDITY,
  };
});

/** The payload a genuine token carries, for forging variants of it. */
function genuinePayload(): JWTPayload {
  return {
    iss: ISSUER,
    sub: claims.approvalId,
    aud: AUDIENCE,
    jti: claims.jti,
    iat: ISSUED_AT.getTime() / 1000,
    exp: EXPIRES_AT.getTime() / 1000,
    tenant: claims.tenant,
    action: claims.action,
    ctx: CONTEXT_HASH,
    policy_rev: claims.policyRevision,
  };
}

/** Signs an arbitrary header and payload with `key`, bypassing signDecisionToken's discipline. */
async function signRaw(key: SigningKey, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, 'EdDSA');
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', typ: DECISION_TOKEN_TYPE, kid: key.kid, ...header })
    .sign(privateKey);
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

async function refusalOf(token: string, overrides: Partial<VerifyDecisionTokenOptions> = {}): Promise<unknown> {
  try {
    await verifyDecisionToken(token, { ...options, ...overrides });
  } catch (error) {
    return error;
  }
  throw new Error('expected the token to be refused');
}

async function expectInvalid(
  token: string,
  reason: TokenInvalidReason,
  overrides: Partial<VerifyDecisionTokenOptions> = {},
): Promise<void> {
  const error = await refusalOf(token, overrides);
  expect(error).toBeInstanceOf(TokenInvalidError);
  expect((error as TokenInvalidError).code).toBe('TOKEN_INVALID');
  expect((error as TokenInvalidError).reason).toBe(reason);
}

describe('generateSigningKey', () => {
  it('names the key by the RFC 7638 thumbprint of its public half', async () => {
    expect(signingKey.kid).toBe(await calculateJwkThumbprint(signingKey.publicJwk));
    expect(signingKey.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: signingKey.kid, alg: 'EdDSA', use: 'sig' });
    expect(signingKey.createdAt).toEqual(ISSUED_AT);
    expect(otherKey.kid).not.toBe(signingKey.kid);
  });
});

describe('publicJwks', () => {
  it('publishes public keys only', () => {
    const withLeakyPublicHalf = { ...signingKey, publicJwk: { ...signingKey.privateJwk } };
    const { keys } = publicJwks([withLeakyPublicHalf, otherKey]);
    expect(keys.map((key) => key.kid)).toEqual([signingKey.kid, otherKey.kid]);
    for (const key of keys) expect(key).not.toHaveProperty('d');
  });
});

describe('verifyDecisionToken', () => {
  it('accepts a token it signed and returns its claims', async () => {
    const token = await signDecisionToken(signingKey, claims);
    const verified = await verifyDecisionToken(token, { ...options, expectedContextHash: CONTEXT_HASH });
    expect(verified).toEqual({ ...claims, kid: signingKey.kid });
  });

  it('writes the documented header and claims into the token', async () => {
    const token = await signDecisionToken(signingKey, claims);
    const [header, payload] = token.split('.') as [string, string];
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(header)))).toEqual({
      alg: 'EdDSA',
      typ: DECISION_TOKEN_TYPE,
      kid: signingKey.kid,
    });
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(payload)))).toEqual(genuinePayload());
  });

  it("writes the very bytes jose's SignJWT writes for the same key and claims", async () => {
    const payload = {
      tenant: claims.tenant,
      action: claims.action,
      ctx: CONTEXT_HASH,
      policy_rev: claims.policyRevision,
    };
    const byJose = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: DECISION_TOKEN_TYPE, kid: signingKey.kid })
      .setIssuer(ISSUER)
      .setSubject(claims.approvalId)
      .setAudience(AUDIENCE)
      .setJti(claims.jti)
      .setIssuedAt(ISSUED_AT)
      .setExpirationTime(EXPIRES_AT)
      .sign(await importJWK(signingKey.privateJwk, 'EdDSA'));
    expect(await signDecisionToken(signingKey, claims)).toBe(byJose);
  });

  it('refuses a private key that is not Ed25519 with a typed error', async () => {
    const broken: SigningKey = { ...otherKey, kid: 'broken', privateJwk: { ...otherKey.privateJwk, d: 'AA' } };
    await expect(signDecisionToken(broken, claims)).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'signingKey.privateJwk' });
  });

  it('signs repeatedly with the same key', async () => {
    const tokens = await Promise.all([1, 2, 3].map((n) => signDecisionToken(signingKey, { ...claims, jti: `jti-${n}` })));
    for (const token of tokens) await expect(verifyDecisionToken(token, options)).resolves.toBeDefined();
  });

  it('never signs with a cached key that belongs to another private key under the same kid', async () => {
    await signDecisionToken(signingKey, claims);
    const impostor: SigningKey = { ...otherKey, kid: signingKey.kid };
    await expectInvalid(await signDecisionToken(impostor, claims), 'signature');
  });

  it('refuses a token whose payload was tampered with', async () => {
    const [header, , signature] = (await signDecisionToken(signingKey, claims)).split('.');
    const tampered = `${header}.${encodeJson({ ...genuinePayload(), tenant: 'evil-corp' })}.${signature}`;
    await expectInvalid(tampered, 'signature');
  });

  it('refuses a token whose typ is not a decision token', async () => {
    await expectInvalid(await signRaw(signingKey, genuinePayload(), { typ: 'JWT' }), 'typ');
  });

  it('refuses a token without typ', async () => {
    await expectInvalid(await signRaw(signingKey, genuinePayload(), { typ: undefined }), 'typ');
  });

  it('refuses a token from another issuer', async () => {
    await expectInvalid(await signDecisionToken(signingKey, claims), 'issuer', { issuer: 'https://other.example' });
  });

  it('refuses a token meant for another audience', async () => {
    await expectInvalid(await signDecisionToken(signingKey, claims), 'audience', { audience: 'someone-else' });
  });

  it('refuses an expired token and says when it expired', async () => {
    const token = await signDecisionToken(signingKey, claims);
    const error = await refusalOf(token, { now: EXPIRES_AT });
    expect(error).toBeInstanceOf(TokenExpiredError);
    expect((error as TokenExpiredError).code).toBe('TOKEN_EXPIRED');
    expect((error as TokenExpiredError).expiredAt).toEqual(EXPIRES_AT);
  });

  it('accepts a just-expired token within the configured clock tolerance', async () => {
    const token = await signDecisionToken(signingKey, claims);
    const justAfter = new Date(EXPIRES_AT.getTime() + 2000);
    await expect(verifyDecisionToken(token, { ...options, now: justAfter, clockToleranceSeconds: 5 })).resolves.toBeDefined();
  });

  it('refuses a token signed by a key that is not published', async () => {
    await expectInvalid(await signDecisionToken(otherKey, claims), 'unknown_key');
  });

  it('refuses a token signed by another key that claims a published kid', async () => {
    await expectInvalid(await signRaw(otherKey, genuinePayload(), { kid: signingKey.kid }), 'signature');
  });

  it('refuses a token without kid', async () => {
    await expectInvalid(await signRaw(signingKey, genuinePayload(), { kid: undefined }), 'unknown_key');
  });

  it('refuses an unsecured token with alg none', async () => {
    const header = encodeJson({ alg: 'none', typ: DECISION_TOKEN_TYPE, kid: signingKey.kid });
    await expectInvalid(`${header}.${encodeJson(genuinePayload())}.`, 'algorithm');
  });

  it('refuses an HS256 token forged with the public key as the HMAC secret', async () => {
    const header = encodeJson({ alg: 'HS256', typ: DECISION_TOKEN_TYPE, kid: signingKey.kid });
    const signingInput = `${header}.${encodeJson(genuinePayload())}`;
    const secret = base64url.decode(signingKey.publicJwk.x as string);
    const mac = createHmac('sha256', secret).update(signingInput).digest();
    await expectInvalid(`${signingInput}.${base64url.encode(mac)}`, 'algorithm');
  });

  it('refuses a token bound to a different context', async () => {
    const token = await signDecisionToken(signingKey, claims);
    const otherContext = 'a'.repeat(64);
    const error = await refusalOf(token, { expectedContextHash: otherContext });
    expect(error).toBeInstanceOf(ContextMismatchError);
    expect(error).toMatchObject({ code: 'CONTEXT_MISMATCH', expectedHash: otherContext, presentedHash: CONTEXT_HASH });
  });

  it('refuses a genuine token that lacks a required claim', async () => {
    const { ctx: _ctx, ...withoutContext } = genuinePayload();
    await expectInvalid(await signRaw(signingKey, withoutContext), 'claims');
  });

  it('refuses a genuine token whose claims have the wrong shape', async () => {
    await expectInvalid(await signRaw(signingKey, { ...genuinePayload(), ctx: 'not-a-hash' }), 'claims');
    await expectInvalid(await signRaw(signingKey, { ...genuinePayload(), tenant: 7 }), 'claims');
  });

  it('refuses strings that are not tokens at all', async () => {
    await expectInvalid('not-a-token', 'malformed');
    await expectInvalid('a.b.c', 'malformed');
    await expectInvalid('', 'malformed');
  });

  it('accepts a remote JWKS as its key resolver', () => {
    const keys: VerifyDecisionTokenOptions['keys'] = createRemoteJWKSet(new URL('https://countersign.example/.well-known/jwks.json'));
    expect(typeof keys).toBe('function');
  });
});
