import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Approval, type StoredReason } from '../db/entities/approval.entity.js';
import { AuditEvent } from '../db/entities/audit-event.entity.js';
import type { NotificationChannel } from '../db/entities/notification-channel.entity.js';
import { NotificationCursorSchema, type NotificationCursor } from '../db/entities/notification-cursor.entity.js';
import { NotificationDelivery, type NotificationDeliveryFields } from '../db/entities/notification-delivery.entity.js';
import { Vote } from '../db/entities/vote.entity.js';
import { runPreparedCounted, runPreparedEach, selectData } from '../db/fast-paths.js';
import { findData } from '../db/orm.js';
import { notificationEventsOf, type NotificationEventType } from './events.js';
import { emailMessage, inboxUrl, slackMessage, webhookBody, type ApprovalSnapshot } from './messages.js';

/** A channel as the dispatcher reads it: plain data, not a managed entity. */
export type ChannelRow = Omit<NotificationChannel, 'version'>;
type ApprovalRow = Omit<Approval, 'decisions'>;
type VoteRow = Omit<Vote, 'approval'> & { approval: string };

/** Audit events read per tenant per pass; more are read on the next pass at once. */
const EVENTS_PER_PASS = 500;

/** Pending requests read per query when looking for those entering a lead time. */
const EXPIRING_PAGE = 500;
/** How far behind the previous `approval.expiring` scan the next one reaches: longer than a commit takes. */
const EXPIRING_OVERLAP_MS = 2_000;

/** A pass lost a race with another dispatcher for a tenant's cursor; the next pass reads on. */
export class CursorMovedError extends Error {}

/**
 * The outbox side of notifications: audit events after each tenant's durable cursor become
 * delivery rows, rendered once for their channel so that every attempt sends the same bytes.
 * Everything here runs inside the dispatcher's pass transaction.
 */
export class Outbox {
  /** Per tenant and lead time: the latest expiry the last `approval.expiring` scan covered. */
  private readonly expiringScannedUntil = new Map<string, number>();
  private lastExpiringScan = Number.NEGATIVE_INFINITY;

  constructor(private readonly publicUrl: string | null) {}

  /**
   * Reads the tenant's audit events after its cursor into deliveries. Returns the channels that
   * were owed something, and whether more events are waiting.
   */
  async ingestTenant(tx: EntityManager, tenant: string, channels: ChannelRow[], now: Date): Promise<{ owed: Set<string>; more: boolean }> {
    const cursor = await readCursor(tx, tenant);
    const from = cursor?.lastSeq ?? Math.min(...channels.map((channel) => channel.startSeq));
    const events = await eventsAfter(tx, tenant, from);
    if (events.length === 0) return { owed: new Set(), more: false };
    const relevant = events.filter((event) => event.approvalId !== null && notificationEventsOf(event, true).length > 0);
    const approvals = await this.approvalsById(tx, relevant.map((event) => event.approvalId as string));
    const rows: NotificationDeliveryFields[] = [];
    for (const event of relevant) {
      const approval = approvals.get(event.approvalId as string);
      if (!approval) continue;
      for (const type of notificationEventsOf(event, approval.escalated)) {
        const snapshot = this.snapshot(approval, event.newStatus ?? approval.status, event.newStatus === 'PENDING' ? approval.requiredApprovals : 0);
        const execution = type.startsWith('execution.')
          ? { id: (event.details['executionId'] as string | undefined) ?? null, outcome: String(event.details['outcome'] ?? '') }
          : undefined;
        for (const channel of channels) {
          if (event.seq <= channel.startSeq || !channel.events.includes(type)) continue;
          rows.push(this.delivery(channel, type, `${type}:${event.id}`, event.occurredAt, snapshot, approval, now, execution));
        }
      }
    }
    await insertDeliveries(tx, rows);
    const lastSeq = (events.at(-1) as AuditEvent).seq;
    // Two dispatchers reading a tenant for the first time race to create its cursor, and any two
    // race to move it: the loser rolls back and reads on after the winner's.
    const moved = cursor ? await moveCursor(tx, tenant, cursor.lastSeq, lastSeq, now) : await createCursor(tx, tenant, lastSeq, now);
    if (!moved) throw new CursorMovedError();
    return { owed: new Set(rows.map((row) => row.channelId)), more: events.length === EVENTS_PER_PASS };
  }

