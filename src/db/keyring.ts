import type { MikroORM } from '@mikro-orm/core';
import type { JWK } from 'jose';
import { generateSigningKey, publicJwks, type SigningKey } from '../domain/decision-token.js';
import { openSecret, sealSecret } from '../domain/sealed-secret.js';
import { Approval } from './entities/approval.entity.js';
import { SigningKeyRecord, type SealedPrivateKey } from './entities/signing-key.entity.js';
import { lockWriters, oneAtATime, scrubFreedPages } from './orm.js';
import { inTransaction } from './transaction.js';

/** Where a signing key's sealed private half belongs: sealed for one row, it opens in no other. */
export const signingKeyAad = (kid: string): string => `signing_key:${kid}`;

/** The private JWK sealed under the key-encryption key, as the `private_jwk` column holds it. */
export function sealPrivateKey(keyEncryptionKey: Uint8Array, kid: string, privateJwk: JWK): SealedPrivateKey {
  return { sealed: sealSecret(keyEncryptionKey, JSON.stringify(privateJwk), signingKeyAad(kid)) };
}

/** Whether a stored private key is still the plaintext JWK of a database from before sealing. */
export const isPlaintextPrivateKey = (stored: SigningKeyRecord['privateJwk']): boolean => typeof (stored as { sealed?: unknown }).sealed !== 'string';

/** Opens a sealed private key; throws SealedSecretError under another key-encryption key. */
export function openPrivateKey(keyEncryptionKey: Uint8Array, record: SigningKeyRecord): JWK {
  const { sealed } = record.privateJwk as SealedPrivateKey;
  return JSON.parse(openSecret(keyEncryptionKey, sealed, signingKeyAad(record.kid))) as JWK;
}

/** The stored signing keys were sealed under another key-encryption key than the one configured. */
export class KeyEncryptionKeyMismatchError extends Error {
  readonly code = 'KEY_ENCRYPTION_KEY_MISMATCH';
  constructor(
    readonly kid: string,
    options?: ErrorOptions,
  ) {
    super(
      `signing key ${kid} does not open with the configured key-encryption key (COUNTERSIGN_KEY_ENCRYPTION_KEY or ` +
        'COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE): start with the key the database was sealed under (after `countersign keys rewrap`, the new one)',
      options,
    );
    this.name = 'KeyEncryptionKeyMismatchError';
  }
}

/**
 * The decision-token signing keys, persisted so tokens verify across restarts.
 * The newest unretired key signs; retired keys stay in the JWKS until their last token expires.
 */
export class KeyRing {
  private records: SigningKeyRecord[] = [];
  /** The opened private keys by kid: opening costs a decryption, and signing is on the request path. */
  private readonly opened = new Map<string, JWK>();
  /**
   * Per key id, the latest expiry of a token this process has signed with it. A token is signed
   * before its approval commits, and another process may retire the key meanwhile, so the
   * committed approvals alone cannot say how long a retired key must stay published.
   */
  private readonly signedUntil = new Map<string, Date>();
  private generation = 0;

  private constructor(
    private readonly orm: MikroORM,
    private readonly keyEncryptionKey: Uint8Array,
  ) {}

  /**
   * Loads the keys, creating the first one on a fresh database. Private keys rest sealed under
   * `keyEncryptionKey` (AES-256-GCM, see sealed-secret.ts); plaintext ones, from a database
   * written before keys were sealed, are sealed here. Returns, with the ring, how many were.
   */
  static async open(orm: MikroORM, keyEncryptionKey: Uint8Array): Promise<KeyRing> {
    const ring = new KeyRing(orm, keyEncryptionKey);
    // Instances starting together on a fresh shared database must agree on one first key.
    await oneAtATime(orm, 'first-signing-key', async () => {
      if ((await sealPlaintextKeys(orm, keyEncryptionKey)) > 0) await scrubFreedPages(orm);
      await ring.refresh();
      if (!ring.records.some((record) => record.retiredAt === null)) await ring.rotate();
    });
    // A key that does not open (another key-encryption key) must stop the start, not the first approval.
    for (const record of ring.records) {
      try {
        ring.privateKeyOf(record);
      } catch (error) {
        throw new KeyEncryptionKeyMismatchError(record.kid, { cause: error });
      }
    }
    return ring;
  }

  /** The key that signs new tokens. */
  get signingKey(): SigningKey {
    const active = this.records.filter((record) => record.retiredAt === null).at(-1);
    if (!active) throw new Error('no active signing key');
    return this.toSigningKey(active);
  }

  /** The key that signed a token: to sign the same claims again, re-creating that token. */
  signingKeyById(kid: string): SigningKey | null {
    const record = this.records.find((candidate) => candidate.kid === kid);
    return record ? this.toSigningKey(record) : null;
  }

  /** The public half of any key this database ever held (retired ones too), by kid. */
  publicKeyById(kid: string): JWK | null {
    const record = this.records.find((candidate) => candidate.kid === kid);
    return record ? (record.publicJwk as JWK) : null;
  }

  private toSigningKey(record: SigningKeyRecord): SigningKey {
    return {
      kid: record.kid,
      privateJwk: this.privateKeyOf(record),
      publicJwk: record.publicJwk as JWK,
      createdAt: record.createdAt,
      retiresAt: record.retiredAt,
    };
  }

