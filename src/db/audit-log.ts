import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { auditEventHash, GENESIS_HASH } from '../domain/audit-chain.js';
import { AuditEvent, type AuditEventFields } from './entities/audit-event.entity.js';
import { insertNew } from './orm.js';

interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Appends events to each tenant's hash chain. This process is the only writer of the database
 * (SQLite, one committer), so the chain heads are kept in memory after their first read and the
 * chain is extended without a read per event. A batch that fails to commit restores the heads.
 */
export class AuditLog {
  private readonly heads = new Map<string, ChainHead>();

  /**
   * Writes one chained event in `em`'s transaction; it commits with the rest of the unit of work.
   * Events are only ever inserted, so they skip the unit of work where the driver allows.
   */
  async append(em: EntityManager, fields: AuditEventFields): Promise<AuditEvent> {
    const head = this.heads.get(fields.tenant) ?? (await this.readHead(em, fields.tenant));
    const id = randomUUID();
    const seq = head.seq + 1;
    const hash = auditEventHash(head.hash, { id, seq, ...fields });
    const event = new AuditEvent({ ...fields, id, seq, previousHash: head.hash, hash });
    await insertNew(em, event);
    this.heads.set(fields.tenant, { seq, hash });
    return event;
  }

  /**
   * Drops the cached heads, so that the next append reads each tenant's head in its transaction:
   * for a database other instances write too, once the writer lock is held (see lockWriters).
   */
  forgetHeads(): void {
    this.heads.clear();
  }

  /** The heads as they are now, to restore when a batch does not commit. */
  checkpoint(): Map<string, ChainHead> {
    return new Map(this.heads);
  }

  restore(checkpoint: Map<string, ChainHead>): void {
    this.heads.clear();
    for (const [tenant, head] of checkpoint) this.heads.set(tenant, head);
  }

  private async readHead(em: EntityManager, tenant: string): Promise<ChainHead> {
    const last = await em.findOne(AuditEvent, { tenant }, { orderBy: { seq: 'desc' }, fields: ['seq', 'hash'] });
    return last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
  }
}
