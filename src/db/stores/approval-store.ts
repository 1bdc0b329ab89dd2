import { helper, ref, type EntityManager, type FilterQuery, type MikroORM } from '@mikro-orm/core';
import { Approval } from '../entities/approval.entity.js';
import { Vote } from '../entities/vote.entity.js';
import { insertNew, selectData, selectRawRows, updateColumns } from '../fast-paths.js';
import { findData } from '../orm.js';
import type { ColumnMatch } from './column-match.js';

/** An approval read as plain data (see findData): every scalar field, no collections. */
export type ApprovalRow = Omit<Approval, 'decisions'>;

/** What a listing selects: the tenant's approvals matching every column given; `requester` narrows to one requester's own. */
export type ApprovalQuery = Pick<Approval, 'tenant'> &
  ColumnMatch<Approval, 'status' | 'action' | 'agent' | 'sessionId'> & {
    requester?: string | undefined;
    escalated?: boolean | undefined;
    /** Keyset position: rows strictly older than this (createdAt, id). */
    before?: { createdAt: Date; id: string } | undefined;
  };

/** What changes on an approval after its request: everything else is written once, by insert. */
const LIFE_FIELDS = ['status', 'decidedAt', 'updatedAt', 'tokenJti', 'tokenIssuedAt', 'tokenExpiresAt', 'tokenKid'] as const;

/**
 * A tenant's approvals in creation order, keyset-paged along the (tenant, created_at, id) index:
 * paging in id order instead made the planner read the tenant's whole status index and sort it
 * for every page. Neither key ever changes, so approvals decided while the pages are read are
 * each read once.
 */
const STATUSES_FIRST_SQL = 'select id, status, created_at from approval where tenant = ? order by created_at, id limit ?';
const STATUSES_AFTER_SQL = 'select id, status, created_at from approval where tenant = ? and (created_at, id) > (?, ?) order by created_at, id limit ?';

/** Where a page of {@link ApprovalStore.statuses} ended: `createdAt` as the driver gave it. */
export interface StatusPosition {
  createdAt: unknown;
  id: string;
}

/**
 * An approval with its votes through the fast path's prepared statements (one read of each table),
 * the entity MikroORM's `findOne` with `populate: ['decisions']` gives, not managed by any
 * EntityManager: every read of an approval to show or change it is one. The rows are converted as
 * MikroORM converts them (see selectData) and the entities made by their own constructors: building
 * the ORM's query took most of a decision's time, and once that was gone, merging the rows into an
 * EntityManager (`em.map`: identity map, validation, change-set snapshots nobody flushes) took most
 * of what was left. `undefined` where there is no fast path (the caller asks MikroORM).
 */
async function withVotes(em: EntityManager, tenant: string, id: string): Promise<Approval | null | undefined> {
  const rows = await selectData(em, Approval, 'where `id` = ? and `tenant` = ?', [id, tenant]);
  if (rows === null) return undefined;
  const [row] = rows;
  if (!row) return null;
  // The collection's own order (createdAt), then the order the votes were written in.
  const votes = ((await selectData(em, Vote, 'where `approval_id` = ? order by `created_at`, rowid', [id])) ?? []) as VoteFields[];
  return approvalOf(row as ApprovalRow, votes);
}

/** A vote's stored fields, its approval as the approval's id. */
type VoteFields = Pick<Vote, 'id' | 'createdAt' | 'updatedAt' | 'approver' | 'decision' | 'comment'>;

/** The entity of a stored approval and its votes, each vote referencing it, the votes loaded. */
function approvalOf(row: ApprovalRow, voteRows: VoteFields[]): Approval {
  // Every stored field is in the row: the constructor's defaults (a new id, the time now) are overwritten.
  const approval = new Approval(row);
  const owner = ref(approval);
  const votes = voteRows.map(({ id, createdAt, updatedAt, approver, decision, comment }) => {
    const vote = new Vote(owner, approver, decision, comment);
    Object.assign(vote, { id, createdAt, updatedAt });
    return vote;
  });
  approval.decisions.hydrate(votes);
  // Serialized as an entity MikroORM read would be: with its votes (a populate marks them so), and
  // by its id where a vote refers back to it (an entity no EntityManager manages would be inlined).
  approval.decisions.populated();
  helper(approval).populated(false);
  return approval;
}

/** Approvals: the requests, their policy decision and their status. */
export class ApprovalStore {
  constructor(private readonly orm: MikroORM) {}

  /** One approval with its votes, read outside any unit of work. */
  async find(tenant: string, id: string): Promise<Approval | null> {
    const em = this.orm.em.fork();
    const read = await withVotes(em, tenant, id);
    return read !== undefined ? read : em.findOne(Approval, { id, tenant }, { populate: ['decisions'] });
  }

