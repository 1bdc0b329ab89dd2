import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Approval, type StoredReason } from '../db/entities/approval.entity.js';
import { AuditEvent } from '../db/entities/audit-event.entity.js';
import type { NotificationChannel } from '../db/entities/notification-channel.entity.js';
import { NotificationCursorSchema, type NotificationCursor } from '../db/entities/notification-cursor.entity.js';
import { NotificationDelivery, type NotificationDeliveryFields } from '../db/entities/notification-delivery.entity.js';
import { Vote } from '../db/entities/vote.entity.js';
import { findData } from '../db/orm.js';
import { notificationEventsOf, type NotificationEventType } from './events.js';
import { emailMessage, inboxUrl, slackMessage, webhookBody, type ApprovalSnapshot } from './messages.js';

/** A channel as the dispatcher reads it: plain data, not a managed entity. */
export type ChannelRow = Omit<NotificationChannel, 'version'>;
type ApprovalRow = Omit<Approval, 'decisions'>;
type VoteRow = Omit<Vote, 'approval'> & { approval: string };

/** Audit events read per tenant per pass; more are read on the next pass at once. */
const EVENTS_PER_PASS = 500;

/** A pass lost a race with another dispatcher for a tenant's cursor; the next pass reads on. */
export class CursorMovedError extends Error {}

/**
 * The outbox side of notifications: audit events after each tenant's durable cursor become
 * delivery rows, rendered once for their channel so that every attempt sends the same bytes.
 * Everything here runs inside the dispatcher's pass transaction.
 */
export class Outbox {
  constructor(private readonly publicUrl: string | null) {}

  /**
   * Reads the tenant's audit events after its cursor into deliveries. Returns the channels that
   * were owed something, and whether more events are waiting.
   */
  async ingestTenant(tx: EntityManager, tenant: string, channels: ChannelRow[], now: Date): Promise<{ owed: Set<string>; more: boolean }> {
    const cursor = (await findData(tx, NotificationCursorSchema, { tenant }, { orderBy: [{ tenant: 'asc' }] }))[0] as NotificationCursor | undefined;
    const from = cursor?.lastSeq ?? Math.min(...channels.map((channel) => channel.startSeq));
    const events = (await findData(tx, AuditEvent, { tenant, seq: { $gt: from } }, { orderBy: [{ seq: 'asc' }], limit: EVENTS_PER_PASS })) as AuditEvent[];
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
    if (cursor) {
      const moved = await tx.nativeUpdate(NotificationCursorSchema, { tenant, lastSeq: cursor.lastSeq }, { lastSeq, updatedAt: now });
      if (moved !== 1) throw new CursorMovedError();
    } else {
      // Two dispatchers reading a tenant for the first time race to create its cursor: the loser
      // rolls back and reads on after the winner's, as when a cursor moved.
      const created = (await (tx as SqlEntityManager)
        .createQueryBuilder(NotificationCursorSchema)
        .insert({ tenant, lastSeq, updatedAt: now })
        .onConflict(['tenant'])
        .ignore()
        .execute('run')) as { affectedRows?: number };
      if (created.affectedRows !== 1) throw new CursorMovedError();
    }
    return { owed: new Set(rows.map((row) => row.channelId)), more: events.length === EVENTS_PER_PASS };
  }

  /**
   * `approval.expiring`: a pending request entering a channel's lead time, once per channel and
   * request. Returns the channels that were owed something.
   */
  async deriveExpiring(tx: EntityManager, byTenant: Map<string, ChannelRow[]>, now: Date): Promise<Set<string>> {
    const owed = new Set<string>();
    for (const [tenant, channels] of byTenant) {
      const watching = channels.filter((channel) => channel.events.includes('approval.expiring'));
      if (watching.length === 0) continue;
      const lead = Math.max(...watching.map((channel) => channel.expiringBeforeSeconds)) * 1000;
      const lapsing = (await findData(
        tx,
        Approval,
        { tenant, status: 'PENDING', expiresAt: { $gt: now, $lte: new Date(now.getTime() + lead) } },
        { orderBy: [{ expiresAt: 'asc' }], limit: 500 },
      )) as ApprovalRow[];
      if (lapsing.length === 0) continue;
      const keys = lapsing.map((approval) => `approval.expiring:${approval.id}`);
      const existing = (await (tx as SqlEntityManager)
        .createQueryBuilder(NotificationDelivery)
        .select(['channelId', 'eventKey'])
        .where({ channelId: { $in: watching.map((channel) => channel.id) }, eventKey: { $in: keys } })
        .execute('all')) as { channelId: string; eventKey: string }[];
      const sent = new Set(existing.map((row) => `${row.channelId} ${row.eventKey}`));
      const approvals = await this.withVotes(tx, lapsing);
      const rows: NotificationDeliveryFields[] = [];
      for (const approval of lapsing) {
        for (const channel of watching) {
          const windowStart = approval.expiresAt.getTime() - channel.expiringBeforeSeconds * 1000;
          const key = `approval.expiring:${approval.id}`;
          // A request whose whole life is shorter than the lead time was announced as required already.
          if (windowStart > now.getTime() || approval.createdAt.getTime() > windowStart || sent.has(`${channel.id} ${key}`)) continue;
          const snapshot = this.snapshot(approval, 'PENDING', approvals.get(approval.id) ?? approval.requiredApprovals);
          rows.push(this.delivery(channel, 'approval.expiring', key, new Date(windowStart), snapshot, approval, now));
        }
      }
      await insertDeliveries(tx, rows);
      for (const row of rows) owed.add(row.channelId);
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
    const rows = (await findData(tx, Approval, { id: { $in: [...new Set(ids)] } }, { orderBy: [{ id: 'asc' }] })) as ApprovalRow[];
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

/** Inserts deliveries, skipping any (channel, event) that already has one. */
async function insertDeliveries(tx: EntityManager, rows: NotificationDeliveryFields[]): Promise<void> {
  for (let index = 0; index < rows.length; index += 100) {
    const chunk = rows.slice(index, index + 100).map((row) => ({ ...row, status: 'PENDING' as const, attempts: 0, scheduleAttempts: 0 }));
    await (tx as SqlEntityManager).createQueryBuilder(NotificationDelivery).insert(chunk).onConflict(['channelId', 'eventKey']).ignore().execute();
  }
}
