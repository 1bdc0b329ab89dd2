import { EntitySchema, type Opt } from '@mikro-orm/core';
import { BaseRecord } from './base.entity.js';

/** Where a channel sends: a signed JSON webhook, a Slack incoming webhook, or email over SMTP. */
export type NotificationChannelKind = 'WEBHOOK' | 'SLACK' | 'EMAIL';

/** The fields a channel is created with. */
export interface NotificationChannelFields {
  tenant: string;
  kind: NotificationChannelKind;
  name: string;
  /** The webhook's URL; for Slack, where the sealed incoming-webhook URL points (origin only). */
  url: string | null;
  emailTo: string[];
  events: string[];
  includeContext: boolean;
  /** How long before a pending request lapses `approval.expiring` is sent. */
  expiringBeforeSeconds: number;
  /**
   * The channel's secret sealed under the key-encryption key: the webhook's signing secret, or
   * the Slack incoming-webhook URL (which is itself a bearer credential).
   */
  sealedSecret: string | null;
  /** The tenant's audit sequence number when the channel was created: only later events reach it. */
  startSeq: number;
}

/** Where a channel's sealed secret belongs: a value copied into another row does not open there. */
export function channelSecretAad(channelId: string): string {
  return `notification_channel:${channelId}`;
}

/** The class carries the fields of {@link NotificationChannelFields} without restating them (declaration merging). */
export interface NotificationChannel extends NotificationChannelFields {}

/** One notification channel of a tenant, managed by its admins. */
export class NotificationChannel extends BaseRecord {
  enabled: boolean & Opt = true;
  version: number & Opt = 1;

  constructor(fields: NotificationChannelFields) {
    super();
    Object.assign(this, fields);
  }
}

export const NotificationChannelSchema = new EntitySchema<NotificationChannel, BaseRecord>({
  class: NotificationChannel,
  tableName: 'notification_channel',
  indexes: [{ properties: ['tenant', 'enabled'] }],
  properties: {
    tenant: { type: 'string', length: 128 },
    kind: { type: 'string', length: 16 },
    name: { type: 'string', length: 128 },
    url: { type: 'string', length: 2048, nullable: true },
    emailTo: { type: 'json' },
    events: { type: 'json' },
    includeContext: { type: 'boolean' },
    expiringBeforeSeconds: { type: 'integer' },
    sealedSecret: { type: 'text', nullable: true },
    startSeq: { type: 'integer' },
    enabled: { type: 'boolean' },
    version: { type: 'integer', version: true },
  },
});