  /**
   * `approval.expiring`: a pending request entering a channel's lead time, once per channel and
   * request. Returns the channels that were owed something.
   *
   * Each scan reads only the requests that entered a lead time since the scan before (per tenant
   * and lead time, remembered here), so a pass costs the new arrivals, not every pending request
   * in the window. The scan reaches a little behind the last one (EXPIRING_OVERLAP_MS): a request
   * committed just after a scan with a creation time before it is not missed. Scans run at most
   * every `intervalMs`, as the lead time is announced to that precision anyway.
   */
  async deriveExpiring(tx: EntityManager, byTenant: Map<string, ChannelRow[]>, now: Date, intervalMs: number): Promise<Set<string>> {
    const owed = new Set<string>();
    if (now.getTime() - this.lastExpiringScan < intervalMs) return owed;
    this.lastExpiringScan = now.getTime();
    for (const [tenant, channels] of byTenant) {
      const byLead = new Map<number, ChannelRow[]>();
      for (const channel of channels) {
        if (!channel.events.includes('approval.expiring')) continue;
        const leadMs = channel.expiringBeforeSeconds * 1000;
        byLead.set(leadMs, [...(byLead.get(leadMs) ?? []), channel]);
      }
      for (const [leadMs, watching] of byLead) {
        const key = `${tenant} ${leadMs}`;
        const until = now.getTime() + leadMs;
        const from = Math.max(now.getTime(), (this.expiringScannedUntil.get(key) ?? 0) - EXPIRING_OVERLAP_MS);
        for (const id of await this.announceExpiring(tx, tenant, watching, leadMs, new Date(from), new Date(until), now)) owed.add(id);
        this.expiringScannedUntil.set(key, until);
      }
    }
    return owed;
  }

  /** Writes `approval.expiring` for the pending requests of `tenant` expiring in (from, until], page by page. */
  private async announceExpiring(
    tx: EntityManager,
    tenant: string,
    watching: ChannelRow[],
    leadMs: number,
    from: Date,
    until: Date,
    now: Date,
  ): Promise<Set<string>> {
    const owed = new Set<string>();
    let after: { expiresAt: Date; id: string } | null = null;
    for (;;) {
      const range = after
        ? { $or: [{ expiresAt: { $gt: after.expiresAt, $lte: until } }, { expiresAt: after.expiresAt, id: { $gt: after.id } }] }
        : { expiresAt: { $gt: from, $lte: until } };
      const lapsing = (await findData(
        tx,
        Approval,
        { tenant, status: 'PENDING', ...range },
        { orderBy: [{ expiresAt: 'asc' }, { id: 'asc' }], limit: EXPIRING_PAGE },
      )) as ApprovalRow[];
      if (lapsing.length === 0) break;
      const keys = lapsing.map((approval) => `approval.expiring:${approval.id}`);
      const existing = (await (tx as SqlEntityManager)
        .createQueryBuilder(NotificationDelivery)
        .select(['channelId', 'eventKey'])
        .where({ channelId: { $in: watching.map((channel) => channel.id) }, eventKey: { $in: keys } })
        .execute('all')) as { channelId: string; eventKey: string }[];
      const sent = new Set(existing.map((row) => `${row.channelId} ${row.eventKey}`));
      const remaining = await this.withVotes(tx, lapsing);
      const rows: NotificationDeliveryFields[] = [];
      for (const approval of lapsing) {
        const windowStart = approval.expiresAt.getTime() - leadMs;
        const key = `approval.expiring:${approval.id}`;
        // A request whose whole life is shorter than the lead time was announced as required already.
        if (approval.createdAt.getTime() > windowStart) continue;
        const snapshot = this.snapshot(approval, 'PENDING', remaining.get(approval.id) ?? approval.requiredApprovals);
        for (const channel of watching) {
          if (sent.has(`${channel.id} ${key}`)) continue;
          rows.push(this.delivery(channel, 'approval.expiring', key, new Date(windowStart), snapshot, approval, now));
        }
      }
      await insertDeliveries(tx, rows);
      for (const row of rows) owed.add(row.channelId);
      if (lapsing.length < EXPIRING_PAGE) break;
      const last = lapsing.at(-1) as ApprovalRow;
      after = { expiresAt: last.expiresAt, id: last.id };
    }
    return owed;
  }

  private delivery(
    channel: ChannelRow,
    type: NotificationEventType,
    eventKey: string,
    occurredAt: Date,
    snapshot: ApprovalSnapshot,
    approval: ApprovalRow,
    now: Date,
    execution?: { id: string | null; outcome: string },
  ): NotificationDeliveryFields {
    const shown = channel.includeContext ? { ...snapshot, context: approval.context } : snapshot;
    const body = webhookBody(type, occurredAt, shown, execution);
    const rendered =
      channel.kind === 'WEBHOOK' ? body : channel.kind === 'SLACK' ? slackMessage(body, now) : emailMessage(body, channel.emailTo, now);
    return {
      id: `msg_${randomUUID().replaceAll('-', '')}`,
      tenant: channel.tenant,
      channelId: channel.id,
      eventKey,
      eventType: type,
      approvalId: approval.id,
      body: JSON.stringify(rendered),
      occurredAt,
      nextAttemptAt: now,
      createdAt: now,
    };
  }

  private snapshot(approval: ApprovalRow, status: string, remainingApprovals: number): ApprovalSnapshot {
    return {
      id: approval.id,
      tenant: approval.tenant,
      action: approval.action,
      resource: approval.resource,
      status,
      riskLevel: approval.riskLevel,
      riskScore: approval.riskScore,
      reasons: (approval.reasons as StoredReason[]).map(({ ruleId, message, fields }) => ({ ruleId, message, fields: fields ?? [] })),
      requiredApprovals: approval.requiredApprovals,
      remainingApprovals,
      approverRoles: approval.approverRoles,
      expiresAt: approval.expiresAt.toISOString(),
      url: inboxUrl(this.publicUrl, approval.id),
    };
  }

