import { EntitySchema, type Opt } from '@mikro-orm/core';

/** A private JWK sealed under the key-encryption key (sealed-secret.ts), bound to its kid. */
export interface SealedPrivateKey {
  sealed: string;
}

/**
 * A decision-token signing key; its private half is stored sealed, never in plaintext. The newest active key signs; a retired key stops signing
 * but its public half stays published until `publishUntil`, when its last token has expired.
 */
export class SigningKeyRecord {
  retiredAt: Date | null = null;
  publishUntil: Date | null = null;

  constructor(
    public kid: string,
    /** Sealed ({@link SealedPrivateKey}); a plaintext JWK only in a database from before sealing, until it starts. */
    public privateJwk: SealedPrivateKey | Record<string, unknown>,
    public publicJwk: Record<string, unknown>,
    public createdAt: Date,
  ) {}
}

export const SigningKeySchema = new EntitySchema<SigningKeyRecord>({
  class: SigningKeyRecord,
  tableName: 'signing_key',
  properties: {
    kid: { type: 'string', primary: true, length: 64 },
    privateJwk: { type: 'json' },
    publicJwk: { type: 'json' },
    createdAt: { type: 'datetime' },
    retiredAt: { type: 'datetime', nullable: true },
    publishUntil: { type: 'datetime', nullable: true },
  },
});
