import type { MikroORM } from '@mikro-orm/core';
import type { JWK } from 'jose';
import { generateSigningKey, publicJwks, type SigningKey } from '../domain/decision-token.js';
import { Approval } from '../db/entities/approval.entity.js';
import { SigningKeyRecord } from '../db/entities/signing-key.entity.js';

const toSigningKey = (record: SigningKeyRecord): SigningKey => ({
  kid: record.kid,
  privateJwk: record.privateJwk as JWK,
  publicJwk: record.publicJwk as JWK,
  createdAt: record.createdAt,
  retiresAt: record.retiredAt,
});

/**
 * The decision-token signing keys, persisted so tokens verify across restarts.
 * The newest unretired key signs; retired keys stay in the JWKS until their last token expires.
 */
export class KeyRing {
  private records: SigningKeyRecord[] = [];

  private constructor(private readonly orm: MikroORM) {}

  /** Loads the keys, creating the first one on a fresh database. */
  static async open(orm: MikroORM): Promise<KeyRing> {
    const ring = new KeyRing(orm);
    await ring.refresh();
    if (!ring.records.some((record) => record.retiredAt === null)) await ring.rotate();
    return ring;
  }

  /** The key that signs new tokens. */
  get signingKey(): SigningKey {
    const active = this.records.filter((record) => record.retiredAt === null).at(-1);
    if (!active) throw new Error('no active signing key');
    return toSigningKey(active);
  }

  /** The public keys to publish: the active key and every retired key whose tokens may still be live. */
  jwks(now = new Date()): { keys: JWK[] } {
    const published = this.records.filter(
      (record) => record.retiredAt === null || (record.publishUntil !== null && record.publishUntil > now),
    );
    return publicJwks(published.map(toSigningKey));
  }

  /**
   * Adds a new signing key and retires the current one, which stays published until the
   * latest token issued so far has expired.
   */
  async rotate(now = new Date()): Promise<SigningKey> {
    const em = this.orm.em.fork();
    const key = await generateSigningKey(now);
    const latest = await em.findOne(
      Approval,
      { tokenExpiresAt: { $gt: now } },
      { orderBy: { tokenExpiresAt: 'desc' }, fields: ['tokenExpiresAt'] },
    );
    const publishUntil = latest?.tokenExpiresAt ?? now;
    await em.transactional(async (tx) => {
      const active = await tx.find(SigningKeyRecord, { retiredAt: null });
      for (const record of active) {
        record.retiredAt = now;
        record.publishUntil = publishUntil;
      }
      tx.persist(new SigningKeyRecord(key.kid, key.privateJwk as Record<string, unknown>, key.publicJwk as Record<string, unknown>, now));
    });
    await this.refresh();
    return key;
  }

  /**
   * Re-reads the keys, so that a rotation made by another process (`countersign keys rotate`)
   * is picked up without a restart. Returns true when the set changed.
   */
  async refresh(): Promise<boolean> {
    const records = await this.orm.em.fork().find(SigningKeyRecord, {}, { orderBy: { createdAt: 'asc' } });
    const fingerprint = (list: SigningKeyRecord[]) =>
      list.map((record) => `${record.kid}:${record.retiredAt?.getTime() ?? ''}:${record.publishUntil?.getTime() ?? ''}`).join(',');
    const changed = fingerprint(records) !== fingerprint(this.records);
    this.records = records;
    return changed;
  }
}