  private async approvalsById(tx: EntityManager, ids: string[]): Promise<Map<string, ApprovalRow>> {
    if (ids.length === 0) return new Map();
    const unique = [...new Set(ids)];
    const rows = ((await selectData(tx, Approval, 'where `id` in (select `value` from json_each(?))', [JSON.stringify(unique)])) ??
      (await findData(tx, Approval, { id: { $in: unique } }, { orderBy: [{ id: 'asc' }] }))) as ApprovalRow[];
    return new Map(rows.map((row) => [row.id, { ...row, escalated: Boolean(row.escalated) }]));
  }

  /** Approvals still needed by each pending request. */
  private async withVotes(tx: EntityManager, approvals: ApprovalRow[]): Promise<Map<string, number>> {
    const votes = (await findData(tx, Vote, { approval: { $in: approvals.map((approval) => approval.id) } }, { orderBy: [{ createdAt: 'asc' }] })) as VoteRow[];
    const remaining = new Map(approvals.map((approval) => [approval.id, approval.requiredApprovals]));
    for (const vote of votes) {
      if (vote.decision === 'APPROVE') remaining.set(vote.approval, Math.max(0, (remaining.get(vote.approval) ?? 0) - 1));
    }
    return remaining;
  }
}

/*
 * The outbox's statements. Each pass runs them for every tenant with a channel, so on SQLite they
 * are prepared statements (fast-paths.ts); with another driver they go through MikroORM.
 */

async function readCursor(tx: EntityManager, tenant: string): Promise<NotificationCursor | undefined> {
  const rows = (await selectData(tx, NotificationCursorSchema, 'where `tenant` = ?', [tenant])) ??
    (await findData(tx, NotificationCursorSchema, { tenant }, { orderBy: [{ tenant: 'asc' }] }));
  return rows[0] as NotificationCursor | undefined;
}

/** The tenant's audit events after `seq`, in order, a pass's worth. */
async function eventsAfter(tx: EntityManager, tenant: string, seq: number): Promise<AuditEvent[]> {
  const rows = (await selectData(tx, AuditEvent, 'where `tenant` = ? and `seq` > ? order by `seq` limit ?', [tenant, seq, EVENTS_PER_PASS])) ??
    (await findData(tx, AuditEvent, { tenant, seq: { $gt: seq } }, { orderBy: [{ seq: 'asc' }], limit: EVENTS_PER_PASS }));
  return rows as AuditEvent[];
}

/** Advances the tenant's cursor from `from` to `to`; false when another dispatcher moved it first. */
async function moveCursor(tx: EntityManager, tenant: string, from: number, to: number, now: Date): Promise<boolean> {
  const moved =
    (await runPreparedCounted(tx, 'update `notification_cursor` set `last_seq` = ?, `updated_at` = ? where `tenant` = ? and `last_seq` = ?', [to, now, tenant, from])) ??
    (await tx.nativeUpdate(NotificationCursorSchema, { tenant, lastSeq: from }, { lastSeq: to, updatedAt: now }));
  return moved === 1;
}

/** Creates the tenant's cursor at `to`; false when another dispatcher created it first. */
async function createCursor(tx: EntityManager, tenant: string, to: number, now: Date): Promise<boolean> {
  const fast = await runPreparedCounted(
    tx,
    'insert into `notification_cursor` (`tenant`, `last_seq`, `updated_at`) values (?, ?, ?) on conflict (`tenant`) do nothing',
    [tenant, to, now],
  );
  if (fast !== null) return fast === 1;
  const created = (await (tx as SqlEntityManager)
    .createQueryBuilder(NotificationCursorSchema)
    .insert({ tenant, lastSeq: to, updatedAt: now })
    .onConflict(['tenant'])
    .ignore()
    .execute('run')) as { affectedRows?: number };
  return created.affectedRows === 1;
}

const INSERT_DELIVERY_SQL =
  'insert into `notification_delivery` (`id`, `tenant`, `channel_id`, `event_key`, `event_type`, `approval_id`, `body`, `occurred_at`, ' +
  "`next_attempt_at`, `created_at`, `status`, `attempts`, `schedule_attempts`) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', 0, 0) " +
  'on conflict (`channel_id`, `event_key`) do nothing';

/** Inserts deliveries, skipping any (channel, event) that already has one. */
async function insertDeliveries(tx: EntityManager, rows: NotificationDeliveryFields[]): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((row) => [row.id, row.tenant, row.channelId, row.eventKey, row.eventType, row.approvalId, row.body, row.occurredAt, row.nextAttemptAt, row.createdAt]);
  if ((await runPreparedEach(tx, INSERT_DELIVERY_SQL, values)) !== null) return;
  for (let index = 0; index < rows.length; index += 100) {
    const chunk = rows.slice(index, index + 100).map((row) => ({ ...row, status: 'PENDING' as const, attempts: 0, scheduleAttempts: 0 }));
    await (tx as SqlEntityManager).createQueryBuilder(NotificationDelivery).insert(chunk).onConflict(['channelId', 'eventKey']).ignore().execute();
  }
}
