import type { FilterQuery, MikroORM } from '@mikro-orm/core';
import type { AuditChainEvent } from '../../domain/audit-chain.js';
import { AuditEvent } from '../entities/audit-event.entity.js';
import { selectRawRows } from '../fast-paths.js';

/** Which audit events a page selects: all given fields must match. */
export interface AuditQuery {
  tenant: string;
  approvalId?: string | null | undefined;
  type?: string | null | undefined;
  actor?: string | null | undefined;
  since?: Date | null | undefined;
  until?: Date | null | undefined;
  /** Events after this position in the tenant's chain. */
  afterSeq?: number | undefined;
}

const CHAIN_COLUMNS = [
  'id',
  'tenant',
  'seq',
  'type',
  'approval_id',
  'actor',
  'previous_status',
  'new_status',
  'details',
  'occurred_at',
  'previous_hash',
  'hash',
] as const;
const CHAIN_SQL = `select ${CHAIN_COLUMNS.join(', ')} from audit_event where tenant = ? and seq > ? order by seq limit ?`;

/** The audit trail as it is read: pages of events and the chain in order (written by AuditLog). */
export class AuditStore {
  constructor(private readonly orm: MikroORM) {}

  /** Up to `limit` events, in chain order. */
  list(query: AuditQuery, limit: number): Promise<AuditEvent[]> {
    const where: FilterQuery<AuditEvent> = { tenant: query.tenant };
    if (query.approvalId) where.approvalId = query.approvalId;
    if (query.type) where.type = query.type;
    if (query.actor) where.actor = query.actor;
    if (query.since || query.until) {
      where.occurredAt = { ...(query.since && { $gte: query.since }), ...(query.until && { $lt: query.until }) };
    }
    if (query.afterSeq !== undefined) where.seq = { $gt: query.afterSeq };
    return this.orm.em.fork().find(AuditEvent, where, { orderBy: { seq: 'asc' }, limit });
  }

  /**
   * Up to `limit` events of a tenant's chain after `afterSeq`. On better-sqlite3 the rows come
   * from a prepared statement as arrays, skipping MikroORM's query building and a keyed object per
   * row: at a million events those were a third of the verification's time.
   */
  async chainAfter(tenant: string, afterSeq: number, limit: number): Promise<AuditChainEvent[]> {
    const values = [tenant, afterSeq, limit];
    const rows = await selectRawRows(this.orm.em, CHAIN_SQL, values);
    if (rows) return rows.map(chainEvent);
    const objects = await this.orm.em.getConnection().execute<Record<string, unknown>[]>(CHAIN_SQL, values);
    return objects.map((row: Record<string, unknown>) => chainEvent(CHAIN_COLUMNS.map((column) => row[column])));
  }
}

/** A stored event from its columns, in {@link CHAIN_COLUMNS} order. */
function chainEvent(row: unknown[]): AuditChainEvent {
  const [id, tenant, seq, type, approvalId, actor, previousStatus, newStatus, details, occurredAt, previousHash, hash] = row;
  return {
    id: id as string,
    tenant: tenant as string,
    seq: Number(seq),
    type: type as string,
    approvalId: (approvalId as string | null) ?? null,
    actor: actor as string,
    previousStatus: (previousStatus as string | null) ?? null,
    newStatus: (newStatus as string | null) ?? null,
    details: typeof details === 'string' ? JSON.parse(details) : details,
    occurredAt: occurredAt instanceof Date ? occurredAt : new Date(occurredAt as number | string),
    previousHash: previousHash as string,
    hash: hash as string,
  };
}