  /** The request `requester` made earlier with this idempotency key, with its votes. */
  findByIdempotencyKey(tenant: string, requester: string, idempotencyKey: string, em?: EntityManager): Promise<Approval | null> {
    return (em ?? this.orm.em.fork()).findOne(Approval, { tenant, requesterSubject: requester, idempotencyKey }, { populate: ['decisions'] });
  }

  /**
   * Pending requests whose lifetime has passed at `now`, optionally of one tenant. Every listing
   * asks first, and almost always finds none: on SQLite it is a prepared statement on the
   * (status, expires_at) index rather than a query MikroORM builds each time.
   */
  async lapsed(now: Date, limit: number, tenant?: string): Promise<{ id: string; tenant: string }[]> {
    const em = this.orm.em.fork();
    const sql = `select id, tenant from approval where status = 'PENDING' and expires_at <= ?${tenant !== undefined ? ' and tenant = ?' : ''} limit ?`;
    const values = [now, ...(tenant !== undefined ? [tenant] : []), limit];
    const rows = await selectRawRows(em, sql, values);
    if (rows) return rows.map((row) => ({ id: row[0] as string, tenant: row[1] as string }));
    const where: FilterQuery<Approval> = { status: 'PENDING', expiresAt: { $lte: now }, ...(tenant !== undefined && { tenant }) };
    return em.find(Approval, where, { fields: ['id', 'tenant'], limit });
  }

  /**
   * Up to `limit` approvals, newest first, as plain rows rather than entities: a listing only
   * turns rows into views, and hydrating entities took most of its time. On SQLite the rows come
   * from a prepared statement (building the query in MikroORM cost more than running it), and the
   * keyset position is one row-value comparison, which the (tenant, status, created_at, id) and
   * (tenant, created_at, id) indexes answer in order without sorting.
   */
  async list(query: ApprovalQuery, limit: number): Promise<ApprovalRow[]> {
    const em = this.orm.em.fork();
    const conditions = ['`tenant` = ?'];
    const values: unknown[] = [query.tenant];
    const match = (column: string, value: unknown): void => {
      conditions.push(`\`${column}\` = ?`);
      values.push(value);
    };
    if (query.status) match('status', query.status);
    if (query.action) match('action', query.action);
    if (query.agent) match('agent', query.agent);
    if (query.sessionId) match('session_id', query.sessionId);
    if (query.requester !== undefined) match('requester_subject', query.requester);
    if (query.escalated !== undefined) match('escalated', query.escalated ? 1 : 0);
    if (query.before) {
      conditions.push('(`created_at`, `id`) < (?, ?)');
      values.push(query.before.createdAt, query.before.id);
    }
    const tail = `where ${conditions.join(' and ')} order by \`created_at\` desc, \`id\` desc limit ?`;
    const rows = await selectData(em, Approval, tail, [...values, limit]);
    if (rows) return rows as ApprovalRow[];

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
    return (await findData(em, Approval, where, {
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      limit,
    })) as ApprovalRow[];
  }

  /**
   * Up to `limit` of a tenant's approvals after `after` (in creation order; from the first when
   * null), with their status only, and where the page ended.
   */
  async statuses(tenant: string, after: StatusPosition | null, limit: number): Promise<{ approvals: { id: string; status: string }[]; end: StatusPosition | null }> {
    // Raw rows: a verification reads every approval of the tenant, and entities cost most of that.
    const [sql, values] = after ? [STATUSES_AFTER_SQL, [tenant, after.createdAt, after.id, limit]] : [STATUSES_FIRST_SQL, [tenant, limit]];
    const rows =
      (await selectRawRows(this.orm.em, sql, values)) ??
      (await this.orm.em.getConnection().execute<Record<string, unknown>[]>(sql, values)).map((row: Record<string, unknown>) => [row['id'], row['status'], row['created_at']]);
    const last = rows.at(-1);
    return {
      approvals: rows.map((row: unknown[]) => ({ id: row[0] as string, status: row[1] as string })),
      end: last ? { createdAt: last[2], id: last[0] as string } : null,
    };
  }

  /**
   * One approval with its votes, read in a unit of work's transaction to change it. It is not
   * managed: what a use case changes it writes back with {@link save}, so that no flush is needed.
   */
  async load(em: EntityManager, tenant: string, id: string): Promise<Approval | null> {
    const read = await withVotes(em, tenant, id);
    return read !== undefined ? read : em.findOne(Approval, { id, tenant }, { populate: ['decisions'], disableIdentityMap: true });
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
