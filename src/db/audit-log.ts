import { newId } from '../domain/ids.js';
import type { EntityManager } from '@mikro-orm/core';
import { GENESIS_HASH, hashAuditEvent } from '../domain/audit-chain.js';
import { AuditEvent, type AuditEventFields } from './entities/audit-event.entity.js';
import { insertNew, runPrepared, selectInTransaction } from './fast-paths.js';

const HEAD_SQL = 'select seq, hash from audit_event where tenant = ? order by seq desc limit 1';
/** Every column of an event, in the order {@link AuditLog.append} gives them (the schema's, see AuditEventSchema). */
const INSERT_SQL =
  'insert into `audit_event` (`id`, `tenant`, `seq`, `type`, `approval_id`, `actor`, `previous_status`, `new_status`, `details`, `occurred_at`, `previous_hash`, `hash`) ' +
  'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * Appends events to each tenant's hash chain. The chain's head is read in the transaction that
 * extends it, never kept between transactions: another writer of the same database (a second
 * process, a rolled-back savepoint) can move it, and a remembered head would then fork the chain
 * or fail every later append on the `(tenant, seq)` unique index. The read is one indexed row
 * through a prepared statement.
 */
export class AuditLog {
  /**
   * @param policyRevision the revision of the policy in force, which every event records in its
   *   details (`policyRevision`) beside the context hash it concerns (`contextHash`, null when it
   *   concerns none), unless the event gives its own.
   */
  constructor(private readonly policyRevision: () => string | null = () => null) {}

  /**
   * Writes one chained event in `em`'s transaction, which must hold the write lock (the committer
   * takes it, see lockWriters) so that the head cannot move before it commits. Events are only ever
   * inserted, so they skip the unit of work where the driver allows: on better-sqlite3 one prepared
   * statement writes the row, its details as the very canonical text that was hashed (no entity is
   * made, nor are the details parsed and serialised again), so verification hashes them as stored.
   */
  async append(em: EntityManager, fields: AuditEventFields): Promise<void> {
    const head = await this.head(em, fields.tenant);
    const id = newId();
    const seq = head.seq + 1;
    const stamped = { ...fields, details: { policyRevision: this.policyRevision(), contextHash: null, ...fields.details } };
    const { hash, detailsJson } = hashAuditEvent(head.hash, { id, seq, ...stamped });
    const row = [id, stamped.tenant, seq, stamped.type, stamped.approvalId, stamped.actor, stamped.previousStatus, stamped.newStatus, detailsJson, stamped.occurredAt, head.hash, hash];
    if (await runPrepared(em, INSERT_SQL, row)) return;
    // Parsed back from the canonical text, the details' members are in canonical order, so the JSON
    // the store writes is the text that was hashed. (Member names that are array indices are the
    // exception, which JavaScript puts first: such details verify by being canonicalised again.)
    const details = JSON.parse(detailsJson) as Record<string, unknown>;
    const event = new AuditEvent({ ...stamped, details, id, seq, previousHash: head.hash, hash });
    await insertNew(em, event);
    // With a driver that has no fast path the event waits in the unit of work: write it now, so
    // that the next append in this transaction reads it as the head.
    if (em.getUnitOfWork().getPersistStack().has(event)) await em.flush();
  }

  /** The newest event of a tenant's chain as `em`'s transaction sees it. */
  async head(em: EntityManager, tenant: string): Promise<{ seq: number; hash: string }> {
    const [row] = await selectInTransaction(em, HEAD_SQL, [tenant]);
    return row ? { seq: Number(row[0]), hash: row[1] as string } : { seq: 0, hash: GENESIS_HASH };
  }
}
