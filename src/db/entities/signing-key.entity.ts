import { EntitySchema, type Opt } from '@mikro-orm/core';

/**
 * A decision-token signing key. The newest active key signs; a retired key stops signing
 * but its public half stays published until `publishUntil`, when its last token has expired.
 */
export class SigningKeyRecord {
  retiredAt: Date | null = null;
  publishUntil: Date | null = null;

  constructor(
    public kid: string,
    public privateJwk: Record<string, unknown>,
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
