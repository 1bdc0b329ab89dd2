import type { EntityManager, FilterQuery, MikroORM } from '@mikro-orm/core';
import type { ApprovalStatus } from '../../domain/approval-state.js';
import { Approval } from '../entities/approval.entity.js';
import { insertNew, selectRawRows, updateColumns } from '../fast-paths.js';
import { findData } from '../orm.js';

/** An approval read as plain data (see findData): every scalar field, no collections. */
export type ApprovalRow = Omit<Approval, 'decisions'>;

/** What a listing selects: all given fields must match; `requester` narrows to one requester's own. */
export interface ApprovalQuery {
  tenant: string;
  status?: ApprovalStatus | null | undefined;
  action?: string | null | undefined;
  agent?: string | null | undefined;
  sessionId?: string | null | undefined;
  requester?: string | undefined;
  escalated?: boolean | undefined;
  /** Keyset position: rows strictly older than this (createdAt, id). */
  before?: { createdAt: Date; id: string } | undefined;
}

/** What changes on an approval after its request: everything else is written once, by insert. */
const LIFE_FIELDS = ['status', 'decidedAt', 'updatedAt', 'tokenJti', 'tokenIssuedAt', 'tokenExpiresAt', 'tokenKid'] as const;

const STATUSES_SQL = 'select id, status from approval where tenant = ? and id > ? order by id limit ?';

/** Approvals: the requests, their policy decision and their status. */
export class ApprovalStore {
  constructor(private readonly orm: MikroORM) {}

  /** One approval with its votes, read outside any unit of work. */
  find(tenant: string, id: string): Promise<Approval | null> {
    return this.orm.em.fork().findOne(Approval, { id, tenant }, { populate: ['decisions'] });
  }

  /** The request `requester` made earlier with this idempotency key, with its votes. */
  findByIdempotencyKey(tenant: string, requester: string, idempotencyKey: string, em?: EntityManager): Promise<Approval | null> {
    return (em ?? this.orm.em.fork()).findOne(Approval, { tenant, requesterSubject: requester, idempotencyKey }, { populate: ['decisions'] });
  }

  /** Pending requests whose lifetime has passed at `now`, optionally of one tenant. */
  lapsed(now: Date, limit: number, tenant?: string): Promise<{ id: string; tenant: string }[]> {
    const where: FilterQuery<Approval> = { status: 'PENDING', expiresAt: { $lte: now }, ...(tenant !== undefined && { tenant }) };
    return this.orm.em.fork().find(Approval, where, { fields: ['id', 'tenant'], limit });
  }

  /**
   * Up to `limit` approvals, newest first, as plain rows rather than entities: a listing only
   * turns rows into views, and hydrating entities took most of its time.
   */
  async list(query: ApprovalQuery, limit: number): Promise<ApprovalRow[]> {
    const where: FilterQuery<Approval> = { tenant: query.tenant };
    if (query.status) where.status = query.status;
    if (query.action) where.action = query.action;
    if (query.agent) where.agent = query.agent;
    if (query.sessionId) where.sessionId = query.sessionId;
    if (query.requester !== undefined) where.requesterSubject = query.requester;
    if (query.escalated !== undefined) where.escalated = query.escalated;
    if (query.before) {
      const { createdAt, id } = query.before;
      where.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, id: { $lt: id } }];
    }
    return (await findData(this.orm.em.fork(), Approval, where, {
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      limit,
    })) as ApprovalRow[];
  }

  /** Up to `limit` of a tenant's approvals after `afterId` (in id order), with their status only. */
  async statuses(tenant: string, afterId: string, limit: number): Promise<{ id: string; status: string }[]> {
    // Raw rows: a verification reads every approval of the tenant, and entities cost most of that.
    const values = [tenant, afterId, limit];
    const rows =
      (await selectRawRows(this.orm.em, STATUSES_SQL, values)) ??
      (await this.orm.em.getConnection().execute<Record<string, unknown>[]>(STATUSES_SQL, values)).map((row: Record<string, unknown>) => [row['id'], row['status']]);
    return rows.map((row: unknown[]) => ({ id: row[0] as string, status: row[1] as string }));
  }

  /**
   * One approval with its votes, read in a unit of work's transaction to change it. It is not
   * managed: what a use case changes it writes back with {@link save}, so that no flush is needed.
   */
  load(em: EntityManager, tenant: string, id: string): Promise<Approval | null> {
    return em.findOne(Approval, { id, tenant }, { populate: ['decisions'], disableIdentityMap: true });
  }

  /**
   * Writes back the fields of its life that use cases change (status, decision time, token
   * claims) of an approval read with {@link load}, at the version it was read at.
   */
  save(em: EntityManager, approval: Approval): Promise<void> {
    return updateColumns(em, approval, LIFE_FIELDS);
  }

  /** Writes a new request in the unit of work's transaction (see insertNew). */
  insert(em: EntityManager, approval: Approval): Promise<void> {
    return insertNew(em, approval);
  }
}
