import type { EntityManager, FilterQuery, MikroORM } from '@mikro-orm/core';
import type { ChainVerification, VerifiableAuditEvent } from '../../domain/audit-chain.js';
import { AuditEvent } from '../entities/audit-event.entity.js';
import { selectData, selectRawRows } from '../fast-paths.js';
import type { ColumnMatch } from './column-match.js';
import { CHAIN_COLUMNS, chainEvent } from '../chain-rows.js';
import { verifyChainInWorkers, type ParallelVerifyOptions } from '../chain-verification.js';

/** Below this many events, starting worker threads costs more than hashing on one core. */
const PARALLEL_VERIFY_FROM = 50_000;

/** Which audit events a page selects: the tenant's, matching every column given, in the time range given. */
export type AuditQuery = Pick<AuditEvent, 'tenant'> &
  ColumnMatch<AuditEvent, 'approvalId' | 'type' | 'actor'> & {
    since?: Date | null | undefined;
    until?: Date | null | undefined;
    /** Events after this position in the tenant's chain. */
    afterSeq?: number | undefined;
  };

const CHAIN_SQL = `select ${CHAIN_COLUMNS.join(', ')} from audit_event where tenant = ? and seq > ? order by seq limit ?`;

/** The audit trail as it is read: pages of events and the chain in order (written by AuditLog). */
export class AuditStore {
  constructor(private readonly orm: MikroORM) {}

  /**
   * Up to `limit` events, in chain order. On SQLite, as plain rows from a prepared statement:
   * building the query and an entity per event cost more than reading them (each filter has its
   * index, (tenant, approval_id, seq), (tenant, type, seq), (tenant, occurred_at)).
   */
  async list(query: AuditQuery, limit: number): Promise<AuditEvent[]> {
    const em = this.orm.em.fork();
    const conditions = ['`tenant` = ?'];
    const values: unknown[] = [query.tenant];
    const where = (condition: string, value: unknown): void => {
      conditions.push(condition);
      values.push(value);
    };
    if (query.approvalId) where('`approval_id` = ?', query.approvalId);
    if (query.type) where('`type` = ?', query.type);
    if (query.actor) where('`actor` = ?', query.actor);
    if (query.since) where('`occurred_at` >= ?', query.since);
    if (query.until) where('`occurred_at` < ?', query.until);
    if (query.afterSeq !== undefined) where('`seq` > ?', query.afterSeq);
    const rows = await selectData(em, AuditEvent, `where ${conditions.join(' and ')} order by \`seq\` limit ?`, [...values, limit]);
    if (rows) return rows as AuditEvent[];
    return this.find(em, query, limit);
  }

  private find(em: EntityManager, query: AuditQuery, limit: number): Promise<AuditEvent[]> {
    const where: FilterQuery<AuditEvent> = { tenant: query.tenant };
    if (query.approvalId) where.approvalId = query.approvalId;
    if (query.type) where.type = query.type;
    if (query.actor) where.actor = query.actor;
    if (query.since || query.until) {
      where.occurredAt = { ...(query.since && { $gte: query.since }), ...(query.until && { $lt: query.until }) };
    }
    if (query.afterSeq !== undefined) where.seq = { $gt: query.afterSeq };
    return em.find(AuditEvent, where, { orderBy: { seq: 'asc' }, limit });
  }

  /**
   * Up to `limit` events of a tenant's chain after `afterSeq`. On better-sqlite3 the rows come
   * from a prepared statement as arrays, skipping MikroORM's query building and a keyed object per
   * row: at a million events those were a third of the verification's time.
   */
  async chainAfter(tenant: string, afterSeq: number, limit: number): Promise<VerifiableAuditEvent[]> {
    const values = [tenant, afterSeq, limit];
    const rows = await selectRawRows(this.orm.em, CHAIN_SQL, values);
    if (rows) return rows.map(chainEvent);
    const objects = await this.orm.em.getConnection().execute<Record<string, unknown>[]>(CHAIN_SQL, values);
    return objects.map((row: Record<string, unknown>) => chainEvent(CHAIN_COLUMNS.map((column) => row[column])));
  }

  /** A tenant's chain size (its last `seq`) and head hash, as committed now. */
  async head(tenant: string): Promise<{ size: number; hash: string | null }> {
    const [row] = await this.rows('select seq, hash from audit_event where tenant = ? order by seq desc limit 1', [tenant]);
    return row ? { size: Number(row[0]), hash: row[1] as string } : { size: 0, hash: null };
  }

  /** The stored hash of event `seq` of a tenant's chain, or null when there is none. */
  async hashAt(tenant: string, seq: number): Promise<string | null> {
    const [row] = await this.rows('select hash from audit_event where tenant = ? and seq = ?', [tenant, seq]);
    return row ? (row[0] as string) : null;
  }

  /** Every tenant with an audit chain, and its size. */
  async tenantSizes(): Promise<{ tenant: string; size: number }[]> {
    const rows = await this.rows('select tenant, max(seq) from audit_event group by tenant order by tenant', []);
    return rows.map((row) => ({ tenant: row[0] as string, size: Number(row[1]) }));
  }

  /**
   * Events of a tenant's chain after `afterSeq` that give an approval a status, in chain order:
   * what state is cross-checked against when a verification did not read the events itself.
   */
  async trailStatuses(tenant: string, afterSeq: number, limit: number): Promise<{ seq: number; approvalId: string; status: string }[]> {
    const rows = await this.rows(
      'select seq, approval_id, new_status from audit_event where tenant = ? and seq > ? and approval_id is not null and new_status is not null order by seq limit ?',
      [tenant, afterSeq, limit],
    );
    return rows.map((row) => ({ seq: Number(row[0]), approvalId: row[1] as string, status: row[2] as string }));
  }

  private async rows(sql: string, values: unknown[]): Promise<unknown[][]> {
    const rows = await selectRawRows(this.orm.em, sql, values);
    if (rows) return rows;
    const objects = await this.orm.em.getConnection().execute<Record<string, unknown>[]>(sql, values);
    return objects.map((row: Record<string, unknown>) => Object.values(row));
  }

  /**
   * Verifies the tenant's whole chain on worker threads (chain-verification.ts), or returns null
   * where that does not apply: a driver other than better-sqlite3, an in-memory database (which
   * other threads cannot open) or a chain too short to gain from it.
   */
  async verifyInWorkers(tenant: string, options: ParallelVerifyOptions & { minEvents?: number } = {}): Promise<ChainVerification | null> {
    const path = this.orm.config.get('dbName');
    if (!path || path === ':memory:') return null;
    const rows = await selectRawRows(this.orm.em, 'select max(seq) from audit_event where tenant = ?', [tenant]);
    if (!rows) return null;
    const lastSeq = Number(rows[0]?.[0] ?? 0);
    if (lastSeq < (options.minEvents ?? PARALLEL_VERIFY_FROM)) return null;
    return verifyChainInWorkers(path, tenant, lastSeq, options);
  }
}