  private privateKeyOf(record: SigningKeyRecord): JWK {
    let jwk = this.opened.get(record.kid);
    if (!jwk) this.opened.set(record.kid, (jwk = openPrivateKey(this.keyEncryptionKey, record)));
    return jwk;
  }

  /** Changes whenever the set of keys does, so verifiers know when to rebuild their key set. */
  get version(): number {
    return this.generation;
  }

  /**
   * The key to sign a token that expires at `expiresAt`; the key stays published at least that long
   * even if it is retired before the token is used. Picking and noting happen in one step.
   */
  signingKeyFor(expiresAt: Date): SigningKey {
    const key = this.signingKey;
    this.signedUntil.set(key.kid, latest(this.signedUntil.get(key.kid), expiresAt) as Date);
    return key;
  }

  /** The public keys to publish: the active key and every retired key whose tokens may still be live. */
  jwks(now = new Date()): { keys: JWK[] } {
    const published = this.records.filter((record) => {
      const until = latest(record.publishUntil, this.signedUntil.get(record.kid));
      return record.retiredAt === null || (until !== null && until > now);
    });
    return publicJwks(
      published.map((record) => ({ kid: record.kid, privateJwk: {}, publicJwk: record.publicJwk as JWK, createdAt: record.createdAt })),
    );
  }

  /**
   * Adds a new signing key and retires the current one, which stays published until the last
   * token signed with it so far (committed or still on its way to the database) has expired.
   */
  async rotate(now = new Date()): Promise<SigningKey> {
    const key = await generateSigningKey(now);
    // Store the new key first and sign with it from the moment it is read back: every token signed
    // with an old key was noted in signedUntil before that, and none is signed with it after.
    // Keys are written past the unit of work, so that no flush enters an async context (see transaction.ts).
    await this.orm.em
      .fork()
      .insert(
        new SigningKeyRecord(key.kid, sealPrivateKey(this.keyEncryptionKey, key.kid, key.privateJwk), key.publicJwk as Record<string, unknown>, now),
      );
    await this.refresh();
    const em = this.orm.em.fork();
    const lastToken = await em.findOne(
      Approval,
      { tokenExpiresAt: { $gt: now } },
      { orderBy: { tokenExpiresAt: 'desc' }, fields: ['tokenExpiresAt'] },
    );
    await inTransaction(this.orm, async (tx) => {
      // The write lock first: a deferred transaction that reads and then writes fails at once with
      // SQLITE_BUSY when the running server committed in between, whatever the busy timeout.
      await lockWriters(tx);
      const retiring = await tx.find(SigningKeyRecord, { retiredAt: null, kid: { $ne: key.kid } }, { disableIdentityMap: true });
      for (const record of retiring) {
        const publishUntil = latest(now, lastToken?.tokenExpiresAt ?? null, this.signedUntil.get(record.kid));
        await tx.nativeUpdate(SigningKeyRecord, { kid: record.kid }, { retiredAt: now, publishUntil });
      }
    });
    await this.refresh();
    return key;
  }

  /**
   * Re-reads the keys, so that a rotation made by another process (`countersign keys rotate`)
   * is picked up without a restart. Returns true when the set changed.
   */
  async refresh(): Promise<boolean> {
    const em = this.orm.em.fork();
    const records = await em.find(SigningKeyRecord, {}, { orderBy: { createdAt: 'asc' }, disableIdentityMap: true });
    const fingerprint = (list: SigningKeyRecord[]) =>
      list.map((record) => `${record.kid}:${record.retiredAt?.getTime() ?? ''}:${record.publishUntil?.getTime() ?? ''}`).join(',');
    const changed = fingerprint(records) !== fingerprint(this.records);
    this.records = records;
    if (changed) this.generation++;
    // Another process may have retired a key this one signed with after the tokens it could see:
    // record how long those tokens live, so the key stays published across a restart too.
    const extended = records.filter((record) => {
      const signed = this.signedUntil.get(record.kid);
      return record.retiredAt !== null && signed !== undefined && (record.publishUntil === null || record.publishUntil < signed);
    });
    for (const record of extended) {
      record.publishUntil = this.signedUntil.get(record.kid) as Date;
      await em.nativeUpdate(SigningKeyRecord, { kid: record.kid }, { publishUntil: record.publishUntil });
    }
    return changed;
  }
}

/**
 * Seals every private key still stored as a plaintext JWK (a database from before keys were
 * sealed), in one transaction. Returns how many were sealed.
 */
export async function sealPlaintextKeys(orm: MikroORM, keyEncryptionKey: Uint8Array): Promise<number> {
  return inTransaction(orm, async (em) => {
    await lockWriters(em);
    const records = await em.find(SigningKeyRecord, {}, { disableIdentityMap: true });
    const plaintext = records.filter((record) => isPlaintextPrivateKey(record.privateJwk));
    for (const record of plaintext) {
      await em.nativeUpdate(SigningKeyRecord, { kid: record.kid }, { privateJwk: sealPrivateKey(keyEncryptionKey, record.kid, record.privateJwk as JWK) });
    }
    return plaintext.length;
  });
}

/** The latest of some optional instants, or null when none is given. */
function latest(...instants: (Date | null | undefined)[]): Date | null {
  let result: Date | null = null;
  for (const instant of instants) if (instant && (result === null || instant > result)) result = instant;
  return result;
}
