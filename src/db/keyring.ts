import type { MikroORM } from '@mikro-orm/core';
import type { JWK } from 'jose';
import { generateSigningKey, publicJwks, type SigningKey } from '../domain/decision-token.js';
import { Approval } from './entities/approval.entity.js';
import { SigningKeyRecord } from './entities/signing-key.entity.js';
import { lockWriters, oneAtATime } from './orm.js';

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
  /**
   * Per key id, the latest expiry of a token this process has signed with it. A token is signed
   * before its approval commits, and another process may retire the key meanwhile, so the
   * committed approvals alone cannot say how long a retired key must stay published.
   */
  private readonly signedUntil = new Map<string, Date>();
  private generation = 0;

  private constructor(private readonly orm: MikroORM) {}

  /** Loads the keys, creating the first one on a fresh database. */
  static async open(orm: MikroORM): Promise<KeyRing> {
    const ring = new KeyRing(orm);
    // Instances starting together on a fresh shared database must agree on one first key.
    await oneAtATime(orm, 'first-signing-key', async () => {
      await ring.refresh();
      if (!ring.records.some((record) => record.retiredAt === null)) await ring.rotate();
    });
    return ring;
  }

  /** The key that signs new tokens. */
  get signingKey(): SigningKey {
    const active = this.records.filter((record) => record.retiredAt === null).at(-1);
    if (!active) throw new Error('no active signing key');
    return toSigningKey(active);
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
    return publicJwks(published.map(toSigningKey));
  }

  /**
   * Adds a new signing key and retires the current one, which stays published until the last
   * token signed with it so far (committed or still on its way to the database) has expired.
   */
  async rotate(now = new Date()): Promise<SigningKey> {
    const key = await generateSigningKey(now);
    // Store the new key first and sign with it from the moment it is read back: every token signed
    // with an old key was noted in signedUntil before that, and none is signed with it after.
    await this.orm.em
      .fork()
      .persistAndFlush(new SigningKeyRecord(key.kid, key.privateJwk as Record<string, unknown>, key.publicJwk as Record<string, unknown>, now));
    await this.refresh();
    const em = this.orm.em.fork();
    const lastToken = await em.findOne(
      Approval,
      { tokenExpiresAt: { $gt: now } },
      { orderBy: { tokenExpiresAt: 'desc' }, fields: ['tokenExpiresAt'] },
    );
    await em.transactional(async (tx) => {
      // The write lock first: a deferred transaction that reads and then writes fails at once with
      // SQLITE_BUSY when the running server committed in between, whatever the busy timeout.
      await lockWriters(tx);
      const retiring = await tx.find(SigningKeyRecord, { retiredAt: null, kid: { $ne: key.kid } });
      for (const record of retiring) {
        record.retiredAt = now;
        record.publishUntil = latest(now, lastToken?.tokenExpiresAt ?? null, this.signedUntil.get(record.kid));
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
    const records = await em.find(SigningKeyRecord, {}, { orderBy: { createdAt: 'asc' } });
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
    for (const record of extended) record.publishUntil = this.signedUntil.get(record.kid) as Date;
    if (extended.length > 0) await em.flush();
    return changed;
  }
}

/** The latest of some optional instants, or null when none is given. */
function latest(...instants: (Date | null | undefined)[]): Date | null {
  let result: Date | null = null;
  for (const instant of instants) if (instant && (result === null || instant > result)) result = instant;
  return result;
}
