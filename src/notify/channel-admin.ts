import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { Committer, UnitOfWork } from '../db/committer.js';
import { InvalidInputError, NotFoundError } from '../domain/errors.js';
import { Approval } from '../db/entities/approval.entity.js';
import { AuditEvent } from '../db/entities/audit-event.entity.js';
import { NotificationChannel, type NotificationChannelKind } from '../db/entities/notification-channel.entity.js';
import { NotificationAttempt } from '../db/entities/notification-attempt.entity.js';
import { NotificationDelivery } from '../db/entities/notification-delivery.entity.js';
import { insertNew } from '../db/fast-paths.js';
import { findData } from '../db/orm.js';
import { requireRole, type Caller } from '../app/caller.js';
import type { Page } from '../app/pagination.js';
import type { NotifyConfig } from './config.js';
import { deliveryWithAttempts, listDeliveries, rescheduleFromStart, type DeliveryFilter, type DeliveryView } from './delivery-admin.js';
import { urlProblem } from './destination.js';
import { channelName, eventList, KINDS, leadTime, newSigningSecret, recipients } from './channel-input.js';
import { channelSecretAad, type SecretBox } from './secret-box.js';

export type { AttemptView, DeliveryFilter, DeliveryView } from './delivery-admin.js';

/** A channel as admins see it: never its secret. */
export interface NotificationChannelView {
  id: string;
  kind: NotificationChannelKind;
  name: string;
  /** The webhook URL; for Slack only its origin (the full incoming-webhook URL is a credential). */
  url: string | null;
  emailTo: string[];
  events: string[];
  enabled: boolean;
  includeContext: boolean;
  expiringBeforeSeconds: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateChannelInput {
  kind: NotificationChannelKind;
  name: string;
  url?: string | null;
  emailTo?: readonly string[] | null;
  events: readonly string[];
  includeContext?: boolean | null;
  expiringBeforeSeconds?: number | null;
}

export interface UpdateChannelInput {
  id: string;
  name?: string | null;
  url?: string | null;
  emailTo?: readonly string[] | null;
  events?: readonly string[] | null;
  includeContext?: boolean | null;
  enabled?: boolean | null;
  expiringBeforeSeconds?: number | null;
}

/**
 * Notification channels and their deliveries, for a tenant's admins: create, change, delete,
 * rotate a webhook's signing secret, list deliveries with every attempt, replay one.
 */
export class NotificationChannels {
  constructor(
    private readonly orm: MikroORM,
    private readonly committer: Committer,
    private readonly config: NotifyConfig,
    private readonly secrets: SecretBox,
    /** Asks the dispatcher for a pass (after a replay). */
    private readonly wake: () => void = () => {},
  ) {}

