import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { CallerRevocationSchema } from '../entities/caller-revocation.entity.js';

/** A subject whose caller tokens issued at or before `revokedBefore` are refused. */
export interface Revocation {
  tenant: string;
  subject: string;
  revokedBefore: Date;
}

/** Admins' revocations of caller tokens, one row per subject (a later revocation moves it on). */
export class RevocationStore {
  constructor(private readonly orm: MikroORM) {}

  /** Records the revocation in the unit of work's transaction, past the unit of work (see transaction.ts). */
  async revoke(em: EntityManager, revocation: Revocation, revokedBy: string): Promise<void> {
    const { tenant, subject, revokedBefore } = revocation;
    const moved = await em.nativeUpdate(CallerRevocationSchema, { tenant, subject }, { revokedBefore, revokedBy });
    if (moved === 0) await em.insert(CallerRevocationSchema, { tenant, subject, revokedBefore, revokedBy });
  }

  /** Every revocation, for an instance's authenticator to refuse what another instance revoked. */
  async all(): Promise<Revocation[]> {
    const rows = await this.orm.em.fork().find(CallerRevocationSchema, {}, { disableIdentityMap: true });
    return rows.map(({ tenant, subject, revokedBefore }) => ({ tenant, subject, revokedBefore }));
  }
}