  async list(caller: Caller): Promise<NotificationChannelView[]> {
    requireRole(caller, 'admin');
    const channels = await this.orm.em.fork().find(NotificationChannel, { tenant: caller.tenant }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return channels.map(channelView);
  }

  /** Creates a channel; a webhook's signing secret is returned here and never again. */
  async create(caller: Caller, input: CreateChannelInput): Promise<{ channel: NotificationChannelView; signingSecret: string | null }> {
    requireRole(caller, 'admin');
    if (!KINDS.includes(input.kind)) throw new InvalidInputError('kind', 'must be WEBHOOK, SLACK or EMAIL');
    const name = channelName(input.name);
    const events = eventList(input.events);
    const includeContext = input.includeContext === true;
    const expiringBeforeSeconds = leadTime(input.expiringBeforeSeconds, this.config.expiringBeforeSeconds);
    let url: string | null = null;
    let emailTo: string[] = [];
    let secret: string | null = null;
    let signingSecret: string | null = null;
    if (input.kind === 'EMAIL') {
      if (!this.config.smtpUrl) throw new InvalidInputError('kind', 'email channels need COUNTERSIGN_SMTP_URL set on the server');
      if (input.url) throw new InvalidInputError('url', 'an email channel has no URL; give emailTo');
      emailTo = recipients(input.emailTo);
    } else {
      const target = this.destination(input.url);
      if (input.emailTo?.length) throw new InvalidInputError('emailTo', `a ${input.kind.toLowerCase()} channel sends no email`);
      if (input.kind === 'WEBHOOK') {
        url = target;
        secret = signingSecret = newSigningSecret();
      } else {
        url = `${new URL(target).origin}/…`;
        secret = target;
      }
    }
    return this.committer.run(async (unit) => {
      const head = await unit.em.findOne(AuditEvent, { tenant: caller.tenant }, { orderBy: { seq: 'desc' }, fields: ['seq'] });
      const channel = new NotificationChannel({
        tenant: caller.tenant,
        kind: input.kind,
        name,
        url,
        emailTo,
        events,
        includeContext,
        expiringBeforeSeconds,
        sealedSecret: null,
        startSeq: head?.seq ?? 0,
      });
      if (secret !== null) channel.sealedSecret = this.secrets.seal(secret, channelSecretAad(channel.id));
      // Written past the unit of work: the flush that persist would need turns promise hooks on (see db/transaction.ts).
      await insertNew(unit.em, channel);
      await audited(unit, caller, 'notification_channel_created', { channel: auditedView(channel) });
      // The dispatcher follows the change feed of tenants with enabled channels: this may be a new one.
      unit.afterCommit(this.wake);
      return { channel: channelView(channel), signingSecret };
    });
  }

  async update(caller: Caller, input: UpdateChannelInput): Promise<NotificationChannelView> {
    requireRole(caller, 'admin');
    return this.committer.run(async (unit) => {
      const em = unit.em;
      const channel = await this.find(em, caller, input.id);
      const before = auditedView(channel);
      if (input.name !== undefined && input.name !== null) channel.name = channelName(input.name);
      if (input.events !== undefined && input.events !== null) channel.events = eventList(input.events);
      if (input.includeContext !== undefined && input.includeContext !== null) channel.includeContext = input.includeContext;
      if (input.expiringBeforeSeconds !== undefined && input.expiringBeforeSeconds !== null) {
        channel.expiringBeforeSeconds = leadTime(input.expiringBeforeSeconds, this.config.expiringBeforeSeconds);
      }
      if (input.emailTo !== undefined && input.emailTo !== null) {
        if (channel.kind !== 'EMAIL') throw new InvalidInputError('emailTo', `a ${channel.kind.toLowerCase()} channel sends no email`);
        channel.emailTo = recipients(input.emailTo);
      }
      if (input.url !== undefined && input.url !== null) {
        if (channel.kind === 'EMAIL') throw new InvalidInputError('url', 'an email channel has no URL');
        const target = this.destination(input.url);
        if (channel.kind === 'WEBHOOK') channel.url = target;
        else {
          channel.url = `${new URL(target).origin}/…`;
          channel.sealedSecret = this.secrets.seal(target, channelSecretAad(channel.id));
        }
      }
      if (input.enabled !== undefined && input.enabled !== null && input.enabled !== channel.enabled) {
        channel.enabled = input.enabled;
        // Re-enabled: events from the time it was off are not sent after the fact.
        if (channel.enabled) {
          const head = await em.findOne(AuditEvent, { tenant: caller.tenant }, { orderBy: { seq: 'desc' }, fields: ['seq'] });
          channel.startSeq = head?.seq ?? 0;
        }
      }
      channel.updatedAt = new Date();
      await audited(unit, caller, 'notification_channel_updated', { before, after: auditedView(channel) });
      unit.afterCommit(this.wake);
      return channelView(channel);
    });
  }

  /** Deletes a channel with its deliveries and their attempts. */
  async delete(caller: Caller, id: string): Promise<string> {
    requireRole(caller, 'admin');
    return this.committer.run(async (unit) => {
      const tx = unit.em;
      const channel = await this.find(tx, caller, id);
      const deliveries = await findData(tx, NotificationDelivery, { channelId: channel.id }, { orderBy: [{ id: 'asc' }] });
      const ids = deliveries.map((delivery) => delivery.id as string);
      for (let index = 0; index < ids.length; index += 500) {
        await tx.nativeDelete(NotificationAttempt, { deliveryId: { $in: ids.slice(index, index + 500) } });
      }
      await tx.nativeDelete(NotificationDelivery, { channelId: channel.id });
      tx.remove(channel);
      await audited(unit, caller, 'notification_channel_deleted', { channel: auditedView(channel), deliveriesDeleted: ids.length });
      return id;
    });
  }

  /** Replaces a webhook's signing secret; the new one is returned here and never again. */
  async rotateSecret(caller: Caller, id: string): Promise<{ channel: NotificationChannelView; signingSecret: string }> {
    requireRole(caller, 'admin');
    return this.committer.run(async (unit) => {
      const channel = await this.find(unit.em, caller, id);
      if (channel.kind !== 'WEBHOOK') throw new InvalidInputError('id', 'only webhook channels have a signing secret');
      const signingSecret = newSigningSecret();
      channel.sealedSecret = this.secrets.seal(signingSecret, channelSecretAad(channel.id));
      channel.updatedAt = new Date();
      // The event says that the secret changed, never what it is.
      await audited(unit, caller, 'notification_secret_rotated', { channel: auditedView(channel) });
      return { channel: channelView(channel), signingSecret };
    });
  }

  /** Deliveries newest first, each with its attempts. */
  deliveries(caller: Caller, filter: DeliveryFilter): Promise<Page<DeliveryView>> {
    requireRole(caller, 'admin');
    return listDeliveries(this.orm.em.fork(), caller.tenant, filter);
  }

  /** Sends a delivery again from the start of the retry schedule: a dead letter once the endpoint is back. */
  async replay(caller: Caller, id: string): Promise<DeliveryView> {
    requireRole(caller, 'admin');
    const delivery = await this.committer.run(async (unit) => {
      const found = typeof id === 'string' && id.length <= 64 ? await unit.em.findOne(NotificationDelivery, { id, tenant: caller.tenant }) : null;
      if (!found) throw new NotFoundError('NotificationDelivery', String(id));
      const previousStatus = found.status;
      rescheduleFromStart(found);
      // The event names the approval the delivery is about, and the context hash it approved.
      const approval = found.approvalId ? await unit.em.findOne(Approval, { id: found.approvalId, tenant: caller.tenant }, { fields: ['contextHash'] }) : null;
      await audited(unit, caller, 'notification_delivery_replayed', {
        deliveryId: found.id,
        channelId: found.channelId,
        eventType: found.eventType,
        previousStatus,
        contextHash: approval?.contextHash ?? null,
      }, found.approvalId);
      return found;
    });
    this.wake();
    return deliveryWithAttempts(this.orm.em.fork(), delivery);
  }

  private async find(em: EntityManager, caller: Caller, id: string): Promise<NotificationChannel> {
    const channel = typeof id === 'string' && id.length <= 64 ? await em.findOne(NotificationChannel, { id, tenant: caller.tenant }) : null;
    if (!channel) throw new NotFoundError('NotificationChannel', String(id));
    return channel;
  }

  private destination(raw: string | null | undefined): string {
    if (!raw) throw new InvalidInputError('url', 'is required for webhook and Slack channels');
    if (raw.length > 2048) throw new InvalidInputError('url', 'must be at most 2048 characters');
    const problem = urlProblem(raw, this.config.allowPrivate);
    if (problem) throw new InvalidInputError('url', problem);
    return new URL(raw).toString();
  }
}

/** A channel administration change in the tenant's audit chain, in the transaction that makes it. */
function audited(
  unit: UnitOfWork,
  caller: Caller,
  type: 'notification_channel_created' | 'notification_channel_updated' | 'notification_channel_deleted' | 'notification_secret_rotated' | 'notification_delivery_replayed',
  details: Record<string, unknown>,
  approvalId: string | null = null,
): Promise<void> {
  return unit.audit({ tenant: caller.tenant, approvalId, occurredAt: new Date(), type, actor: caller.subject, previousStatus: null, newStatus: null, details });
}

/** What the audit trail keeps of a channel: where it sends and what, never its secret. */
function auditedView(channel: NotificationChannel): Record<string, unknown> {
  const { createdAt: _createdAt, updatedAt: _updatedAt, ...view } = channelView(channel);
  return view;
}

function channelView(channel: NotificationChannel): NotificationChannelView {
  return {
    id: channel.id,
    kind: channel.kind,
    name: channel.name,
    url: channel.url,
    emailTo: channel.emailTo,
    events: channel.events,
    enabled: channel.enabled,
    includeContext: channel.includeContext,
    expiringBeforeSeconds: channel.expiringBeforeSeconds,
    createdAt: channel.createdAt,
    updatedAt: channel.updatedAt,
  };
}
